import { shellQuote as q } from '../../../runner/command.js';
import { UserError } from '../../../runner/errors.js';
import { formatDuration, log } from '../../../runner/log.js';
import type { RouteState } from '../../routers/nginx.js';
import { type Color, otherColor, type RouteTiming, type RouteUpdate, withRelease } from '../../target.js';
import type { SshFleet, SshHost } from './ssh.js';

/**
 * The switch of a service that owns its port (no nginx in front on the server): one colour runs at
 * a time on the one port, so a deploy stops the old colour, starts the new one and gates it. The
 * service is down in between; that gap is measured (old stopped → new passed its checks) and
 * reported. The route state (live colour, history) is a JSON file beside the releases, as the
 * upstream file holds it for nginx.
 */
export class RestartRouting {
  /** The colour this run stopped to free the port, until the new one takes over: put back on a failure. */
  private stopped?: { color: Color; at: number };
  /** Milliseconds the service was down in this run's last switch. */
  gapMs?: number;

  constructor(
    private readonly ssh: SshFleet,
    private readonly host: SshHost,
    private readonly opts: {
      dir: string;
      unit: (color: Color) => string;
      port: number;
      releaseOf: (color: Color) => Promise<string | undefined>;
    },
  ) {}

  describe(): string {
    return `restart on port ${this.opts.port} (one colour at a time: the service is down between stopping the old one and the new one passing its checks)`;
  }

  private get file(): string {
    return `${this.opts.dir}/route.json`;
  }

  async read(): Promise<RouteState | undefined> {
    const r = await this.ssh.run(this.host, `cat ${q(this.file)} 2>/dev/null`);
    if (r.code !== 0 || !r.stdout.trim()) return undefined;
    try {
      return JSON.parse(r.stdout) as RouteState;
    } catch {
      return undefined;
    }
  }

  private async write(state: RouteState | undefined): Promise<void> {
    const f = q(this.file);
    const script = state
      ? `set -e; t=$(mktemp ${q(this.opts.dir)}/.route.XXXXXXXX); printf %s ${q(JSON.stringify(state))} > "$t"; mv -f "$t" ${f}`
      : `rm -f ${f}`;
    await this.ssh.must(this.host, 'Writing the route state', script);
  }

  /** Called before a colour starts: the other one holds the port, so it stops now (the gap starts). */
  async freePort(color: Color): Promise<void> {
    const other = otherColor(color);
    const active = await this.ssh.run(this.host, `systemctl is-active --quiet ${q(this.opts.unit(other))}`);
    if (active.code !== 0) return;
    await this.ssh.must(
      this.host,
      `Stopping ${this.opts.unit(other)}`,
      `systemctl stop ${q(this.opts.unit(other))}`,
    );
    this.stopped = { color: other, at: Date.now() };
    log.info(
      `  ${this.host.label}: stopped ${other} to free port ${this.opts.port} (restart: the service is down until ${color} passes its checks)`,
    );
  }

  /** After a colour was stopped without taking the traffic: the one stopped for it runs again. */
  async putBack(stoppedNow: Color): Promise<void> {
    const s = this.stopped;
    if (!s || s.color === stoppedNow) return;
    this.stopped = undefined;
    await this.ssh.must(
      this.host,
      `Starting ${this.opts.unit(s.color)} again`,
      `systemctl start ${q(this.opts.unit(s.color))}`,
    );
    log.info(
      `  ${this.host.label}: ${s.color} runs again (it was down ${formatDuration(Date.now() - s.at)})`,
    );
  }

  /** The colour becomes the one running (the other stopped if it runs), and the state says so. */
  async route(color: Color, state: RouteUpdate): Promise<RouteTiming> {
    const other = otherColor(color);
    await this.ssh.must(
      this.host,
      `Switching to ${this.opts.unit(color)}`,
      `systemctl is-active --quiet ${q(this.opts.unit(color))} || { systemctl stop ${q(this.opts.unit(other))}; systemctl start ${q(this.opts.unit(color))}; }`,
    );
    if (this.stopped && this.stopped.color !== color) {
      this.gapMs = Date.now() - this.stopped.at;
      log.info(
        `  ${this.host.label}: restart gap ${formatDuration(this.gapMs)} (old stopped → new passed its checks)`,
      );
    }
    this.stopped = undefined;
    const at = new Date().toISOString();
    const before = await this.read();
    const image = await this.opts.releaseOf(color);
    await this.write({
      ...state,
      switchedAt: at,
      history: image
        ? withRelease(before?.history ?? [], { version: state.version, image, at })
        : before?.history,
    });
    return { settleMs: 0 };
  }

  weigh(): Promise<RouteTiming> {
    throw new UserError(
      'A canary needs both versions serving at once; with server-switch: restart only one runs. Use strategy: blue-green, or server-switch: nginx.',
    );
  }

  async routeSnapshot(): Promise<unknown> {
    return this.read();
  }

  async unroute(snapshot: unknown): Promise<void> {
    await this.write(snapshot as RouteState | undefined);
  }
}
