import { shellQuote as q } from '../../../runner/command.js';
import { UserError } from '../../../runner/errors.js';
import { log } from '../../../runner/log.js';
import type { OneOff } from '../../hooks.js';
import { NginxRouter, NginxRouting, ShellNginx } from '../../routers/nginx.js';
import {
  COLORS,
  type Color,
  type ColorStatus,
  type DeployState,
  type LockAttempt,
  type Release,
  type RouteTiming,
  type RouteUpdate,
  type Target,
} from '../../target.js';
import { RestartRouting } from './restart.js';
import type { SshFleet, SshHost } from './ssh.js';

/** A build of the app for one platform (`linux/amd64`), as build-matrix recorded it. */
export interface Build {
  sha256: string;
  data: Buffer;
}

export interface HostOptions {
  app: string;
  /** The user's own template unit (systemd-unit), installed instead of go-ship's. */
  unit?: string;
  /** The binary's file name in each release folder. */
  binaryName: string;
  /** Where releases live on the server: `<dir>/releases/<version>/`, `<dir>/blue` and `<dir>/green` link to one. */
  dir: string;
  ports: Record<Color, number>;
  /** Environment of the service; `${PORT}`, `${COLOR}` and `${VERSION}` are filled in. */
  env: Record<string, string>;
  /** Arguments of the binary; systemd fills in `${PORT}`, `${COLOR}` and `${VERSION}`. */
  args: string[];
  /** The builds this deploy can upload, by platform; a rollback uploads nothing. */
  builds: Map<string, Build>;
  /** Releases kept on each server (the live ones always are). */
  keep: number;
  drainMs: number;
  /**
   * `nginx`: both colours run, on two ports, and the server's nginx moves between them. `restart`:
   * the service owns its port, one colour runs at a time (a gap while it restarts).
   */
  switchBy: 'nginx' | 'restart';
  /** The server's nginx, with switchBy: nginx. */
  nginx?: { upstreamFile: string; upstreamName: string; conf?: string; binary: string };
  /** The server's own entry (its nginx) as the server reaches it, checked after its switch. */
  entry: { host: string; port: number; path: string };
}

/** What the release id means on a server: the version's folder under `<dir>/releases/`. */
export const releaseId = (version: string): string => `release:${version}`;
const versionOf = (image: string | undefined) => image?.replace(/^release:/, '');

/** A version as a folder name: what Go's module versions and build-matrix's versions are. */
const SAFE_VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,127}$/;

/**
 * One server: two systemd instances of a template unit, `<app>@blue` and `<app>@green`, each
 * running the release its `<dir>/<colour>` link points at, behind the server's own nginx (the
 * Docker target's router, driven over SSH). The state is on the server: the links, the units, the
 * upstream file and a lock folder, so a re-run from anywhere sees the same truth.
 */
export class HostTarget implements Target {
  private readonly routing: NginxRouting | RestartRouting;
  private readonly sh: (script: string, input?: Buffer) => ReturnType<SshFleet['run']>;
  /** Bytes uploaded to this server by this run (a rollback sends none). */
  uploaded = 0;
  private platform?: string;
  private readonly tunnels: Partial<Record<Color, number>> = {};
  private entryPort?: number;
  /** The binary's name in each release this run prepared, by version. */
  private readonly names = new Map<string, string>();

  constructor(
    private readonly ssh: SshFleet,
    readonly host: SshHost,
    readonly opts: HostOptions,
  ) {
    this.sh = (script, input) => ssh.run(host, script, { input });
    const releaseOf = async (color: Color) => {
      const version = await this.linkOf(color);
      return version && releaseId(version);
    };
    this.routing =
      opts.switchBy === 'restart' || !opts.nginx
        ? new RestartRouting(ssh, host, {
            dir: opts.dir,
            unit: (c) => this.unit + c,
            port: opts.ports.blue,
            releaseOf,
          })
        : new NginxRouting(
            new NginxRouter({
              upstreamFile: opts.nginx.upstreamFile,
              upstreamName: opts.nginx.upstreamName,
              conf: opts.nginx.conf,
              nginx: opts.nginx.binary,
              host: new ShellNginx(this.sh, host.label, opts.nginx.binary),
            }),
            { server: (color) => `${this.address()}:${opts.ports[color]}`, releaseOf },
          );
  }

  describe(): string {
    const how =
      this.routing instanceof RestartRouting ? this.routing.describe() : this.routing.router.describe();
    return `${this.host.label} (systemd ${this.opts.app}@blue/green, ${how})`;
  }

  /** With switchBy: restart, how long the service was down in this run's last switch. */
  restartGapMs(): number | undefined {
    return this.routing instanceof RestartRouting ? this.routing.gapMs : undefined;
  }

  /** The address the colours listen on and nginx reaches them at: the server's own loopback. */
  private address(): string {
    return '127.0.0.1';
  }

  /**
   * Local ports forwarded to each colour through the SSH connection, opened once connected: the
   * engine checks a colour from the runner without its port being open to the network.
   */
  async openTunnels(): Promise<void> {
    for (const c of COLORS) this.tunnels[c] ??= await this.ssh.tunnel(this.host, this.opts.ports[c]);
    this.entryPort ??= await this.ssh.tunnel(this.host, this.opts.entry.port, this.opts.entry.host);
  }

  /**
   * This server's own entry, through the SSH connection: what the engine confirms and verifies
   * through after switching this server (the fleet's public URL answers from every server).
   */
  entry(): string {
    if (!this.entryPort) throw new Error(`${this.host.label}: the entry tunnel was not opened (openTunnels)`);
    return `http://127.0.0.1:${this.entryPort}${this.opts.entry.path}`;
  }

  private get unit(): string {
    return `${this.opts.app}@`;
  }

  /** `linux/amd64`, asked of the server once (`uname -sm`), as `go tool dist list` names it. */
  async platformOf(): Promise<string> {
    if (this.platform) return this.platform;
    const [out, range = ''] = (
      await this.ssh.must(
        this.host,
        'uname -sm',
        'uname -sm; cat /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null',
      )
    )
      .trim()
      .split('\n');
    this.warnEphemeral(range);
    const [os, machine] = out.trim().split(/\s+/);
    const arch: Record<string, string> = {
      x86_64: 'amd64',
      aarch64: 'arm64',
      arm64: 'arm64',
      armv7l: 'arm',
      armv6l: 'arm',
      i686: '386',
      i386: '386',
      ppc64le: 'ppc64le',
      s390x: 's390x',
      riscv64: 'riscv64',
    };
    if (!arch[machine])
      throw new UserError(
        `${this.host.label} says \`uname -sm\` is \`${out}\`: go-ship knows no Go GOARCH for ${machine}.`,
      );
    this.platform = `${os.toLowerCase()}/${arch[machine]}`;
    return this.platform;
  }

  /**
   * A colour port inside the server's ephemeral range can be held by an outgoing connection (nginx
   * to an upstream, an SSH forward) at the moment the colour starts: `address already in use`.
   */
  private warnEphemeral(range: string): void {
    const [lo, hi] = range.trim().split(/\s+/).map(Number);
    if (!(lo > 0 && hi >= lo)) return;
    const inside = [...new Set(COLORS.map((c) => this.opts.ports[c]))].filter((p) => p >= lo && p <= hi);
    if (inside.length)
      log.warning(
        `${this.host.label}: port ${inside.join(' and ')} is in the server's ephemeral range (${lo}-${hi}, net.ipv4.ip_local_port_range), which outgoing connections take ports from; a colour can then fail to start with "address already in use". Pick blue-port and green-port below ${lo}.`,
      );
  }

  private async linkOf(color: Color): Promise<string | undefined> {
    const r = await this.sh(`readlink ${q(`${this.opts.dir}/${color}`)}`);
    return r.code === 0 ? r.stdout.trim().replace(/^releases\//, '') || undefined : undefined;
  }

  async read(): Promise<DeployState> {
    const d = this.opts.dir;
    const script = [
      ...COLORS.map(
        (c) =>
          `printf 'color ${c} %s %s %s\\n' "$(systemctl show -p ActiveState --value ${q(this.unit + c)} 2>/dev/null)" "$(systemctl show -p NRestarts --value ${q(this.unit + c)} 2>/dev/null)" "$(readlink ${q(`${d}/${c}`)} 2>/dev/null)"`,
      ),
      `[ -f ${q(`${d}/.lock/info`)} ] && sed 's/^/lock /' ${q(`${d}/.lock/info`)}`,
      'true',
    ].join('\n');
    const out = await this.ssh.must(this.host, 'Reading the deploy state', script);
    const colors = {} as Record<Color, ColorStatus>;
    for (const c of COLORS) {
      const [, , active = '', restarts = '0', link = ''] =
        out
          .split('\n')
          .find((l) => l.startsWith(`color ${c} `))
          ?.split(' ') ?? [];
      const version = link.replace(/^releases\//, '') || undefined;
      colors[c] = {
        color: c,
        state: !version
          ? 'absent'
          : active === 'active' && restarts === '0'
            ? 'running'
            : active === 'failed' || (active === 'activating' && restarts !== '0')
              ? 'crashed'
              : active === 'active' || active === 'activating'
                ? 'running'
                : 'stopped',
        image: version && releaseId(version),
        version,
      };
    }
    const lockLines = out
      .split('\n')
      .filter((l) => l.startsWith('lock '))
      .map((l) => l.slice(5));
    const route = await this.routing.read();
    return {
      history: route?.history ?? [],
      canary: route?.canary,
      live: route?.live,
      previous: route?.previous,
      switchedAt: route?.switchedAt,
      colors,
      lock: lockLines.length
        ? { holder: lockLines[0] ?? 'unknown', since: lockLines[1] ?? '?', expires: lockLines[2] ?? '' }
        : undefined,
    };
  }

  /** A folder made with mkdir, which is atomic on the server; an expired one is broken once. */
  async tryLock(holder: string, ttlMs: number): Promise<LockAttempt> {
    const lock = `${this.opts.dir}/.lock`;
    const write = (expires: number) =>
      `printf '%s\\n%s\\n%s\\n' ${q(holder.replace(/\n/g, ' '))} ${q(new Date().toISOString())} ${q(new Date(expires).toISOString())} > ${q(`${lock}/info`)}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = await this.sh(
        `mkdir -p ${q(this.opts.dir)} && if mkdir ${q(lock)} 2>/dev/null; then ${write(Date.now() + ttlMs)} && echo acquired; else cat ${q(`${lock}/info`)} 2>/dev/null; fi`,
      );
      if (r.code !== 0)
        throw new UserError(`Cannot take the deploy lock on ${this.host.label}: ${r.stderr.trim()}`);
      if (r.stdout.trim() === 'acquired')
        return {
          acquired: true,
          release: async () => void (await this.sh(`rm -rf ${q(lock)}`)),
          renew: async () => void (await this.sh(`[ -d ${q(lock)} ] && ${write(Date.now() + ttlMs)}`)),
        };
      const [h = 'unknown', since = '?', expires = ''] = r.stdout.trim().split('\n');
      if (attempt === 0 && expires && Date.parse(expires) < Date.now()) {
        log.warning(`${this.host.label}: breaking the deploy lock of ${h}, which expired at ${expires}.`);
        await this.sh(`rm -rf ${q(lock)}`);
        continue;
      }
      return { acquired: false, held: { holder: h, since, expires } };
    }
    throw new UserError(
      `Cannot take the deploy lock on ${this.host.label}: another deploy took it as the old one was broken.`,
    );
  }

  /**
   * The release's folder on the server: uploaded once (checked by sha256 there), never again when
   * it is already there with the same bytes. Older releases beyond `keep` are removed.
   */
  async prepare(release: Release): Promise<void> {
    const version = versionOf(release.image)!;
    if (!SAFE_VERSION.test(version)) throw new UserError(`\`${version}\` cannot name a release folder.`);
    const rel = `${this.opts.dir}/releases/${version}`;
    const build = this.opts.builds.get(await this.platformOf());
    // A rollback has no build: the release's own record says what its binary is called.
    const name = build ? this.opts.binaryName : await this.binaryOf(version);
    this.names.set(version, name);
    const bin = `${rel}/${name}`;
    const have = await this.sh(`[ -f ${q(bin)} ] && sha256sum < ${q(bin)} | cut -d' ' -f1`);
    const present = have.code === 0 ? have.stdout.trim() : undefined;
    if (present && (!build || present === build.sha256)) {
      log.info(
        `  ${this.host.label}: release ${version} is already there (sha256 ${present.slice(0, 12)}…), nothing sent`,
      );
    } else if (!build) {
      throw new UserError(
        `Release ${version} is not kept on ${this.host.label}, and this deploy has no ${await this.platformOf()} build of it to send. Kept there: ${(await this.kept()).join(', ') || 'none'}.`,
      );
    } else {
      await this.ssh.must(
        this.host,
        `Uploading ${name} ${version}`,
        `set -e; mkdir -p ${q(rel)}; t=$(mktemp ${q(rel)}/.upload.XXXXXXXX); cat > "$t"; s=$(sha256sum < "$t" | cut -d' ' -f1); if [ "$s" != ${q(build.sha256)} ]; then rm -f "$t"; echo "the upload arrived as sha256 $s, not ${build.sha256}" >&2; exit 3; fi; chmod 755 "$t"; mv -f "$t" ${q(bin)}; printf 'binary %s\nsha256 %s\n' ${q(name)} "$s" > ${q(`${rel}/.release`)}`,
        { input: build.data, timeoutMs: 10 * 60_000 },
      );
      this.uploaded += build.data.length;
      log.info(
        `  ${this.host.label}: sent ${name} ${version} (${build.data.length} bytes, sha256 checked there)`,
      );
    }
    await this.prune(version);
  }

  /** The binary's name in a kept release, from the record its upload left there. */
  private async binaryOf(version: string): Promise<string> {
    const r = await this.sh(`cat ${q(`${this.opts.dir}/releases/${version}/.release`)} 2>/dev/null`);
    const name = /^binary (\S+)$/m.exec(r.stdout)?.[1];
    return name && /^[A-Za-z0-9._-]+$/.test(name) ? name : this.opts.binaryName;
  }

  /** Release folders on the server, oldest first. */
  private async kept(): Promise<string[]> {
    const r = await this.sh(`cd ${q(`${this.opts.dir}/releases`)} 2>/dev/null && ls -1tr`);
    // Names from the server are data: only plain release folder names are listed (and ever removed).
    return r.stdout.split('\n').filter((v) => SAFE_VERSION.test(v));
  }

  /** Keeps the newest `keep` releases, and always the ones the colours and this deploy use. */
  private async prune(current: string): Promise<void> {
    const inUse = new Set([
      current,
      ...(await Promise.all(COLORS.map((c) => this.linkOf(c)))).filter(Boolean),
    ]);
    const all = await this.kept();
    const drop = all.slice(0, Math.max(0, all.length - this.opts.keep)).filter((v) => !inUse.has(v));
    if (drop.length)
      await this.sh(drop.map((v) => `rm -rf ${q(`${this.opts.dir}/releases/${v}`)}`).join('; '));
  }

  async runs(status: ColorStatus, release: Release): Promise<boolean> {
    if (status.image !== release.image) return false;
    const build = this.opts.builds.get(await this.platformOf());
    if (!build) return true;
    const version = versionOf(release.image)!;
    const bin = `${this.opts.dir}/releases/${version}/${this.names.get(version) ?? this.opts.binaryName}`;
    const r = await this.sh(`sha256sum < ${q(bin)} | cut -d' ' -f1`);
    return r.code === 0 && r.stdout.trim() === build.sha256;
  }

  /** The template unit go-ship owns: each colour's environment file, its link, its port. */
  private unitText(binaryName: string): string {
    if (this.opts.unit) return this.opts.unit;
    const d = this.opts.dir;
    const arg = (a: string) =>
      `"${a
        .replace(/\\/g, '\\\\')
        .replace(/"/g, '\\"')
        .replace(/%/g, '%%')
        .replace(/\$(?!\{(PORT|COLOR|VERSION)\})/g, '$$$$')}"`;
    return [
      '# Written by go-ship deploy-bluegreen (target: hosts); each deploy rewrites it.',
      '[Unit]',
      `Description=${this.opts.app} (%i colour), deployed by go-ship`,
      'After=network.target',
      '',
      '[Service]',
      `EnvironmentFile=${d}/%i.env`,
      `ExecStart=${d}/%i/${binaryName}${this.opts.args.map((a) => ` ${arg(a)}`).join('')}`,
      'Restart=on-failure',
      'RestartSec=1',
      'KillSignal=SIGTERM',
      `TimeoutStopSec=${Math.max(1, Math.ceil(this.opts.drainMs / 1000)) + 5}`,
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n');
  }

  private envText(color: Color, version: string): string {
    const vars: Record<string, string> = {
      PORT: String(this.opts.ports[color]),
      COLOR: color,
      VERSION: version,
    };
    const fill = (v: string) => v.replace(/\$\{(PORT|COLOR|VERSION)\}/g, (_, k: string) => vars[k]);
    const line = (k: string, v: string) =>
      `${k}="${fill(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, ' ')}"`;
    return [
      ...Object.entries(vars).map(([k, v]) => line(k, v)),
      ...Object.entries(this.opts.env).map(([k, v]) => line(k, v)),
      '',
    ].join('\n');
  }

  async start(color: Color, release: Release): Promise<void> {
    const version = versionOf(release.image)!;
    const d = this.opts.dir;
    const unitFile = `/etc/systemd/system/${this.unit}.service`;
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const prepare = [
      'set -e',
      `printf %s ${b64(this.envText(color, version))} | base64 -d > ${q(`${d}/${color}.env`)}`,
      `ln -sfn ${q(`releases/${version}`)} ${q(`${d}/.${color}.tmp`)} && mv -fT ${q(`${d}/.${color}.tmp`)} ${q(`${d}/${color}`)}`,
      `printf %s ${b64(this.unitText(this.names.get(version) ?? this.opts.binaryName))} | base64 -d > ${q(`${unitFile}.go-ship`)}`,
      `if cmp -s ${q(`${unitFile}.go-ship`)} ${q(unitFile)}; then rm -f ${q(`${unitFile}.go-ship`)}; else mv -f ${q(`${unitFile}.go-ship`)} ${q(unitFile)}; systemctl daemon-reload; fi`,
      `systemctl reset-failed ${q(this.unit + color)} 2>/dev/null || true`,
    ];
    const restart = `systemctl restart ${q(this.unit + color)}`;
    const what = `Starting ${this.unit}${color} (${version})`;
    if (this.routing instanceof RestartRouting) {
      // One port: the other colour stops between preparing and starting (the restart gap starts here).
      await this.ssh.must(this.host, what, prepare.join('\n'));
      await this.routing.freePort(color);
      await this.ssh.must(this.host, what, restart);
    } else {
      await this.ssh.must(this.host, what, [...prepare, restart].join('\n'));
    }
  }

  /**
   * The new release's binary, once, as a transient systemd unit with the colour's environment (as
   * the colour's service would run it, but taking no traffic); systemd stops it at `timeoutMs`, so a
   * lost SSH connection does not leave it running past that.
   */
  async runOnce(color: Color, release: Release, args: string[], timeoutMs: number): Promise<OneOff> {
    const version = versionOf(release.image)!;
    const d = this.opts.dir;
    const rel = `${d}/releases/${version}`;
    const name = this.names.get(version) ?? (await this.binaryOf(version));
    const unit = `${this.opts.app}-before-traffic`;
    const envFile = `${d}/before-traffic.env`;
    const vars: Record<string, string> = {
      PORT: String(this.opts.ports[color]),
      COLOR: color,
      VERSION: version,
    };
    // systemd expands `$VAR` in a command line; `$$` is a literal `$`. Nothing else is interpreted.
    const arg = (a: string) =>
      q(a.replace(/\$\{(PORT|COLOR|VERSION)\}/g, (_, k: string) => vars[k]).replace(/\$/g, '$$$$'));
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    const script = [
      `(umask 077; printf %s ${Buffer.from(this.envText(color, version)).toString('base64')} | base64 -d > ${q(envFile)})`,
      // One left by a run whose connection was lost would hold the unit's name.
      `systemctl stop ${q(unit)} 2>/dev/null; systemctl reset-failed ${q(unit)} 2>/dev/null`,
      `systemd-run --quiet --wait --pipe --collect --unit=${q(unit)} --property=EnvironmentFile=${q(envFile)} --property=RuntimeMaxSec=${seconds} --working-directory=${q(rel)} -- ${q(`${rel}/${name}`)}${args.map((a) => ` ${arg(a)}`).join('')} </dev/null`,
      'code=$?',
      `rm -f ${q(envFile)}`,
      'exit $code',
    ].join('\n');
    const started = Date.now();
    const r = await this.ssh.run(this.host, script, { timeoutMs: timeoutMs + 30_000 });
    const elapsed = Date.now() - started;
    if (r.timedOut) await this.sh(`systemctl stop ${q(unit)}`);
    return {
      where: `${this.host.label}: ${name} ${version}`,
      code: r.code,
      timedOut: r.timedOut || (r.code !== 0 && elapsed >= seconds * 1000),
      output: r.stdout + r.stderr,
    };
  }

  /** `sha256:<hex>` of the binary the colour's release holds, from the record its upload left (checked then). */
  async digestOf(color: Color): Promise<string | undefined> {
    const r = await this.sh(`cat ${q(`${this.opts.dir}/${color}/.release`)} 2>/dev/null`);
    const hex = /^sha256 ([0-9a-f]{64})$/m.exec(r.stdout)?.[1];
    return hex ? `sha256:${hex}` : undefined;
  }

  async resume(color: Color): Promise<void> {
    await this.ssh.must(
      this.host,
      `Starting ${this.unit}${color}`,
      `systemctl start ${q(this.unit + color)}`,
    );
  }

  async crashed(color: Color): Promise<string | undefined> {
    const u = q(this.unit + color);
    const r = await this.sh(`systemctl show -p ActiveState,NRestarts,ExecMainStatus ${u}`);
    const show = Object.fromEntries(
      r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('=', 2)),
    );
    if (show.ActiveState !== 'failed' && (show.NRestarts ?? '0') === '0') return undefined;
    const logs = await this.sh(`journalctl -u ${u} -n 15 --no-pager -o cat`);
    return `${this.unit}${color} on ${this.host.label} ${show.ActiveState === 'failed' ? 'failed' : `keeps restarting (${show.NRestarts} restarts)`}, last exit status ${show.ExecMainStatus}${logs.stdout.trim() ? `; its last log lines:\n${logs.stdout.trim()}` : ''}`;
  }

  endpoint(color: Color): string {
    const local = this.tunnels[color];
    if (!local) throw new Error(`${this.host.label}: the ${color} tunnel was not opened (openTunnels)`);
    return `http://127.0.0.1:${local}`;
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

  async stop(color: Color): Promise<void> {
    // systemd sends SIGTERM and waits TimeoutStopSec (the drain) before SIGKILL.
    await this.sh(`systemctl stop ${q(this.unit + color)}`);
    // A colour stopped before it took over: the one stopped to free the port runs again.
    if (this.routing instanceof RestartRouting) await this.routing.putBack(color);
  }
}
