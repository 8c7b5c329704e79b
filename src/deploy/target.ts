import { hostname } from 'node:os';
import type { OneOff } from './hooks.js';

/**
 * What the deploy engine needs from a place that runs two colours of an app and routes traffic to
 * one of them. The state (which colour is live, what each runs, who holds the lock) lives on the
 * target, never on the runner, so a re-run or a deploy from another machine sees the same truth.
 */
export type Color = 'blue' | 'green';
export const COLORS: readonly Color[] = ['blue', 'green'];
export const otherColor = (c: Color): Color => (c === 'blue' ? 'green' : 'blue');

export interface Release {
  image: string;
  /** What the new version reports on its version endpoint; undefined when it cannot be known. */
  version?: string;
}

export interface ColorStatus {
  color: Color;
  /** `absent` when the colour was never deployed (or was removed). */
  state: 'absent' | 'running' | 'stopped' | 'crashed';
  image?: string;
  version?: string;
  /** When this colour was last deployed, ISO 8601. */
  deployedAt?: string;
}

/** What the router knows about its own switch: how long the old route kept taking new requests. */
export interface RouteTiming {
  settleMs?: number;
  /** How the target realised a canary weight, e.g. `1 of 10 pods (10.0%)`, for the timeline. */
  note?: string;
}

export interface LockInfo {
  holder: string;
  since: string;
  expires: string;
}

/** One release that took the traffic, newest last (the target keeps the last HISTORY_LENGTH). */
export interface HistoryEntry {
  version?: string;
  image: string;
  /** When it took the traffic, ISO 8601. */
  at: string;
}
export const HISTORY_LENGTH = 10;

/** The history with `entry` appended, unless it is already the newest; the last HISTORY_LENGTH kept. */
export function withRelease(history: HistoryEntry[], entry: HistoryEntry): HistoryEntry[] {
  const last = history.at(-1);
  if (last?.image === entry.image && last.version === entry.version) return history;
  return [...history, entry].slice(-HISTORY_LENGTH);
}

/** A canary left at a step: the new colour and its share of new requests. */
export interface CanaryStep {
  color: Color;
  percent: number;
}

export interface DeployState {
  /** Releases that took the traffic, oldest first (nginx upstream file; Kubernetes Service annotation). */
  history?: HistoryEntry[];
  /** A canary left at a step (auto-promote false). */
  canary?: CanaryStep;
  live?: Color;
  previous?: Color;
  switchedAt?: string;
  colors: Record<Color, ColorStatus>;
  lock?: LockInfo;
}

export type LockAttempt =
  | {
      acquired: true;
      release: () => Promise<void>;
      /** Pushes the expiry out by the TTL again, where the target can (a Kubernetes Lease can). */
      renew?: () => Promise<void>;
    }
  | { acquired: false; held: LockInfo };

/**
 * The target, split by concern so each part can be reused: the runtime runs the two colours
 * (containers, pods, systemd services), the router sends new requests to one of them and records
 * the route state beside the traffic it describes (nginx's upstream file, a Service), and the lock
 * says who is deploying. The engine sees only `Target`, the three together; a target may build
 * itself from parts (the Docker target is a Docker runtime behind `NginxRouting`).
 */
export interface Runtime {
  /** Makes the release runnable on the target (pulls the image). */
  prepare(release: Release): Promise<void>;
  /** Whether a colour already runs exactly this release (same image content). */
  runs(status: ColorStatus, release: Release): Promise<boolean>;
  /** Replaces the colour with the release (the engine never passes the live colour). */
  start(color: Color, release: Release): Promise<void>;
  /** Starts a stopped colour again as it was (manual rollback). */
  resume(color: Color): Promise<void>;
  /** Why the colour is not running any more (exit code and last log lines), or undefined. */
  crashed(color: Color): Promise<string | undefined>;
  /** Base URL that reaches the colour directly, bypassing the router. */
  endpoint(color: Color): string;
  /** SIGTERM, up to `drainMs` to finish in-flight requests, then stopped (kept for rollback). */
  stop(color: Color, drainMs: number): Promise<void>;
  /** For dry-run: what the target would change, as the target itself reports it (e.g. a server-side diff). */
  dryRunDiff?(color: Color, release: Release): Promise<string>;
  /**
   * Runs the release once with `args`, as `color` would run it (its environment and network) but
   * taking no traffic, and waits for it to end, stopping it after `timeoutMs` (a before-traffic hook).
   */
  runOnce?(color: Color, release: Release, args: string[], timeoutMs: number): Promise<OneOff>;
  /**
   * The immutable name of what the colour runs, as another environment would pull it
   * (`registry/repo@sha256:…`); undefined when it has none (an image that was never in a registry).
   */
  digestOf?(color: Color): Promise<string | undefined>;
}

/** `repo@sha256:<64 hex>`: a reference that names exactly one image. */
export const pinnedImage = (image: string | undefined): image is string =>
  !!image && /^[^@\s]+@sha256:[0-9a-f]{64}$/.test(image);

/** What the router is told with every switch, and records beside the route. */
export interface RouteUpdate {
  live: Color;
  previous?: Color;
  version?: string;
}

export interface Router {
  /** Moves all new traffic to the colour and records the state. */
  route(color: Color, state: RouteUpdate): Promise<RouteTiming | void>;
  /**
   * Canary: `percent` of new requests to `canary`, the rest to the live colour, with the same
   * graceful switch as `route`. Routers without it support blue-green only.
   */
  weigh?(canary: Color, percent: number, state: RouteUpdate): Promise<RouteTiming | void>;
  /** Undoes the very first route (nothing was live before it). */
  unroute(snapshot: unknown): Promise<void>;
  routeSnapshot(): Promise<unknown>;
}

export interface DeployLock {
  /** Takes the lock atomically on the target, or says who holds it. An expired lock is broken. */
  tryLock(holder: string, ttlMs: number, image?: string): Promise<LockAttempt>;
}

export interface Target extends Runtime, Router, DeployLock {
  describe(): string;
  /** The whole state, read from the target itself: colours, route, lock, history. */
  read(): Promise<DeployState>;
}

/** Who is deploying, for the lock and the container labels: the workflow run when there is one. */
export function holderName(env = process.env): string {
  if (env.GITHUB_RUN_ID && env.GITHUB_REPOSITORY)
    return `${env.GITHUB_REPOSITORY} run ${env.GITHUB_RUN_ID}${env.GITHUB_ACTOR ? ` by ${env.GITHUB_ACTOR}` : ''}`;
  return `${env.USER ?? 'someone'}@${hostname()} pid ${process.pid}`;
}

/** A tag that names a version (`1.2.3`, `v1.2.3-rc.1`): what the new version will report. */
export function versionFromImage(image: string): string | undefined {
  const last = image.split('@')[0].split('/').at(-1) ?? '';
  const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : undefined;
  return tag && /^v?\d+(\.\d+){0,2}([-+][\w.-]+)?$/.test(tag) ? tag.replace(/^v/, '') : undefined;
}
