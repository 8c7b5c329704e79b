import { UserError } from '../runner/errors.js';
import { formatDuration, log } from '../runner/log.js';
import { sleep } from './checks.js';
import { type DeployConfig, DeployFailure, type DeployResult, Engine } from './engine.js';
import { argsText, hookOutcome, hookRun, type HookRun } from './hooks.js';
import { otherColor, type LockAttempt, type Target } from './target.js';

/** Several targets deployed as one: servers behind a load balancer, each with its own colours. */
export interface Fleet {
  members: {
    name: string;
    target: Target;
    /** Bytes sent to this member so far. */
    sent?: () => number;
    /**
     * The member's own entry, confirmed and verified through after it switches: the fleet's public
     * URL answers from every member, so it cannot tell whether this one switched.
     */
    url?: () => string;
    /** A word on how this member switched, for its row (e.g. the gap of a restart). */
    note?: () => string | undefined;
  }[];
  /** Members deployed at once: a number, or a percentage of the fleet (`25%`). */
  batch: string;
  /** Reaches every member before anything changes (an SSH host key refused stops it here). */
  connect?(): Promise<void>;
  /** Closes connections; called once the run is over, whatever happened. */
  close(): Promise<void>;
}

export interface MemberResult {
  name: string;
  /** `deployed`: switched and verified; `returned`: put back on the release it had; `untouched`: not reached. */
  outcome: 'deployed' | 'unchanged' | 'failed' | 'returned' | 'untouched' | 'status' | 'planned';
  result?: DeployResult;
  error?: string;
  /** Bytes this run sent to the member (binaries uploaded), where the target counts them. */
  sent?: number;
  note?: string;
}

export interface FleetResult {
  action: DeployConfig['action'];
  outcome: 'switched' | 'unchanged' | 'rolled-back' | 'failed' | 'status' | 'planned';
  batches: string[][];
  members: MemberResult[];
  error?: string;
  /** before-traffic, run once for the fleet. */
  hooks?: HookRun[];
}

export class FleetFailure extends Error {
  constructor(readonly result: FleetResult) {
    super(result.error ?? 'fleet deploy failed');
  }
}

/** `2` or `50%` of `n` members, at least 1. */
export function batchSize(batch: string, n: number): number {
  const m = /^(\d+)(%?)$/.exec(batch.trim());
  if (!m || Number(m[1]) < 1 || (m[2] && Number(m[1]) > 100))
    throw new UserError(
      `Input \`batch\` got \`${batch}\`; it accepts a whole number of hosts (1 or more) or a percentage (1% to 100%), e.g. \`1\` or \`25%\`.`,
    );
  return Math.max(1, Math.min(n, m[2] ? Math.ceil((n * Number(m[1])) / 100) : Number(m[1])));
}

/** The members in batches, in the order given. */
export function batchesOf<T>(members: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < members.length; i += size) out.push(members.slice(i, i + size));
  return out;
}

/**
 * A rolling deploy over a fleet, batch by batch, each member through the same engine (its own gate,
 * switch and verify) before the next batch starts. Every member's lock is taken first and held (and
 * renewed) to the end, so two workflows never deploy the same fleet at once. The first failure
 * stops the rollout and puts every member this run changed back on the release it had; members
 * not reached are not touched.
 */
export async function runFleet(config: DeployConfig, fleet: Fleet): Promise<FleetResult> {
  const names = fleet.members.map((m) => m.name);
  const size = batchSize(fleet.batch, names.length);
  const batches = batchesOf(fleet.members, size);
  const result: FleetResult = {
    action: config.action,
    outcome: 'failed',
    batches: batches.map((b) => b.map((m) => m.name)),
    members: fleet.members.map((m) => ({ name: m.name, outcome: 'untouched' })),
  };
  const record = (name: string) => result.members.find((m) => m.name === name)!;
  await fleet.connect?.();
  const locks = config.action === 'status' || config.dryRun ? [] : await lockAll(config, fleet);
  const renewal = setInterval(
    () =>
      void Promise.all(locks.map((l) => l.renew?.())).catch((e) =>
        log.warning(`Could not renew a deploy lock: ${(e as Error).message}`),
      ),
    Math.max(1_000, Math.floor(config.lockTtlMs / 3)),
  );
  // The fleet holds the locks; each member's engine sees them as its own.
  const held = (t: Target): Target =>
    new Proxy(t, {
      get: (target, p) =>
        p === 'tryLock'
          ? async (): Promise<LockAttempt> => ({ acquired: true, release: async () => {} })
          : (Reflect.get(target, p, target) as unknown),
    });
  try {
    // The before-traffic command runs once for the fleet, on the first server, before any batch:
    // a migration must not run once per server, and must have passed before any server switches.
    const before = config.action === 'deploy' && !config.dryRun ? config.hooks?.beforeTraffic : undefined;
    if (before) {
      const failed = await fleetBeforeTraffic(config, fleet.members[0], result);
      if (failed) {
        result.error = failed;
        return result;
      }
    }
    for (const [i, batch] of batches.entries()) {
      log.info(`■ batch ${i + 1} of ${batches.length}: ${batch.map((m) => m.name).join(', ')}`);
      const settled = await Promise.allSettled(
        batch.map((m) => new Engine(memberConfig(config, m), held(m.target)).run()),
      );
      let failed: string | undefined;
      settled.forEach((s, j) => {
        const r = record(batch[j].name);
        if (s.status === 'fulfilled') {
          r.result = s.value;
          r.outcome =
            s.value.outcome === 'switched'
              ? 'deployed'
              : s.value.outcome === 'status'
                ? 'status'
                : s.value.outcome === 'planned'
                  ? 'planned'
                  : 'unchanged';
        } else {
          const e = s.reason as unknown;
          r.outcome = 'failed';
          r.result = e instanceof DeployFailure ? e.result : undefined;
          r.error = e instanceof DeployFailure || e instanceof UserError ? (e as Error).message : String(e);
          failed ??= `${batch[j].name}: ${r.error}`;
          if (!(e instanceof DeployFailure) && !(e instanceof UserError)) throw e;
        }
      });
      if (failed) {
        result.error = failed;
        if (config.action === 'deploy') await returnChanged(config, fleet, result, held);
        return result;
      }
    }
    const outcomes = new Set(result.members.map((m) => m.outcome));
    result.outcome =
      config.action === 'status'
        ? 'status'
        : config.dryRun
          ? 'planned'
          : outcomes.has('deployed')
            ? 'switched'
            : 'unchanged';
    return result;
  } finally {
    for (const m of fleet.members) {
      if (m.sent) record(m.name).sent = m.sent();
      if (m.note) record(m.name).note = m.note();
    }
    clearInterval(renewal);
    await Promise.all(locks.map((l) => l.release().catch(() => undefined)));
  }
}

type Held = Extract<LockAttempt, { acquired: true }>;

/** The deploy settings of one member: its own entry instead of the fleet's; before-traffic is the fleet's. */
function memberConfig(config: DeployConfig, m: Fleet['members'][number]): DeployConfig {
  const hooks = config.hooks && { ...config.hooks, beforeTraffic: undefined };
  return { ...config, hooks, ...(m.url ? { url: m.url() } : {}) };
}

/** Runs before-traffic on `member` (its release sent first); the reason when it failed. */
async function fleetBeforeTraffic(
  config: DeployConfig,
  member: Fleet['members'][number],
  result: FleetResult,
): Promise<string | undefined> {
  const h = config.hooks!;
  const t = member.target;
  if (!t.runOnce) return `${t.describe()} cannot run a before-traffic command.`;
  const release = config.release!;
  log.info(`■ before traffic, once for the fleet, on ${member.name}`);
  await t.prepare(release);
  const s = await t.read();
  const started = Date.now();
  const run = hookRun(
    'before-traffic',
    argsText(h.beforeTraffic!),
    await t.runOnce(s.live ? otherColor(s.live) : 'blue', release, h.beforeTraffic!, h.timeoutMs),
    Date.now() - started,
  );
  result.hooks = [run];
  log.info(`  before-traffic (${run.command}) on ${run.where} ${hookOutcome(run)}`);
  if (run.output) for (const line of run.output.split('\n')) log.info(`    ${line}`);
  if (run.passed) return undefined;
  return `The before-traffic command (${run.command}) ${hookOutcome(run)} on ${run.where}, so no server was started or switched.${run.output ? ` Its last lines:\n${run.output}` : ''}`;
}

/** Every member's lock, waited for up to lock-timeout; all or none. */
async function lockAll(config: DeployConfig, fleet: Fleet): Promise<Held[]> {
  const taken: Held[] = [];
  const until = Date.now() + config.lockTimeoutMs;
  try {
    for (const m of fleet.members) {
      let told = false;
      for (;;) {
        const a = await m.target.tryLock(config.holder, config.lockTtlMs, config.release?.image);
        if (a.acquired) {
          taken.push(a);
          break;
        }
        if (Date.now() >= until)
          throw new UserError(
            `Another deploy holds the lock on ${m.name}: ${a.held.holder}, since ${a.held.since} (expires ${a.held.expires}).${config.lockTimeoutMs ? ` Waited ${formatDuration(config.lockTimeoutMs)}.` : ''} Nothing was changed on any host. Wait for it to finish, raise lock-timeout, or use a concurrency group in the workflow.`,
          );
        if (!told)
          log.info(`  ${m.name}: waiting for the lock held by ${a.held.holder} since ${a.held.since}`);
        told = true;
        await sleep(1_000);
      }
    }
    return taken;
  } catch (e) {
    await Promise.all(taken.map((l) => l.release().catch(() => undefined)));
    throw e;
  }
}

/** After a failure: every member this run switched goes back to the release it had. */
async function returnChanged(
  config: DeployConfig,
  fleet: Fleet,
  result: FleetResult,
  held: (t: Target) => Target,
): Promise<void> {
  const changed = result.members.filter((m) => m.outcome === 'deployed');
  result.outcome = 'rolled-back';
  if (!changed.length) return;
  log.info(`■ returning ${changed.map((m) => m.name).join(', ')} to the release they had`);
  const back = { ...config, action: 'rollback' as const, rollbackTo: undefined };
  await Promise.all(
    changed.map(async (m) => {
      const member = fleet.members.find((x) => x.name === m.name)!;
      try {
        await new Engine(memberConfig(back, member), held(member.target)).run();
        m.outcome = 'returned';
      } catch (e) {
        m.outcome = 'failed';
        m.error = `could not be returned: ${(e as Error).message}`;
        result.outcome = 'failed';
      }
    }),
  );
}
