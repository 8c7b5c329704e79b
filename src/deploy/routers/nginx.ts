import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readTar, tar } from '../../archive/archive.js';
import { runCommand, shellQuote, type CommandResult } from '../../runner/command.js';
import { UserError } from '../../runner/errors.js';
import { log } from '../../runner/log.js';
import {
  type CanaryStep,
  type Color,
  type HistoryEntry,
  type Router,
  type RouteTiming,
  type RouteUpdate,
  withRelease,
} from '../target.js';

/** What the upstream file records besides the route: the deploy state lives next to the traffic it describes. */
export interface RouteState {
  live: Color;
  previous?: Color;
  version?: string;
  switchedAt: string;
  /** During a canary: the colour that takes `percent` of new requests beside the live one. */
  canary?: CanaryStep;
  /** The releases that took the traffic, oldest first (for rollback to any of them). */
  history?: HistoryEntry[];
}

/** One upstream server and its share of new requests (nginx's `weight`). */
export interface WeightedServer {
  server: string;
  weight: number;
}

export interface NginxOptions {
  /** The file go-ship owns, included by the user's nginx config in the http block. */
  upstreamFile: string;
  upstreamName: string;
  /** nginx's main config (`-c`) and prefix (`-p`), when not nginx's defaults. */
  conf?: string;
  prefix?: string;
  nginx: string;
  /** Where nginx runs: on this machine, or in a container on the Docker host (reached like the colours). */
  host: NginxHost;
}

/** The few things go-ship does where nginx runs: read and replace one file, run nginx. */
export interface NginxHost {
  describe(): string;
  read(file: string): Promise<Buffer | undefined>;
  /** Replaces the file whole (or removes it, for undefined). */
  write(file: string, content: Buffer | undefined): Promise<void>;
  nginx(args: string[]): Promise<CommandResult>;
  /** Starts nginx when it is not running (on this machine only). */
  start?(args: string[]): Promise<CommandResult>;
  /** This nginx's worker processes, and which of them are retiring after a reload. */
  workers(): Promise<Worker[]>;
}

export interface Worker {
  pid: number;
  shuttingDown: boolean;
}

/** Worker lines of `ps -o pid,ppid,args` output whose parent is one of `masters`. */
function workersOf(lines: string[][], masters: Set<string>): Worker[] {
  return lines
    .filter(([, ppid, args]) => masters.has(ppid) && args.startsWith('nginx: worker process'))
    .map(([pid, , args]) => ({ pid: Number(pid), shuttingDown: args.includes('shutting down') }));
}

function psLines(text: string): string[][] {
  return text
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => [m[1], m[2], m[3].trim()]);
}

/** nginx on the machine that runs go-ship; the file is replaced by rename, so nginx never reads half of it. */
export class LocalNginx implements NginxHost {
  constructor(
    private readonly binary: string,
    /** nginx-conf, which tells this nginx's master apart from others on the machine. */
    private readonly conf?: string,
  ) {}

  async workers(): Promise<Worker[]> {
    const ps = await runCommand('ps', ['-eo', 'pid=,ppid=,args='], { check: false, timeoutMs: 10_000 });
    const lines = psLines(ps.stdout);
    const masters = new Set(
      lines
        .filter(([, , args]) => args.startsWith('nginx: master process'))
        .filter(([, , args]) => (this.conf ? args.includes(this.conf) : !/ -c /.test(args)))
        .map(([pid]) => pid),
    );
    return workersOf(lines, masters);
  }

  describe(): string {
    return 'nginx on this machine';
  }

  async read(file: string): Promise<Buffer | undefined> {
    return existsSync(file) ? readFileSync(file) : undefined;
  }

  async write(file: string, content: Buffer | undefined): Promise<void> {
    if (!content) return rmSync(file, { force: true });
    // A random name created exclusively ('wx'): a planted file or symlink at a guessable name
    // (the PID) would be written through.
    const tmp = join(dirname(file), `.go-ship-upstream.${randomBytes(8).toString('hex')}.tmp`);
    writeFileSync(tmp, content, { mode: 0o644, flag: 'wx' });
    renameSync(tmp, file);
  }

  nginx(args: string[]): Promise<CommandResult> {
    return runCommand(this.binary, args, { check: false, timeoutMs: 30_000 });
  }

  start(args: string[]): Promise<CommandResult> {
    return this.nginx(args);
  }
}

/**
 * nginx in a container on the Docker host (as kamal-proxy runs): the file goes in with `docker cp`
 * and nginx runs with `docker exec`, so a remote host (DOCKER_HOST=ssh://...) needs nothing else.
 */
export class ContainerNginx implements NginxHost {
  constructor(
    private readonly docker: string,
    private readonly container: string,
    private readonly binary: string,
  ) {}

  describe(): string {
    return `nginx in container ${this.container}`;
  }

  async read(file: string): Promise<Buffer | undefined> {
    const r = await runCommand(this.docker, ['cp', `${this.container}:${file}`, '-'], {
      check: false,
      timeoutMs: 60_000,
    });
    if (r.code !== 0) {
      if (/no such file|Could not find the file/i.test(r.stderr)) return undefined;
      throw new UserError(
        `Cannot read ${file} from the nginx container: \`${r.display}\` failed: ${r.stderr.trim()}\nIs the container \`${this.container}\` (nginx-container) there?`,
      );
    }
    // The file is text, so the tar stream survived its trip through a UTF-8 string.
    return readTar(Buffer.from(r.stdout, 'utf8')).get(basename(file));
  }

  async write(file: string, content: Buffer | undefined): Promise<void> {
    const r = content
      ? await runCommand(this.docker, ['cp', '-', `${this.container}:${dirname(file)}`], {
          input: tar(
            [{ name: basename(file), data: content, executable: false }],
            Math.floor(Date.now() / 1000),
          ),
          check: false,
          timeoutMs: 60_000,
        })
      : await runCommand(this.docker, ['exec', this.container, 'rm', '-f', file], {
          check: false,
          timeoutMs: 60_000,
        });
    if (r.code !== 0)
      throw new UserError(
        `Cannot write ${file} in the nginx container: \`${r.display}\` failed: ${r.stderr.trim()}`,
      );
  }

  async workers(): Promise<Worker[]> {
    // docker top runs ps on the Docker host for this container's processes: nothing needed inside it.
    const r = await runCommand(this.docker, ['top', this.container, '-eo', 'pid,ppid,args'], {
      check: false,
      timeoutMs: 10_000,
    });
    const lines = psLines(r.stdout);
    const masters = new Set(lines.filter(([, , a]) => a.startsWith('nginx: master process')).map(([p]) => p));
    return workersOf(lines, masters);
  }

  nginx(args: string[]): Promise<CommandResult> {
    return runCommand(this.docker, ['exec', this.container, this.binary, ...args], {
      check: false,
      timeoutMs: 30_000,
    });
  }
}

/** Runs a POSIX shell script where nginx runs (a server over SSH); `input` is its stdin. */
export type RemoteShell = (script: string, input?: Buffer) => Promise<CommandResult>;

/**
 * nginx on a server reached through a shell (SSH): the file is written beside its place under a
 * random name and renamed, nginx runs as the shell's user, and a stopped nginx is started by systemd.
 */
export class ShellNginx implements NginxHost {
  constructor(
    private readonly shell: RemoteShell,
    private readonly where: string,
    private readonly binary: string,
  ) {}

  describe(): string {
    return `nginx on ${this.where}`;
  }

  async read(file: string): Promise<Buffer | undefined> {
    const r = await this.shell(`[ -e ${shellQuote(file)} ] || exit 3; base64 < ${shellQuote(file)}`);
    if (r.code === 3) return undefined;
    if (r.code !== 0) throw new UserError(`Cannot read ${file} on ${this.where}: ${r.stderr.trim()}`);
    return Buffer.from(r.stdout.replace(/\s/g, ''), 'base64');
  }

  async write(file: string, content: Buffer | undefined): Promise<void> {
    const f = shellQuote(file);
    const r = content
      ? await this.shell(
          `set -e; mkdir -p ${shellQuote(dirname(file))}; t=$(mktemp ${shellQuote(dirname(file))}/.go-ship-upstream.XXXXXXXX); cat > "$t"; chmod 644 "$t"; mv -f "$t" ${f}`,
          content,
        )
      : await this.shell(`rm -f ${f}`);
    if (r.code !== 0) throw new UserError(`Cannot write ${file} on ${this.where}: ${r.stderr.trim()}`);
  }

  async workers(): Promise<Worker[]> {
    const r = await this.shell('ps -eo pid=,ppid=,args=');
    const lines = psLines(r.stdout);
    const masters = new Set(lines.filter(([, , a]) => a.startsWith('nginx: master process')).map(([p]) => p));
    return workersOf(lines, masters);
  }

  nginx(args: string[]): Promise<CommandResult> {
    return this.shell([this.binary, ...args].map(shellQuote).join(' '));
  }

  start(): Promise<CommandResult> {
    return this.shell('systemctl start nginx');
  }
}

const STATE_PREFIX = '# go-ship-state: ';

/**
 * nginx as the router: go-ship writes one `upstream` block and reloads nginx gracefully. A reload
 * starts new workers with the new upstream while old workers finish the requests they hold, so the
 * switch drops nothing in flight.
 */
export class NginxRouter {
  constructor(readonly opts: NginxOptions) {}

  describe(): string {
    return `nginx upstream \`${this.opts.upstreamName}\` in ${this.opts.upstreamFile} (${this.opts.host.describe()})`;
  }

  async read(): Promise<RouteState | undefined> {
    const content = await this.opts.host.read(this.opts.upstreamFile);
    const line = content
      ?.toString('utf8')
      .split('\n')
      .find((l) => l.startsWith(STATE_PREFIX));
    if (!line) return undefined;
    try {
      return JSON.parse(line.slice(STATE_PREFIX.length)) as RouteState;
    } catch {
      return undefined;
    }
  }

  /**
   * One server, or weighted servers for a canary: nginx's round robin then sends each server its
   * weight's share of new requests (smooth weighted round robin, per worker).
   */
  render(servers: string | WeightedServer[], state: RouteState): string {
    const lines =
      typeof servers === 'string'
        ? [`    server ${servers};`]
        : servers.filter((s) => s.weight > 0).map((s) => `    server ${s.server} weight=${s.weight};`);
    return [
      '# Written by go-ship deploy-bluegreen; every switch rewrites it. Change the action inputs, not this file.',
      STATE_PREFIX + JSON.stringify(state),
      `upstream ${this.opts.upstreamName} {`,
      ...lines,
      '}',
      '',
    ].join('\n');
  }

  private args(): string[] {
    return [
      ...(this.opts.prefix ? ['-p', this.opts.prefix] : []),
      ...(this.opts.conf ? ['-c', this.opts.conf] : []),
    ];
  }

  /**
   * Routes traffic to `server` (host:port): write, `nginx -t`, reload. A config nginx rejects is put
   * back. Returns how long after the reload signal the old workers stopped taking new requests.
   */
  async route(server: string | WeightedServer[], state: RouteState): Promise<number> {
    const { host, upstreamFile: file } = this.opts;
    const previous = await host.read(file);
    await host.write(file, Buffer.from(this.render(server, state)));
    const test = await host.nginx([...this.args(), '-t', '-q']);
    if (test.code !== 0) {
      await host.write(file, previous);
      throw new UserError(
        `nginx rejected the configuration with the new upstream (\`${test.display}\`), so traffic was not moved:\n${(test.stderr || test.stdout).trim()}\nCheck that ${file} is included inside nginx's http block (\`include ${file};\`) and that nothing else defines upstream \`${this.opts.upstreamName}\`.`,
      );
    }
    const before = await this.accepting();
    const signalled = Date.now();
    let reload = await host.nginx([...this.args(), '-s', 'reload']);
    if (reload.code !== 0 && host.start && /nginx\.pid|invalid PID/i.test(reload.stderr)) {
      // Not running yet (its config could not load before the upstream existed): start it.
      log.info(`  nginx is not running; starting it (${[this.opts.nginx, ...this.args()].join(' ')})`);
      reload = await host.start(this.args());
    }
    if (reload.code !== 0) {
      await host.write(file, previous);
      throw new UserError(
        `\`${reload.display}\` failed, so traffic was not moved:\n${(reload.stderr || reload.stdout).trim()}\nIs nginx running with this configuration (nginx-conf, nginx-prefix${host.start ? '' : ', nginx-container'})?`,
      );
    }
    await this.retired(before);
    return Date.now() - signalled;
  }

  /**
   * `nginx -s reload` returns once the master is signalled; the master then starts new workers and
   * only afterwards tells the old ones to stop accepting. Until they do, new connections can still
   * reach the old upstream. The switch is done when every worker from before the reload is gone or
   * shutting down (it then only finishes requests it holds).
   */
  private async accepting(): Promise<number[]> {
    return (await this.opts.host.workers()).filter((w) => !w.shuttingDown).map((w) => w.pid);
  }

  private async retired(before: number[]): Promise<void> {
    if (!before.length) return;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const accepting = new Set(await this.accepting());
      const left = before.filter((pid) => accepting.has(pid));
      if (!left.length) return;
      if (Date.now() > deadline) {
        log.warning(
          `nginx workers ${left.join(', ')} from before the reload still accept connections after 15s.`,
        );
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Puts back what was there before (or nothing) and reloads: used when a first deploy fails after its switch. */
  async restore(content: Buffer | undefined): Promise<void> {
    await this.opts.host.write(this.opts.upstreamFile, content);
    if (!content) return;
    const before = await this.accepting();
    await this.opts.host.nginx([...this.args(), '-s', 'reload']);
    await this.retired(before);
  }

  snapshot(): Promise<Buffer | undefined> {
    return this.opts.host.read(this.opts.upstreamFile);
  }
}

/**
 * The `Router` port over nginx, for any runtime whose colours are reached at `host:port`: the
 * Docker target's containers, or services on a server. The runtime says where each colour listens
 * and which image or release it runs (for the history); everything else is the upstream file's.
 */
export class NginxRouting implements Router {
  constructor(
    readonly router: NginxRouter,
    private readonly runtime: {
      /** `host:port` of the colour, as nginx reaches it. */
      server(color: Color): string;
      /** What the colour runs, as the history records it, read from the runtime itself. */
      releaseOf(color: Color): Promise<string | undefined>;
    },
  ) {}

  read(): Promise<RouteState | undefined> {
    return this.router.read();
  }

  async route(color: Color, state: RouteUpdate): Promise<RouteTiming> {
    const at = new Date().toISOString();
    const history = (await this.router.read())?.history ?? [];
    const image = await this.runtime.releaseOf(color);
    const settleMs = await this.router.route(this.runtime.server(color), {
      ...state,
      switchedAt: at,
      // The release the colour runs is appended, unless it is already the newest entry.
      history: image ? withRelease(history, { version: state.version, image, at }) : history,
    });
    return { settleMs };
  }

  async weigh(canary: Color, percent: number, state: RouteUpdate): Promise<RouteTiming> {
    const settleMs = await this.router.route(
      [
        { server: this.runtime.server(state.live), weight: 100 - percent },
        { server: this.runtime.server(canary), weight: percent },
      ],
      {
        ...state,
        canary: { color: canary, percent },
        switchedAt: new Date().toISOString(),
        history: (await this.router.read())?.history,
      },
    );
    return { settleMs };
  }

  routeSnapshot(): Promise<unknown> {
    return this.router.snapshot();
  }

  async unroute(snapshot: unknown): Promise<void> {
    await this.router.restore(snapshot as Buffer | undefined);
  }
}
