import type { DeployConfig } from '../../src/deploy/engine.js';
import type { OneOff } from '../../src/deploy/hooks.js';
import { UserError } from '../../src/runner/errors.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startServer, type LoopbackServer } from './server.js';
import {
  COLORS,
  type Color,
  type ColorStatus,
  type DeployState,
  type LockAttempt,
  type Release,
  type Target,
} from '../../src/deploy/target.js';

/**
 * How a release behaves once started: healthy, never healthy, healthy for a while then failing, or a
 * start that never returns. Keyed by image.
 */
export interface Behaviour {
  version: string;
  /** `ok`; `never` (never healthy); `after:N` (healthy for N ms after it starts, then 500). */
  health?: 'ok' | 'never' | `after:${number}`;
  /** No version endpoint: /version answers 404, as most services without one do. */
  noVersionEndpoint?: boolean;
  /** What /version answers with 200 instead of the version (go-httpbin's `{"service": ...}`). */
  versionBody?: string;
  /** `start()` never resolves (the engine's phase deadline has to end it). */
  hangOnStart?: boolean;
  /** How `runOnce` (a before-traffic command) ends: its exit code and output, or it outlives its limit. */
  oneOff?: { code: number; output: string } | 'hang';
}

/**
 * A deploy target in memory, the way the engine sees one: each colour is a loopback HTTP server
 * answering /healthz and /version for the release it runs, and the public entry answers as the live
 * colour does. Every call the engine makes is recorded in `calls`, so a test reads the order of
 * start, route, stop and resume. This is the example docs/architecture.md points at for a new target.
 */
export class FakeTarget implements Target {
  readonly calls: string[] = [];
  readonly behaviours = new Map<string, Behaviour>();
  state: DeployState = {
    colors: {
      blue: { color: 'blue', state: 'absent' },
      green: { color: 'green', state: 'absent' },
    },
  };
  lockHolder?: { holder: string; since: string; expires: string };
  private startedAt: Record<Color, number> = { blue: 0, green: 0 };
  private servers = new Map<Color | 'public', LoopbackServer>();

  static async create(): Promise<FakeTarget> {
    const t = new FakeTarget();
    for (const c of COLORS) t.servers.set(c, await startServer((req, res) => t.answer(c, req, res)));
    t.servers.set(
      'public',
      await startServer((req, res) => {
        if (!t.state.live) return void res.writeHead(502).end('no live colour');
        t.answer(t.state.live, req, res);
      }),
    );
    return t;
  }

  /** The public entry, as `url` in the deploy config. */
  get url(): string {
    return this.servers.get('public')!.url;
  }

  async close(): Promise<void> {
    for (const s of this.servers.values()) await s.close();
  }

  private answer(color: Color, req: IncomingMessage, res: ServerResponse): void {
    const st = this.state.colors[color];
    const b = st.image ? this.behaviours.get(st.image) : undefined;
    if (st.state !== 'running' || !b) return void res.writeHead(503).end('not running');
    if (req.url === '/version')
      return b.noVersionEndpoint
        ? void res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found')
        : b.versionBody !== undefined
          ? void res.writeHead(200, { 'content-type': 'application/json' }).end(b.versionBody)
          : void res.writeHead(200, { 'content-type': 'text/plain' }).end(b.version);
    const health = b.health ?? 'ok';
    const healthy =
      health === 'ok' ||
      (health.startsWith('after:') &&
        Date.now() - this.startedAt[color] < Number(health.slice('after:'.length)));
    res.writeHead(healthy ? 200 : 500).end(healthy ? 'ok' : 'failing');
  }

  describe(): string {
    return 'fake target';
  }

  async read(): Promise<DeployState> {
    return structuredClone({ ...this.state, lock: this.lockHolder });
  }

  async tryLock(holder: string, ttlMs: number): Promise<LockAttempt> {
    if (this.lockHolder) return { acquired: false, held: this.lockHolder };
    this.calls.push('lock');
    this.lockHolder = {
      holder,
      since: new Date().toISOString(),
      expires: new Date(Date.now() + ttlMs).toISOString(),
    };
    return {
      acquired: true,
      release: async () => {
        this.calls.push('unlock');
        this.lockHolder = undefined;
      },
    };
  }

  async prepare(release: Release): Promise<void> {
    this.calls.push(`prepare ${release.image}`);
  }

  async runs(status: ColorStatus, release: Release): Promise<boolean> {
    return status.state === 'running' && status.image === release.image;
  }

  async start(color: Color, release: Release): Promise<void> {
    this.calls.push(`start ${color} ${release.image}`);
    const b = this.behaviours.get(release.image);
    if (!b) throw new Error(`the test gave no behaviour for ${release.image}`);
    if (b.hangOnStart) return new Promise(() => {});
    this.state.colors[color] = { color, state: 'running', image: release.image, version: b.version };
    this.startedAt[color] = Date.now();
  }

  async runOnce(color: Color, release: Release, args: string[], timeoutMs: number): Promise<OneOff> {
    this.calls.push(`run-once ${release.image} ${args.join(' ')}`);
    const b = this.behaviours.get(release.image);
    const end = b?.oneOff ?? { code: 0, output: 'done' };
    const where = `a fake container from ${release.image} as ${color}`;
    if (end === 'hang') {
      await new Promise((r) => setTimeout(r, timeoutMs));
      return { where, code: 143, timedOut: true, output: 'still migrating' };
    }
    return { where, code: end.code, timedOut: false, output: end.output };
  }

  async resume(color: Color): Promise<void> {
    this.calls.push(`resume ${color}`);
    this.state.colors[color].state = 'running';
    this.startedAt[color] = Date.now();
  }

  async crashed(): Promise<string | undefined> {
    return undefined;
  }

  endpoint(color: Color): string {
    return this.servers.get(color)!.url;
  }

  async route(color: Color, state: { live: Color; previous?: Color; version?: string }): Promise<void> {
    this.calls.push(`route ${color}`);
    this.state.live = state.live;
    this.state.previous = state.previous;
    delete this.state.canary;
    // The release history, as the Docker target keeps it: a new entry when the release changes.
    const { image, version } = this.state.colors[color];
    const history = (this.state.history ??= []);
    if (image && history.at(-1)?.image !== image)
      history.push({ image, version, at: new Date().toISOString() });
  }

  /** A canary step: recorded; the public entry keeps answering as the live colour. */
  async weigh(color: Color, percent: number, state: { live: Color }): Promise<void> {
    this.calls.push(`weigh ${color} ${percent}%`);
    if (this.refuseWeigh.has(percent)) throw new UserError(`the router refused ${percent}%`);
    this.state.live = state.live;
    this.state.canary = { color, percent };
  }

  /** Canary steps the router refuses (a failed reload, a Kubernetes timeout). */
  readonly refuseWeigh = new Set<number>();

  async routeSnapshot(): Promise<unknown> {
    return { live: this.state.live, previous: this.state.previous };
  }

  async unroute(snapshot: unknown): Promise<void> {
    this.calls.push('unroute');
    const s = snapshot as { live?: Color; previous?: Color };
    this.state.live = s.live;
    this.state.previous = s.previous;
  }

  async stop(color: Color): Promise<void> {
    this.calls.push(`stop ${color}`);
    if (this.state.colors[color].state !== 'absent') this.state.colors[color].state = 'stopped';
  }
}

/** Deploy settings with timings short enough for targets in memory; `url` is the public entry. */
export function fakeDeployConfig(url: string, over: Partial<DeployConfig> = {}): DeployConfig {
  return {
    action: 'deploy',
    app: 'hello',
    url,
    health: { path: '/healthz', status: 200, successes: 2, intervalMs: 30, timeoutMs: 500 },
    versionPath: '/version',
    versionHeader: 'X-Version',
    autoPromote: true,
    strategy: 'blue-green',
    steps: [100],
    stepMs: 0,
    readyTimeoutMs: 1_500,
    confirmTimeoutMs: 1_500,
    verifyMs: 100, // a test that needs a failure seen during verify sets a longer one
    keepOldMs: 0,
    drainMs: 20,
    lockTimeoutMs: 300,
    lockTtlMs: 3_600_000, // above the longest hold these timings allow (the engine checks)
    pullTimeoutMs: 5_000,
    holder: 'test run',
    dryRun: false,
    ...over,
  };
}
