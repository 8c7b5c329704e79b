import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, type CommandResult } from '../../../runner/command.js';
import { UserError } from '../../../runner/errors.js';
import { log } from '../../../runner/log.js';
import type { OneOff } from '../../hooks.js';
import { NginxRouter, NginxRouting } from '../../routers/nginx.js';
import {
  COLORS,
  type Color,
  type ColorStatus,
  type DeployState,
  type LockAttempt,
  type LockInfo,
  type Release,
  type RouteTiming,
  type RouteUpdate,
  type Target,
  holderName,
  pinnedImage,
} from '../../target.js';

/** `registry/repo` of `registry/repo:tag` (a registry port is not a tag). */
const repositoryOf = (image: string): string => image.split('@')[0].replace(/:[^:/]+$/, '');

export interface DockerTargetOptions {
  app: string;
  docker: string;
  ports: Record<Color, number>;
  /** `host`: the container listens on its colour's port itself; `bridge`: that port is published to `containerPort`. */
  network: 'host' | 'bridge';
  containerPort: number;
  /** Where the colours' ports are reached from here (checks) and from nginx (upstream). */
  host: string;
  /** Environment for the container; `${PORT}`, `${COLOR}` and `${VERSION}` are filled in. */
  env: Record<string, string>;
  args: string[];
  pull: 'missing' | 'always' | 'never';
  pullTimeoutMs: number;
  router: NginxRouter;
}

interface Inspect {
  Id: string;
  Image: string;
  Config: { Image: string; Labels: Record<string, string> | null };
  State: { Status: string; ExitCode: number; Restarting: boolean };
  RestartCount: number;
}

const LABEL = 'go-ship.deploy';

/**
 * Two containers, `<app>-blue` and `<app>-green`, on a Docker host (local, or remote through
 * DOCKER_HOST, ssh:// included, since every call goes through the docker CLI), behind nginx.
 * Versions live in container labels; the lock is a container name, which the engine creates
 * atomically: the second `docker create` of the same name fails.
 */
export class DockerTarget implements Target {
  private readonly routing: NginxRouting;

  constructor(readonly opts: DockerTargetOptions) {
    this.routing = new NginxRouting(opts.router, {
      server: (color) => `${opts.host}:${opts.ports[color]}`,
      releaseOf: async (color) => {
        const c = await this.inspect(this.name(color));
        return c?.Config.Labels?.[`${LABEL}.image`] ?? c?.Config.Image;
      },
    });
  }

  describe(): string {
    const where = process.env.DOCKER_HOST
      ? `Docker host ${process.env.DOCKER_HOST}`
      : 'the local Docker engine';
    return `${where}, behind ${this.opts.router.describe()}`;
  }

  name(color: Color | 'lock'): string {
    return color === 'lock' ? `${this.opts.app}-deploy-lock` : `${this.opts.app}-${color}`;
  }

  private docker(args: string[], opts: { check?: boolean; timeoutMs?: number } = {}): Promise<CommandResult> {
    return runCommand(this.opts.docker, args, { check: opts.check, timeoutMs: opts.timeoutMs ?? 120_000 });
  }

  private async inspect(name: string): Promise<Inspect | undefined> {
    const r = await this.docker(['container', 'inspect', name], { check: false });
    if (r.code !== 0) {
      if (/no such (container|object)/i.test(r.stderr)) return undefined;
      throw new UserError(
        `\`${r.display}\` failed: ${r.stderr.trim()}\nIs the Docker engine reachable (DOCKER_HOST=${process.env.DOCKER_HOST ?? 'unset'})?`,
      );
    }
    return (JSON.parse(r.stdout) as Inspect[])[0];
  }

  async read(): Promise<DeployState> {
    const colors = {} as Record<Color, ColorStatus>;
    for (const color of COLORS) {
      const c = await this.inspect(this.name(color));
      const labels = c?.Config.Labels ?? {};
      colors[color] = {
        color,
        state: !c
          ? 'absent'
          : c.State.Status === 'running' && c.RestartCount === 0 && !c.State.Restarting
            ? 'running'
            : c.State.Status === 'exited' && (c.State.ExitCode === 0 || c.State.ExitCode === 143)
              ? 'stopped'
              : c.State.Status === 'created'
                ? 'stopped'
                : 'crashed',
        image: labels[`${LABEL}.image`] ?? c?.Config.Image,
        version: labels[`${LABEL}.version`] || undefined,
        deployedAt: labels[`${LABEL}.at`],
      };
    }
    const route = await this.routing.read();
    const lock = await this.inspect(this.name('lock'));
    return {
      history: route?.history ?? [],
      canary: route?.canary,
      live: route?.live,
      previous: route?.previous,
      switchedAt: route?.switchedAt,
      colors,
      lock: lock ? lockInfo(lock) : undefined,
    };
  }

  async tryLock(holder: string, ttlMs: number, image?: string): Promise<LockAttempt> {
    const name = this.name('lock');
    const known = image ? undefined : (await this.read()).colors;
    const lockImage = image ?? known?.blue.image ?? known?.green.image;
    if (!lockImage) throw new UserError('Cannot take the deploy lock: no image is known on this host yet.');
    for (let attempt = 0; attempt < 2; attempt++) {
      const now = Date.now();
      const r = await this.docker(
        [
          'create',
          '--name',
          name,
          '--label',
          `${LABEL}.app=${this.opts.app}`,
          '--label',
          `${LABEL}.lock.holder=${holder}`,
          '--label',
          `${LABEL}.lock.since=${new Date(now).toISOString()}`,
          '--label',
          `${LABEL}.lock.expires=${new Date(now + ttlMs).toISOString()}`,
          // Never started: only its name matters. An entrypoint keeps images without CMD acceptable.
          '--entrypoint',
          '/go-ship-deploy-lock',
          lockImage,
        ],
        { check: false },
      );
      if (r.code === 0) {
        const id = r.stdout.trim();
        return {
          acquired: true,
          release: async () => void (await this.docker(['rm', '-f', id], { check: false })),
        };
      }
      if (!/already in use|Conflict/i.test(r.stderr))
        throw new UserError(`Cannot take the deploy lock: \`${r.display}\` failed: ${r.stderr.trim()}`);
      const held = await this.inspect(name);
      if (!held) continue; // released between the two calls
      const info = lockInfo(held);
      if (info.expires && Date.parse(info.expires) < Date.now()) {
        log.warning(`Breaking an expired deploy lock held by ${info.holder} since ${info.since}.`);
        // By id: a lock someone takes right after this one is not removed by mistake.
        await this.docker(['rm', '-f', held.Id], { check: false });
        continue;
      }
      return { acquired: false, held: info };
    }
    throw new UserError(`Cannot take the deploy lock ${name}: it keeps changing hands; try again.`);
  }

  async prepare(release: Release): Promise<void> {
    const present = (await this.docker(['image', 'inspect', release.image], { check: false })).code === 0;
    if (this.opts.pull === 'never' || (present && this.opts.pull === 'missing')) {
      if (!present)
        throw new UserError(
          `Image ${release.image} is not on the Docker host and pull is \`never\`. Load it first or set pull: missing.`,
        );
      return;
    }
    const r = await this.docker(['pull', '-q', release.image], {
      check: false,
      timeoutMs: this.opts.pullTimeoutMs,
    });
    if (r.code !== 0)
      throw new UserError(
        `Cannot pull ${release.image}: ${(r.stderr || r.stdout).trim()}${r.timedOut ? ' (pull-timeout)' : ''}\nCheck the image name and that the Docker host is logged in to its registry.`,
      );
  }

  async runs(status: ColorStatus, release: Release): Promise<boolean> {
    if (status.state !== 'running' || status.image !== release.image) return false;
    const c = await this.inspect(this.name(status.color));
    const img = await this.docker(['image', 'inspect', '--format', '{{.Id}}', release.image], {
      check: false,
    });
    return !!c && img.code === 0 && c.Image === img.stdout.trim();
  }

  /**
   * Runs `fn` with a 0600 file holding the colour's environment (`${PORT}`, `${COLOR}` and
   * `${VERSION}` filled in): values go through a file, not argv, so secrets in `env` never show in `ps`.
   */
  private async withEnvFile<T>(color: Color, release: Release, fn: (file: string) => Promise<T>): Promise<T> {
    const port = this.opts.ports[color];
    const dir = mkdtempSync(join(tmpdir(), 'go-ship-env-'));
    const envFile = join(dir, 'env');
    const env: Record<string, string> = {
      PORT: this.opts.network === 'host' ? String(port) : String(this.opts.containerPort),
      ...Object.fromEntries(Object.entries(this.opts.env).map(([k, v]) => [k, this.fill(color, release, v)])),
    };
    writeFileSync(
      envFile,
      Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n') + '\n',
      { mode: 0o600 },
    );
    chmodSync(envFile, 0o600);
    try {
      return await fn(envFile);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** `${PORT}`, `${COLOR}` and `${VERSION}` in an argument or an environment value, filled in. */
  private fill(color: Color, release: Release, arg: string): string {
    const vars: Record<string, string> = {
      PORT: String(this.opts.ports[color]),
      COLOR: color,
      VERSION: release.version ?? '',
    };
    return arg.replace(/\$\{(PORT|COLOR|VERSION)\}/g, (_, k: string) => vars[k]);
  }

  async start(color: Color, release: Release): Promise<void> {
    const name = this.name(color);
    await this.docker(['rm', '-f', name], { check: false });
    const port = this.opts.ports[color];
    await this.withEnvFile(color, release, async (envFile) => {
      const r = await this.docker(
        [
          'run',
          '--detach',
          '--name',
          name,
          '--label',
          `${LABEL}.app=${this.opts.app}`,
          '--label',
          `${LABEL}.color=${color}`,
          '--label',
          `${LABEL}.image=${release.image}`,
          '--label',
          `${LABEL}.version=${release.version ?? ''}`,
          '--label',
          `${LABEL}.at=${new Date().toISOString()}`,
          '--label',
          `${LABEL}.by=${holderName()}`,
          '--restart',
          'unless-stopped',
          '--env-file',
          envFile,
          ...(this.opts.network === 'host'
            ? ['--network', 'host']
            : ['--publish', `${this.opts.host}:${port}:${this.opts.containerPort}`]),
          release.image,
          ...this.opts.args.map((a) => this.fill(color, release, a)),
        ],
        { check: false },
      );
      if (r.code !== 0)
        throw new UserError(`Cannot start ${name} from ${release.image}: ${(r.stderr || r.stdout).trim()}`);
    });
  }

  /**
   * A container from the new image with the colour's environment and network, publishing nothing,
   * removed when it ends; stopped (and removed) when it outlives `timeoutMs`.
   */
  async runOnce(color: Color, release: Release, args: string[], timeoutMs: number): Promise<OneOff> {
    const name = `${this.opts.app}-before-traffic`;
    // A container left by a run that was killed would make this name taken.
    await this.docker(['rm', '-f', name], { check: false });
    return this.withEnvFile(color, release, async (envFile) => {
      const r = await this.docker(
        [
          'run',
          '--rm',
          '--name',
          name,
          '--label',
          `${LABEL}.app=${this.opts.app}`,
          '--label',
          `${LABEL}.hook=before-traffic`,
          '--env-file',
          envFile,
          ...(this.opts.network === 'host' ? ['--network', 'host'] : []),
          release.image,
          ...args.map((a) => this.fill(color, release, a)),
        ],
        { check: false, timeoutMs },
      );
      // Stopping the docker CLI does not stop its container.
      if (r.timedOut) await this.docker(['rm', '-f', name], { check: false });
      return {
        where: `a container from ${release.image}`,
        code: r.code,
        timedOut: r.timedOut,
        output: r.stdout + r.stderr,
      };
    });
  }

  /** The registry digest of the colour's image: the one it was deployed by, or the engine's RepoDigests for it. */
  async digestOf(color: Color): Promise<string | undefined> {
    const c = await this.inspect(this.name(color));
    if (!c) return undefined;
    const deployed = c.Config.Labels?.[`${LABEL}.image`] ?? c.Config.Image;
    if (pinnedImage(deployed)) return deployed;
    const r = await this.docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', c.Image], {
      check: false,
    });
    let digests: unknown;
    try {
      digests = JSON.parse(r.stdout);
    } catch {
      return undefined;
    }
    const repo = repositoryOf(deployed);
    const all = Array.isArray(digests) ? digests.filter(pinnedImage) : [];
    return all.find((d) => d.split('@')[0] === repo) ?? all[0];
  }

  async resume(color: Color): Promise<void> {
    await this.docker(['start', this.name(color)]);
  }

  async crashed(color: Color): Promise<string | undefined> {
    const c = await this.inspect(this.name(color));
    if (!c) return `${this.name(color)} is gone`;
    if (c.State.Status === 'running' && c.RestartCount === 0 && !c.State.Restarting) return undefined;
    if (c.State.Status === 'created') return undefined;
    const logs = await this.docker(['logs', '--tail', '15', this.name(color)], { check: false });
    const tail = (logs.stdout + logs.stderr).trim();
    return `${this.name(color)} ${c.State.Status === 'running' || c.State.Restarting ? `keeps restarting (${c.RestartCount} restarts, last exit code ${c.State.ExitCode})` : `exited with code ${c.State.ExitCode}`}${tail ? `; its last log lines:\n${tail}` : ''}`;
  }

  endpoint(color: Color): string {
    return `http://${this.opts.host}:${this.opts.ports[color]}`;
  }

  route(color: Color, state: RouteUpdate): Promise<RouteTiming> {
    return this.routing.route(color, state);
  }

  weigh(canary: Color, percent: number, state: RouteUpdate): Promise<RouteTiming> {
    return this.routing.weigh(canary, percent, state);
  }

  routeSnapshot(): Promise<unknown> {
    return this.routing.routeSnapshot();
  }

  unroute(snapshot: unknown): Promise<void> {
    return this.routing.unroute(snapshot);
  }

  async stop(color: Color, drainMs: number): Promise<void> {
    const seconds = String(Math.max(1, Math.ceil(drainMs / 1000)));
    await this.docker(['stop', '--time', seconds, this.name(color)], {
      check: false,
      timeoutMs: drainMs + 60_000,
    });
  }
}

/** Who holds a lock container, from the labels `tryLock` gave it. */
function lockInfo(c: Inspect): LockInfo {
  const l = c.Config.Labels ?? {};
  return {
    holder: l[`${LABEL}.lock.holder`] ?? 'unknown',
    since: l[`${LABEL}.lock.since`] ?? '?',
    expires: l[`${LABEL}.lock.expires`] ?? '',
  };
}
