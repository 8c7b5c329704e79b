import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readTar, tar } from '../build/archive.js';
import { runCommand, type CommandResult } from '../runner/command.js';
import { UserError } from '../runner/errors.js';
import { log } from '../runner/log.js';
import type { Color } from './target.js';

/** What the upstream file records besides the route: the deploy state lives next to the traffic it describes. */
export interface RouteState {
  live: Color;
  previous?: Color;
  version?: string;
  switchedAt: string;
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
}

/** nginx on the machine that runs go-ship; the file is replaced by rename, so nginx never reads half of it. */
export class LocalNginx implements NginxHost {
  constructor(private readonly binary: string) {}

  describe(): string {
    return 'nginx on this machine';
  }

  async read(file: string): Promise<Buffer | undefined> {
    return existsSync(file) ? readFileSync(file) : undefined;
  }

  async write(file: string, content: Buffer | undefined): Promise<void> {
    if (!content) return rmSync(file, { force: true });
    const tmp = join(dirname(file), `.${process.pid}.go-ship-upstream.tmp`);
    writeFileSync(tmp, content, { mode: 0o644 });
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

  nginx(args: string[]): Promise<CommandResult> {
    return runCommand(this.docker, ['exec', this.container, this.binary, ...args], {
      check: false,
      timeoutMs: 30_000,
    });
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

  render(server: string, state: RouteState): string {
    return [
      '# Written by go-ship deploy-bluegreen; every switch rewrites it. Change the action inputs, not this file.',
      STATE_PREFIX + JSON.stringify(state),
      `upstream ${this.opts.upstreamName} {`,
      `    server ${server};`,
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

  /** Routes traffic to `server` (host:port): write, `nginx -t`, reload. A config nginx rejects is put back. */
  async route(server: string, state: RouteState): Promise<void> {
    const { host, upstreamFile: file } = this.opts;
    const before = await host.read(file);
    await host.write(file, Buffer.from(this.render(server, state)));
    const test = await host.nginx([...this.args(), '-t', '-q']);
    if (test.code !== 0) {
      await host.write(file, before);
      throw new UserError(
        `nginx rejected the configuration with the new upstream (\`${test.display}\`), so traffic was not moved:\n${(test.stderr || test.stdout).trim()}\nCheck that ${file} is included inside nginx's http block (\`include ${file};\`) and that nothing else defines upstream \`${this.opts.upstreamName}\`.`,
      );
    }
    let reload = await host.nginx([...this.args(), '-s', 'reload']);
    if (reload.code !== 0 && host.start && /nginx\.pid|invalid PID/i.test(reload.stderr)) {
      // Not running yet (its config could not load before the upstream existed): start it.
      log.info(`  nginx is not running; starting it (${[this.opts.nginx, ...this.args()].join(' ')})`);
      reload = await host.start(this.args());
    }
    if (reload.code !== 0) {
      await host.write(file, before);
      throw new UserError(
        `\`${reload.display}\` failed, so traffic was not moved:\n${(reload.stderr || reload.stdout).trim()}\nIs nginx running with this configuration (nginx-conf, nginx-prefix${host.start ? '' : ', nginx-container'})?`,
      );
    }
  }

  /** Puts back what was there before (or nothing) and reloads: used when a first deploy fails after its switch. */
  async restore(content: Buffer | undefined): Promise<void> {
    await this.opts.host.write(this.opts.upstreamFile, content);
    if (content) await this.opts.host.nginx([...this.args(), '-s', 'reload']);
  }

  snapshot(): Promise<Buffer | undefined> {
    return this.opts.host.read(this.opts.upstreamFile);
  }
}
