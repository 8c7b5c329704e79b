import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runCommand } from '../runner/command.js';
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
}

const STATE_PREFIX = '# go-ship-state: ';

/**
 * nginx as the router: go-ship writes one `upstream` block and reloads nginx gracefully. A reload
 * starts new workers with the new upstream while old workers finish the requests they hold, so the
 * switch drops nothing. The file is replaced by rename, so nginx never reads half of it.
 */
export class NginxRouter {
  constructor(readonly opts: NginxOptions) {}

  describe(): string {
    return `nginx upstream \`${this.opts.upstreamName}\` in ${this.opts.upstreamFile}`;
  }

  read(): RouteState | undefined {
    if (!existsSync(this.opts.upstreamFile)) return undefined;
    const line = readFileSync(this.opts.upstreamFile, 'utf8')
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
    const file = this.opts.upstreamFile;
    const before = existsSync(file) ? readFileSync(file) : undefined;
    this.replace(this.render(server, state));
    const test = await runCommand(this.opts.nginx, [...this.args(), '-t', '-q'], {
      check: false,
      timeoutMs: 30_000,
    });
    if (test.code !== 0) {
      this.put(before);
      throw new UserError(
        `nginx rejected the configuration with the new upstream (\`${test.display}\`), so traffic was not moved:\n${(test.stderr || test.stdout).trim()}\nCheck that ${file} is included inside nginx's http block (\`include ${file};\`) and that nothing else defines upstream \`${this.opts.upstreamName}\`.`,
      );
    }
    let reload = await runCommand(this.opts.nginx, [...this.args(), '-s', 'reload'], {
      check: false,
      timeoutMs: 30_000,
    });
    if (reload.code !== 0 && /nginx\.pid|invalid PID/i.test(reload.stderr)) {
      // Not running yet (its config could not load before the upstream existed): start it.
      log.info(`  nginx is not running; starting it (${[this.opts.nginx, ...this.args()].join(' ')})`);
      reload = await runCommand(this.opts.nginx, this.args(), { check: false, timeoutMs: 30_000 });
    }
    if (reload.code !== 0) {
      this.put(before);
      throw new UserError(
        `\`${reload.display}\` failed, so traffic was not moved:\n${(reload.stderr || reload.stdout).trim()}\nIs nginx running with this configuration (nginx-conf, nginx-prefix)?`,
      );
    }
  }

  /** Puts back what was there before (or nothing) and reloads: used when a first deploy fails after its switch. */
  async restore(content: Buffer | undefined): Promise<void> {
    this.put(content);
    if (content) await runCommand(this.opts.nginx, [...this.args(), '-s', 'reload'], { timeoutMs: 30_000 });
  }

  snapshot(): Buffer | undefined {
    return existsSync(this.opts.upstreamFile) ? readFileSync(this.opts.upstreamFile) : undefined;
  }

  private put(content: Buffer | undefined): void {
    if (content) this.replace(content);
    else rmSync(this.opts.upstreamFile, { force: true });
  }

  private replace(content: string | Buffer): void {
    const tmp = join(dirname(this.opts.upstreamFile), `.${process.pid}.go-ship-upstream.tmp`);
    writeFileSync(tmp, content, { mode: 0o644 });
    renameSync(tmp, this.opts.upstreamFile);
  }
}
