import { UserError } from '../runner/errors.js';
import { formatDuration, log } from '../runner/log.js';
import {
  healthFailure,
  probe,
  record,
  sameVersion,
  afterMs,
  sleep,
  versionOf,
  waitHealthy,
  type CheckRecord,
  type HealthCheck,
} from './checks.js';
import { argsText, hookOutcome, hookRun, type HookRun, type Hooks, runAfterSwitch } from './hooks.js';
import { evaluateGate, type MetricGate } from './prometheus.js';
import { otherColor, type Color, type DeployState, type Release, type Target } from './target.js';

export type DeployAction = 'deploy' | 'rollback' | 'promote' | 'status';

export interface DeployConfig {
  action: DeployAction;
  app: string;
  release?: Release;
  /** The public entry (through the router); the `url` output. */
  url: string;
  health: HealthCheck;
  versionPath: string;
  versionHeader: string;
  gate?: MetricGate;
  autoPromote: boolean;
  /** `canary`: `steps` (percent of new requests, ascending, ending at 100), each judged for `stepMs`. */
  strategy: 'blue-green' | 'canary';
  steps: number[];
  stepMs: number;
  readyTimeoutMs: number;
  confirmTimeoutMs: number;
  verifyMs: number;
  /** How long the old colour keeps running after the verify window; `forever` leaves it running. */
  keepOldMs: number | 'forever';
  drainMs: number;
  lockTimeoutMs: number;
  lockTtlMs: number;
  pullTimeoutMs: number;
  holder: string;
  dryRun: boolean;
  /** action: rollback to this version from the target's history (a new deploy of its image), not to the other colour. */
  rollbackTo?: string;
  /** A command run once as the new version before it takes traffic, and one after the switch. */
  hooks?: Hooks;
}

export interface Phase {
  name: string;
  startMs: number;
  durationMs: number;
  failed?: boolean;
  note?: string;
}

export interface DeployResult {
  action: DeployAction;
  outcome: 'switched' | 'unchanged' | 'previewing' | 'rolled-back' | 'failed' | 'status' | 'planned';
  live?: Color;
  previous?: Color;
  rolledBack: boolean;
  /** Why the step fails, when it does. */
  error?: string;
  plan: string[];
  phases: Phase[];
  checks: CheckRecord[];
  /** From the reload to the last answer of the old version seen through the public entry. */
  mixedWindowMs?: number;
  /** From the failed check to the old version answering through the public entry again. */
  rollbackMs?: number;
  state?: DeployState;
  /** dry-run on a target that can say exactly what it would change. */
  diff?: string;
  version?: string;
  previousVersion?: string;
  /** The deploy hooks that ran, in order. */
  hooks: HookRun[];
  /** status: the live colour's image, its immutable name, and whether it answered through the public entry. */
  liveImage?: string;
  liveDigest?: string;
  liveHealthy?: boolean;
}

/** A step that fails with what the summary should still show: the result is attached. */
export class DeployFailure extends UserError {
  constructor(readonly result: DeployResult) {
    super(result.error ?? 'deploy failed');
  }
}

class PhaseTimeout extends Error {}

/** The slack every phase deadline has beyond the timeout it serves. */
const PHASE_GRACE_MS = 30_000;

/**
 * The longest a deploy can hold the lock: the limit of every phase it runs under the lock, a roll
 * back included. A Docker lock cannot be renewed (it is a container, whose labels cannot change) and
 * a Lease renewal can fail, so a plan that could outlast lock-ttl would let a second deploy break the
 * lock mid-deploy: it is refused before the lock is taken.
 */
export function plannedHoldMs(c: DeployConfig): { total: number; parts: [string, number][] } {
  const stop = 2 * c.drainMs + 90_000;
  const parts: [string, number][] = [
    ['pull', c.pullTimeoutMs + 5_000],
    ...(c.hooks?.beforeTraffic
      ? [['before-traffic', c.hooks.timeoutMs + PHASE_GRACE_MS] as [string, number]]
      : []),
    ['start and ready', 2 * c.readyTimeoutMs + 35_000],
    ...(c.gate ? [['metric gate', c.gate.timeoutMs + 5_000] as [string, number]] : []),
    ...(c.strategy === 'canary'
      ? [
          [
            'canary steps',
            c.steps.filter((p) => p < 100).length * (c.stepMs + 2 * c.readyTimeoutMs + 120_000),
          ] as [string, number],
        ]
      : []),
    ['switch and confirm', 60_000 + c.confirmTimeoutMs + 5_000],
    ...(c.hooks?.afterSwitch
      ? [['after-switch', c.hooks.timeoutMs + PHASE_GRACE_MS] as [string, number]]
      : []),
    ['verify', c.verifyMs + PHASE_GRACE_MS],
    ...(c.keepOldMs !== 'forever' && c.keepOldMs > 0
      ? [['keep-old', c.keepOldMs + PHASE_GRACE_MS] as [string, number]]
      : []),
    ['stop the old colour', stop],
    ['a roll back', 60_000 + c.confirmTimeoutMs + 5_000 + stop],
  ];
  return { total: parts.reduce((t, [, ms]) => t + ms, 0), parts };
}

export function checkLockHold(c: DeployConfig): void {
  const { total, parts } = plannedHoldMs(c);
  if (total > c.lockTtlMs)
    throw new UserError(
      `This deploy could hold the lock for up to ${formatDuration(total)} (${parts.map(([n, ms]) => `${n} ${formatDuration(ms)}`).join(', ')}), longer than lock-ttl ${formatDuration(c.lockTtlMs)}: another deploy could break the lock while this one runs. Raise lock-ttl above ${formatDuration(total)}, or shorten keep-old / the timeouts.`,
    );
}

/**
 * The target-independent blue-green engine: lock, deploy the idle colour, gate it directly, switch,
 * confirm through the public entry, verify for a window, keep or stop the old colour, and switch
 * back by itself when anything after the switch fails. Every phase has a deadline, and nothing is
 * reported as success when a check failed.
 */
export class Engine {
  private readonly result: DeployResult;
  /** When traffic last moved: a colour that lost it is not stopped before `drain` has passed. */
  private routedAt = 0;
  /** The new version passed its gate on health alone: it reports no version, so no confirm by version. */
  private versionUnreported = false;

  /** What a phase may take beyond its own timeout (a slow API call, a drain) before it is stopped. */
  private readonly graceMs: number;

  /** Told after each canary step below 100% that held for its judging time (notifications). */
  private readonly onCanaryStep?: (percent: number) => Promise<unknown>;

  constructor(
    private readonly config: DeployConfig,
    private readonly target: Target,
    opts: { graceMs?: number; onCanaryStep?: (percent: number) => Promise<unknown> } = {},
  ) {
    this.graceMs = opts.graceMs ?? PHASE_GRACE_MS;
    this.onCanaryStep = opts.onCanaryStep;
    this.result = {
      action: config.action,
      outcome: 'failed',
      rolledBack: false,
      plan: [],
      phases: [],
      checks: [],
      hooks: [],
      version: config.release?.version,
    };
  }

  async run(): Promise<DeployResult> {
    try {
      switch (this.config.action) {
        case 'status':
          await this.status();
          break;
        case 'deploy':
          await this.deploy(this.config.release!);
          break;
        case 'rollback':
          if (this.config.rollbackTo) await this.rollbackTo(this.config.rollbackTo);
          else await this.locked(() => this.rollback());
          break;
        case 'promote':
          await this.locked(() => this.promote());
          break;
      }
    } catch (e) {
      if (!(e instanceof UserError) && !(e instanceof PhaseTimeout)) throw e;
      this.result.error ??= e.message;
    }
    if (this.result.error) {
      if (this.result.outcome !== 'rolled-back') this.result.outcome = 'failed';
      throw new DeployFailure(this.result);
    }
    return this.result;
  }

  /** Runs one phase with a deadline and records it for the timeline. */
  private async phase<T>(name: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
    const p: Phase = { name, startMs: Date.now(), durationMs: 0 };
    this.result.phases.push(p);
    log.info(`▶ ${name}`);
    let cancel: (() => void) | undefined;
    try {
      return await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          cancel = afterMs(timeoutMs, () =>
            reject(new PhaseTimeout(`Phase \`${name}\` did not finish within ${formatDuration(timeoutMs)}.`)),
          );
        }),
      ]);
    } catch (e) {
      p.failed = true;
      throw e;
    } finally {
      cancel?.();
      p.durationMs = Date.now() - p.startMs;
      log.info(`${p.failed ? '✗' : '✓'} ${name} (${formatDuration(p.durationMs)})`);
    }
  }

  /** Fails the step; `phase` (when given) is marked failed on the timeline. */
  private fail(phase: string | undefined, message: string): never {
    const p = phase ? this.result.phases.findLast((x) => x.name === phase) : undefined;
    if (p) p.failed = true;
    this.result.error = message;
    throw new UserError(message);
  }

  /**
   * What runs where, read from the target, and whether the live version answers: one health check
   * and its version through the public entry (what a promotion from here requires), and the immutable
   * name of what it runs.
   */
  private async status(): Promise<void> {
    const c = this.config;
    const s = await this.phase('inspect', 60_000, () => this.target.read());
    this.result.state = s;
    this.result.outcome = 'status';
    this.result.live = s.live;
    this.result.previous = s.previous;
    if (!s.live) return;
    const live = s.colors[s.live];
    this.result.version = live.version;
    this.result.liveImage = live.image;
    this.result.liveDigest = await this.target.digestOf?.(s.live);
    // Without a public entry (a status asked with only the app's name) there is nothing to ask.
    if (!c.url) return;
    // A read, not a gate: a few seconds to answer, not ready-timeout.
    const timeoutMs = Math.min(c.readyTimeoutMs, 5_000);
    const check = await this.phase('live health', timeoutMs + 5_000, () =>
      waitHealthy({
        phase: 'live health',
        base: c.url,
        check: { ...c.health, successes: 1 },
        version: live.version
          ? { version: live.version, path: c.versionPath, header: c.versionHeader }
          : undefined,
        deadlineMs: Date.now() + timeoutMs,
      }),
    );
    this.result.checks.push(check);
    this.result.liveHealthy = check.passed;
  }

  private describePlan(s: DeployState, idle: Color, release: Release): string[] {
    const c = this.config;
    const live = s.live ? `${s.live} (${s.colors[s.live].version ?? s.colors[s.live].image})` : 'nothing yet';
    const metric = c.gate
      ? `Prometheus \`${c.gate.query}\` ${c.gate.comparator} ${c.gate.threshold} (no data: ${c.gate.onNoData})`
      : 'no metric gate';
    return [
      `target: ${this.target.describe()}`,
      `live now: ${live}`,
      `deploy ${release.image}${release.version ? ` (version ${release.version})` : ''} as ${idle} at ${this.target.endpoint(idle)}`,
      `gate: GET ${c.health.path} → ${c.health.status}${c.health.body ? ` matching /${c.health.body.source}/` : ''}, ${c.health.successes}× in a row every ${formatDuration(c.health.intervalMs)}${release.version ? `; ${c.versionPath} reports ${release.version}` : ''}; ${metric}; ready within ${formatDuration(c.readyTimeoutMs)}`,
      c.autoPromote
        ? `switch: ${idle} takes the traffic; confirm through ${c.url} within ${formatDuration(c.confirmTimeoutMs)}`
        : `stop before the switch (auto-promote: false); \`action: promote\` switches`,
      `verify: ${formatDuration(c.verifyMs)} of checks through ${c.url} and on ${idle}; any failure switches back${s.live ? ` to ${s.live}` : ''}`,
      s.live
        ? c.keepOldMs === 'forever'
          ? `old colour ${s.live}: kept running`
          : `old colour ${s.live}: kept ${formatDuration(c.keepOldMs)}, then stopped with ${formatDuration(c.drainMs)} to drain`
        : 'old colour: none',
    ];
  }

  private async deploy(release: Release, opts: { rollback?: boolean } = {}): Promise<void> {
    const c = this.config;
    const seen = await this.phase('inspect', 60_000, () => this.target.read());
    this.result.plan = this.describePlan(seen, seen.live ? otherColor(seen.live) : 'blue', release);
    for (const line of this.result.plan) log.info(`  ${line}`);
    if (c.dryRun) {
      if (this.target.dryRunDiff)
        this.result.diff = await this.phase('server-side dry run', 60_000, () =>
          this.target.dryRunDiff!(seen.live ? otherColor(seen.live) : 'blue', release),
        );
      this.result.outcome = 'planned';
      this.result.live = seen.live;
      this.result.previous = seen.previous;
      return;
    }
    await this.phase('pull', c.pullTimeoutMs + 5_000, () => this.target.prepare(release));
    await this.locked(async () => {
      // Read again under the lock: another deploy may have switched while this one waited.
      const s = await this.target.read();
      const live = s.live;
      const idle: Color = live ? otherColor(live) : 'blue';
      this.result.previousVersion = live ? s.colors[live].version : undefined;
      this.result.live = live;
      this.result.previous = s.previous;
      if (s.canary) {
        // The canary's colour is the idle one: replacing it now would put an ungated version in the split.
        const { color, percent } = s.canary;
        this.fail(
          undefined,
          `A canary of ${s.colors[color].version ?? s.colors[color].image ?? color} takes ${percent}% of new requests on ${color}. Finish it first: action: promote takes the next step, action: rollback sends every request back to ${live ?? 'the stable colour'}.`,
        );
      }
      if (live && (await this.target.runs(s.colors[live], release))) {
        const again = await this.phase('already live', c.readyTimeoutMs, () =>
          waitHealthy({
            phase: 'already live',
            // Through the public entry: it serves the live colour by definition.
            base: c.url,
            check: { ...c.health, successes: 1 },
            deadlineMs: Date.now() + c.readyTimeoutMs,
          }),
        );
        this.result.checks.push(again);
        if (again.passed) {
          log.info(`${release.image} is already live as ${live} and healthy: nothing to do.`);
          this.result.outcome = 'unchanged';
          this.result.live = live;
          this.result.previous = s.previous;
          return;
        }
        log.warning(`${release.image} is live as ${live} but not healthy; deploying it again as ${idle}.`);
      }
      // Going back never runs the old version's migration against the newer schema.
      if (c.hooks?.beforeTraffic && opts.rollback)
        log.info('  before-traffic is not run on a rollback: the schema stays as the newer version left it');
      else if (c.hooks?.beforeTraffic) await this.beforeTraffic(idle, release, live);
      try {
        // The target's own readiness wait reports better than the phase deadline, so give it room.
        await this.phase(`start ${idle}`, c.readyTimeoutMs + this.graceMs, () =>
          this.target.start(idle, release),
        );
      } catch (e) {
        await this.target.stop(idle, 1_000).catch(() => undefined);
        throw e;
      }
      await this.gate('ready', idle, release.version);
      if (c.strategy === 'canary' && live && !c.autoPromote) {
        await this.canary(idle, live, release.version, s.previous);
        this.result.outcome = 'previewing';
        log.info(`The canary takes ${c.steps[0]}% of new requests; run action: promote for the next step.`);
        return;
      }
      if (!c.autoPromote) {
        this.result.outcome = 'previewing';
        this.result.live = live;
        this.result.previous = s.previous;
        log.info(
          `${idle} passed its checks at ${this.target.endpoint(idle)}; run with action: promote to switch.`,
        );
        return;
      }
      if (c.strategy === 'canary' && live) await this.canary(idle, live, release.version, s.previous);
      await this.switchAndVerify(idle, live, release.version, this.result.previousVersion);
    }, release.image);
  }

  /**
   * The canary's steps below 100% (from `after` on; all of them, or only the next with auto-promote
   * false): each sends its share of new requests to the new colour (the same graceful reload as a
   * switch) and is judged for `stepMs` by health checks through the public entry and on the
   * colour, and by the metric gate. A failure puts every request back on the live colour and stops
   * the new one.
   */
  private async canary(
    to: Color,
    live: Color,
    version: string | undefined,
    previous?: Color,
    after = 0,
  ): Promise<void> {
    const c = this.config;
    const steps = c.steps.filter((p) => p > after && p < 100);
    const take = c.autoPromote ? steps : steps.slice(0, 1);
    for (const percent of take) {
      try {
        // The target's own readiness waits (replicas on Kubernetes) report better than the deadline.
        const timing = await this.phase(`canary ${percent}%`, 2 * c.readyTimeoutMs + 60_000, () =>
          this.target.weigh!(to, percent, { live, previous, version: this.result.previousVersion }),
        );
        if (timing?.note) {
          this.result.phases.at(-1)!.note = timing.note;
          log.info(`  canary ${percent}%: ${timing.note}`);
        }
      } catch (e) {
        // A step the router did not finish: every request back on the live colour before the new one stops.
        await this.target
          .route(live, { live, previous, version: this.result.previousVersion })
          .catch((back: Error) =>
            log.warning(`Could not route every request back to ${live}: ${back.message}`),
          );
        await this.target.stop(to, 1_000);
        throw e;
      }
      this.routedAt = Date.now();
      const v = await this.phase(`judge ${percent}%`, c.stepMs + 60_000, () =>
        this.watch(`canary ${percent}%`, to, version, c.stepMs),
      );
      if (!v) {
        await this.onCanaryStep?.(percent);
        continue;
      }
      const seenIn = this.result.phases.at(-1);
      if (seenIn) seenIn.failed = true;
      this.result.rolledBack = true;
      this.result.outcome = 'rolled-back';
      let backMs = 0;
      await this.backToStable(live, previous, this.result.previousVersion, to, () => {
        backMs = this.result.rollbackMs = Date.now() - v.at;
      });
      this.fail(
        undefined,
        `${v.detail}. The canary stopped at ${percent}%: every request goes to ${live}${this.result.previousVersion ? ` (${this.result.previousVersion})` : ''} again ${formatDuration(backMs)} after the failed check; ${to} was stopped.`,
      );
    }
  }

  /**
   * Ends a canary: every new request to the stable colour (`live`), then the canary colour retired
   * (drained and stopped). `routed` runs as soon as the traffic is back, before the retire.
   */
  private async backToStable(
    live: Color,
    previous: Color | undefined,
    version: string | undefined,
    canary: Color,
    routed?: () => void,
  ): Promise<void> {
    await this.phase('back to stable', 60_000, () => this.target.route(live, { live, previous, version }));
    routed?.();
    this.result.live = live;
    await this.phase(`stop ${canary}`, 2 * this.config.drainMs + 90_000, () => this.retire(canary));
  }

  /** Health (and version) checks on the colour directly, then the metric gate. Fails the phase, never switches. */
  /**
   * The before-traffic command, once, as the new version, before anything of it starts: nothing has
   * moved yet, so a failure leaves the live colour exactly as it was.
   */
  private async beforeTraffic(color: Color, release: Release, live: Color | undefined): Promise<void> {
    const h = this.config.hooks!;
    const runOnce = this.target.runOnce?.bind(this.target);
    if (!runOnce)
      this.fail(
        undefined,
        `${this.target.describe()} cannot run a before-traffic command; remove \`before-traffic\` or deploy to a target that runs it (docker, hosts, kubernetes).`,
      );
    const started = Date.now();
    const run = await this.phase('before traffic', h.timeoutMs + this.graceMs, async () =>
      hookRun(
        'before-traffic',
        argsText(h.beforeTraffic!),
        await runOnce(color, release, h.beforeTraffic!, h.timeoutMs),
        Date.now() - started,
      ),
    );
    this.logHook(run);
    if (!run.passed)
      this.fail(
        'before traffic',
        `The before-traffic command (${run.command}) ${hookOutcome(run)} on ${run.where}, so nothing was started or switched: ${live ? `traffic stays on ${live}` : 'nothing was live before'}.${run.output ? ` Its last lines:\n${run.output}` : ''}`,
      );
  }

  private logHook(run: HookRun): void {
    this.result.hooks.push(run);
    log.info(`  ${run.hook} (${run.command}) on ${run.where} ${hookOutcome(run)}`);
    if (run.output) for (const line of run.output.split('\n')) log.info(`    ${line}`);
  }

  private async gate(name: string, color: Color, version: string | undefined): Promise<void> {
    const c = this.config;
    const check = await this.phase(name, c.readyTimeoutMs + 5_000, () =>
      waitHealthy({
        phase: name,
        base: this.target.endpoint(color),
        check: c.health,
        version: version ? { version, path: c.versionPath, header: c.versionHeader } : undefined,
        deadlineMs: Date.now() + c.readyTimeoutMs,
        fatal: () => this.target.crashed(color),
      }),
    );
    this.result.checks.push(check);
    if (check.versionUnreported) this.versionUnreported = true;
    if (!check.passed) {
      await this.target.stop(color, 1_000);
      this.fail(name, `${color} did not pass its checks, so traffic was not moved: ${check.detail}`);
    }
    if (c.gate) {
      const g = await this.phase('metric gate', c.gate.timeoutMs + 5_000, () =>
        evaluateGate(c.gate!, { COLOR: color, VERSION: version ?? '' }),
      );
      this.result.checks.push(
        record('metric gate', 'prometheus', c.gate.url, 1, g.passed, g.detail, Date.now()),
      );
      log.info(`  metric gate: ${g.detail}`);
      if (!g.passed) {
        await this.target.stop(color, 1_000);
        this.fail(
          'metric gate',
          `The metric gate failed before the switch, so traffic was not moved: ${g.detail}`,
        );
      }
    }
  }

  private async switchAndVerify(
    to: Color,
    from: Color | undefined,
    version: string | undefined,
    oldVersion: string | undefined,
  ): Promise<void> {
    const c = this.config;
    const snapshot = await this.target.routeSnapshot();
    const reloadAt = Date.now();
    let settleMs = 0;
    try {
      const timing = await this.phase('switch', 60_000, () =>
        this.target.route(to, { live: to, previous: from, version }),
      );
      settleMs = timing?.settleMs ?? 0;
      this.routedAt = Date.now();
    } catch (e) {
      // The router refused: traffic stays where it was, and the new colour does not linger.
      await this.target.stop(to, 1_000);
      throw e;
    }
    this.result.live = to;
    this.result.previous = from;
    let failure: string | undefined;
    let failedAt = 0;
    if (version && !this.versionUnreported) {
      const confirm = await this.phase('confirm', c.confirmTimeoutMs + 5_000, () =>
        this.confirm(version, oldVersion, reloadAt, c.confirmTimeoutMs),
      );
      this.result.checks.push(confirm.check);
      // The router's own figure (old nginx workers retired) or the last old answer seen, whichever is later.
      if (oldVersion) this.result.mixedWindowMs = Math.max(settleMs, confirm.lastOldMs ?? 0);
      if (!confirm.check.passed) {
        failure = `after the switch ${c.url} did not answer as ${version}: ${confirm.check.detail}`;
        failedAt = Date.now();
      }
    } else if (!version) {
      log.warning(
        'No version is known for this image, so the switch is not confirmed by version; set `version`.',
      );
    }
    if (!failure && c.hooks?.afterSwitch) {
      const h = c.hooks;
      const run = await this.phase('after switch', h.timeoutMs + this.graceMs, () =>
        runAfterSwitch(h.afterSwitch!, { url: c.url, version, color: to }, h.timeoutMs, h.afterSwitchEnv),
      );
      this.logHook(run);
      if (!run.passed) {
        failure = `the after-switch command ${hookOutcome(run)}`;
        failedAt = Date.now();
      }
    }
    if (!failure) {
      const v = await this.phase('verify', c.verifyMs + this.graceMs, () =>
        this.watch('verify', to, version, c.verifyMs),
      );
      if (v) [failure, failedAt] = [v.detail, v.at];
    }
    if (!failure && from && c.keepOldMs !== 'forever' && c.keepOldMs > 0) {
      const keepMs = c.keepOldMs;
      const v = await this.phase('keep old', keepMs + this.graceMs, () =>
        this.watch('keep old', to, version, keepMs),
      );
      if (v) [failure, failedAt] = [v.detail, v.at];
    }
    if (failure) {
      // The phase that saw the failure is the failed one on the timeline (it returned normally).
      const seenIn = this.result.phases.at(-1);
      if (seenIn) seenIn.failed = true;
      await this.switchBack(to, from, oldVersion, snapshot, failedAt, failure);
    }
    if (from && c.keepOldMs !== 'forever')
      await this.phase(`stop ${from}`, 2 * c.drainMs + 90_000, () => this.retire(from));
    this.result.outcome = 'switched';
  }

  /**
   * Probes the public entry on fresh connections until `need` answers in a row come from the new
   * version. The last old-version answer after the reload bounds the mixed-version window.
   */
  private async confirm(
    version: string,
    oldVersion: string | undefined,
    reloadAt: number,
    timeoutMs: number,
  ): Promise<{ check: CheckRecord; lastOldMs?: number }> {
    const c = this.config;
    const url = c.url + c.versionPath;
    const need = 5;
    let streak = 0;
    let attempts = 0;
    let lastOld: number | undefined;
    let last = '';
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      attempts++;
      const p = await probe(url, c.health.timeoutMs);
      const got = p.status === 200 ? versionOf(p, c.versionHeader) : undefined;
      if (p.status === 200 && sameVersion(got, version)) {
        if (++streak >= need) {
          const window = lastOld !== undefined ? lastOld - reloadAt : 0;
          log.info(
            `  confirm: ${c.url} answers ${version} (${need}× in a row); last old-version answer ${formatDuration(window)} after the reload`,
          );
          return {
            check: record('confirm', 'version', url, attempts, true, `${version} ${need}× in a row`, started),
            lastOldMs: window,
          };
        }
        continue;
      }
      streak = 0;
      if (oldVersion && sameVersion(got, oldVersion)) lastOld = Date.now();
      last = p.status === 0 ? (p.error ?? 'no answer') : `HTTP ${p.status}, version ${got ?? 'unknown'}`;
      await sleep(20);
    }
    return {
      check: record(
        'confirm',
        'version',
        url,
        attempts,
        false,
        `not ${version} within ${formatDuration(timeoutMs)} (last: ${last})`,
        started,
      ),
      lastOldMs: lastOld !== undefined ? lastOld - reloadAt : undefined,
    };
  }

  /**
   * Checks through the public entry and on the colour directly (and the metric gate) every interval
   * for `ms`. Returns the first failure, with when it was seen; undefined when everything passed.
   */
  private async watch(
    phase: string,
    color: Color,
    version: string | undefined,
    ms: number,
  ): Promise<{ detail: string; at: number } | undefined> {
    const c = this.config;
    const started = Date.now();
    const urls = [c.url, this.target.endpoint(color)];
    const counts = [0, 0];
    let gateChecks = 0;
    let lastProgress = started;
    for (;;) {
      for (const [i, base] of urls.entries()) {
        const p = await probe(base + c.health.path, c.health.timeoutMs);
        counts[i]++;
        const why = healthFailure(p, c.health);
        if (why) {
          const detail = `${phase}: ${base + c.health.path} → ${why} after ${formatDuration(Date.now() - started)}`;
          this.result.checks.push(
            record(phase, 'health', base + c.health.path, counts[i], false, detail, started),
          );
          log.info(`  ${detail}`);
          return { detail, at: Date.now() };
        }
      }
      if (c.gate) {
        gateChecks++;
        const g = await evaluateGate(c.gate, { COLOR: color, VERSION: version ?? '' });
        if (!g.passed) {
          const detail = `${phase}: metric gate failed: ${g.detail}`;
          this.result.checks.push(
            record(phase, 'prometheus', c.gate.url, gateChecks, false, detail, started),
          );
          log.info(`  ${detail}`);
          return { detail, at: Date.now() };
        }
      }
      const elapsed = Date.now() - started;
      if (elapsed >= ms) break;
      if (Date.now() - lastProgress >= 5_000) {
        lastProgress = Date.now();
        log.info(`  ${phase}: ${formatDuration(elapsed)} of ${formatDuration(ms)}, all checks passing`);
      }
      await sleep(Math.min(c.health.intervalMs, ms - elapsed));
    }
    for (const [i, base] of urls.entries())
      this.result.checks.push(
        record(
          phase,
          'health',
          base + c.health.path,
          counts[i],
          true,
          `passed for ${formatDuration(ms)}`,
          started,
        ),
      );
    if (c.gate)
      this.result.checks.push(
        record(
          phase,
          'prometheus',
          c.gate.url,
          gateChecks,
          true,
          `passed for ${formatDuration(ms)}`,
          started,
        ),
      );
    return undefined;
  }

  /**
   * Stops a colour that just lost the traffic. The router's old workers may still be opening
   * connections for requests they accepted before the switch (an nginx reload retires them
   * asynchronously), so the colour keeps listening until `drain` has passed since the switch; then
   * it gets SIGTERM and `drain` again to finish what it holds.
   */
  private async retire(color: Color): Promise<void> {
    const c = this.config;
    const wait = this.routedAt + c.drainMs - Date.now();
    if (wait > 0) {
      log.info(
        `  waiting ${formatDuration(wait)} (drain) for requests routed before the switch to reach ${color}`,
      );
      await sleep(wait);
    }
    await this.target.stop(color, c.drainMs);
  }

  /** Traffic back to the old colour (or, on a first deploy, to whatever was routed before), then fail. */
  private async switchBack(
    to: Color,
    from: Color | undefined,
    oldVersion: string | undefined,
    snapshot: unknown,
    failedAt: number,
    failure: string,
  ): Promise<never> {
    const c = this.config;
    this.result.rolledBack = true;
    this.result.outcome = 'rolled-back';
    if (!from) {
      await this.phase('switch back', 60_000, () => this.target.unroute(snapshot));
      this.result.live = undefined;
      await this.target.stop(to, c.drainMs);
      this.fail(
        undefined,
        `${failure}. There was no previous version: the route was put back as it was before this deploy and ${to} was stopped.`,
      );
    }
    await this.phase('switch back', 60_000, () =>
      this.target.route(from, { live: from, previous: to, version: oldVersion }),
    );
    this.routedAt = Date.now();
    this.result.live = from;
    this.result.previous = to;
    if (oldVersion && !this.versionUnreported) {
      const back = await this.phase('confirm back', c.confirmTimeoutMs + 5_000, () =>
        this.confirm(oldVersion, undefined, Date.now(), c.confirmTimeoutMs),
      );
      this.result.checks.push({ ...back.check, phase: 'confirm back' });
      if (!back.check.passed)
        this.fail(
          'confirm back',
          `${failure}. Switched back to ${from}, but ${c.url} does not answer as ${oldVersion}: ${back.check.detail}`,
        );
    }
    this.result.rollbackMs = Date.now() - failedAt;
    log.info(`  traffic is back on ${from} ${formatDuration(this.result.rollbackMs)} after the failed check`);
    await this.phase(`stop ${to}`, 2 * c.drainMs + 90_000, () => this.retire(to));
    this.fail(
      undefined,
      `${failure}. Rolled back: traffic is on ${from}${oldVersion ? ` (${oldVersion})` : ''} again ${formatDuration(this.result.rollbackMs)} after the failed check; ${to} was stopped.`,
    );
  }

  private async rollback(): Promise<void> {
    const s = await this.target.read();
    this.result.state = s;
    if (s.canary && s.live) {
      // A canary left at a step: every request back to the stable colour, the canary stopped.
      this.result.version = s.colors[s.live].version;
      await this.backToStable(s.live, s.previous, this.result.version, s.canary.color, () => {
        this.routedAt = Date.now();
      });
      this.result.rolledBack = true;
      this.result.outcome = 'switched';
      return;
    }
    if (!s.live)
      throw new UserError(
        `Nothing to roll back: ${this.config.app} has no live colour on ${this.target.describe()}.`,
      );
    const back = otherColor(s.live);
    const st = s.colors[back];
    if (st.state === 'absent')
      throw new UserError(
        `Nothing to roll back to: ${back} was never deployed (or was removed) on ${this.target.describe()}.`,
      );
    this.result.previousVersion = s.colors[s.live].version;
    this.result.version = st.version;
    if (st.state !== 'running')
      await this.phase(`start ${back}`, this.config.readyTimeoutMs + this.graceMs, () =>
        this.target.resume(back),
      );
    await this.gate('ready', back, st.version);
    await this.switchAndVerify(back, s.live, st.version, s.colors[s.live].version);
    this.result.rolledBack = true;
  }

  /**
   * Rollback to any release the target's history holds: its image is deployed again through the
   * same start, gate, switch and verify as a new release (it may be several releases back, so
   * neither colour may still run it).
   */
  private async rollbackTo(version: string): Promise<void> {
    const s = await this.target.read();
    const history = s.history ?? [];
    const entry = [...history].reverse().find((h) => sameVersion(h.version, version));
    if (!entry)
      throw new UserError(
        `Input \`to\` got \`${version}\`; it accepts a version from ${this.config.app}'s history on ${this.target.describe()}: ${
          history.length ? history.map((h) => h.version ?? h.image).join(', ') : 'none recorded yet'
        }. Run action: status to see it.`,
      );
    log.info(`Rolling back to ${entry.version ?? entry.image}: ${entry.image}, live from ${entry.at}`);
    this.result.version = entry.version;
    await this.deploy({ image: entry.image, version: entry.version }, { rollback: true });
    this.result.rolledBack = this.result.outcome === 'switched' || this.result.rolledBack;
  }

  private async promote(): Promise<void> {
    const s = await this.target.read();
    this.result.state = s;
    if (s.canary && s.live) {
      // A canary left at a step by auto-promote false: the next step, or the full switch after the last.
      const { color, percent } = s.canary;
      const st = s.colors[color];
      this.result.version = st.version;
      this.result.previousVersion = s.colors[s.live].version;
      this.result.live = s.live;
      const remaining = this.config.steps.some((p) => p > percent && p < 100);
      if (remaining) await this.canary(color, s.live, st.version, s.previous, percent);
      if (remaining && !this.config.autoPromote) {
        this.result.outcome = 'previewing';
        return;
      }
      await this.switchAndVerify(color, s.live, st.version, this.result.previousVersion);
      return;
    }
    const idle: Color = s.live ? otherColor(s.live) : s.colors.blue.state === 'running' ? 'blue' : 'green';
    const st = s.colors[idle];
    if (st.state !== 'running')
      throw new UserError(
        `Nothing to promote: ${idle} is ${st.state}. Deploy with auto-promote: false first; it leaves the new version running as the idle colour.`,
      );
    this.result.version = st.version;
    this.result.previousVersion = s.live ? s.colors[s.live].version : undefined;
    await this.gate('ready', idle, st.version);
    await this.switchAndVerify(idle, s.live, st.version, this.result.previousVersion);
  }

  /**
   * Holds the target's lock around `fn`, waiting up to lock-timeout for another deploy to finish.
   * Every locked action (deploy, promote, rollback) is held to the same plan first: a promote with
   * keep-old runs the same switch, verify, keep and stop phases a deploy does.
   */
  private async locked(fn: () => Promise<void>, image = this.config.release?.image): Promise<void> {
    const c = this.config;
    checkLockHold(c);
    const lock = await this.phase('lock', c.lockTimeoutMs + this.graceMs, async () => {
      const until = Date.now() + c.lockTimeoutMs;
      let told = false;
      for (;;) {
        const a = await this.target.tryLock(c.holder, c.lockTtlMs, image);
        if (a.acquired) return a;
        if (Date.now() >= until)
          throw new UserError(
            `Another deploy of ${c.app} holds the lock: ${a.held.holder}, since ${a.held.since} (expires ${a.held.expires}). ${c.lockTimeoutMs ? `Waited ${formatDuration(c.lockTimeoutMs)}. ` : ''}Wait for it to finish, raise lock-timeout, or use a concurrency group in the workflow.`,
          );
        if (!told) log.info(`  waiting for the lock: held by ${a.held.holder} since ${a.held.since}`);
        told = true;
        // Once a second, and once more at the deadline: lock-timeout is honoured to the moment.
        await sleep(Math.min(1_000, Math.max(until - Date.now(), 0)));
      }
    });
    // Renewed at a third of its TTL while held, where the target can renew (a Kubernetes Lease).
    const renew = lock.renew;
    const renewal = renew
      ? setInterval(
          () =>
            void renew().catch((e) =>
              log.warning(`Could not renew the deploy lock: ${(e as Error).message}`),
            ),
          Math.max(1_000, Math.floor(c.lockTtlMs / 3)),
        )
      : undefined;
    try {
      await fn();
    } finally {
      clearInterval(renewal);
      await lock.release();
    }
  }
}
