import { childEnv } from '../runner/child-env.js';
import { runCommand, shellQuote } from '../runner/command.js';
import { formatDuration } from '../runner/log.js';

/**
 * Commands a deploy runs around the switch. `beforeTraffic` runs once, under the deploy lock, as the
 * new version (a container from its image, a Kubernetes Job from its pod template, or its binary on
 * the first server of a fleet) before any request reaches it, e.g. a database migration: if it fails
 * nothing starts and nothing switches. `afterSwitch` runs on the runner once the public entry
 * answers as the new version, e.g. a smoke test against the URL: if it fails the deploy rolls back.
 */
export interface Hooks {
  /** The arguments the new version runs with, the way `args` are given to the colours (`migrate up`). */
  beforeTraffic?: string[];
  /** A shell command on the runner; GO_SHIP_URL, GO_SHIP_VERSION and GO_SHIP_COLOR say what it checks. */
  afterSwitch?: string;
  /** Names of the job's variables it may see besides the allow-list (`after-switch-env`). */
  afterSwitchEnv?: string[];
  /** Each command's limit; it is stopped when it is over. */
  timeoutMs: number;
}

/** What a target reports of a command it ran as the new version. */
export interface OneOff {
  /** Where it ran, for the summary: `a container from app:1.2.0`, `web-1: app 1.2.0`. */
  where: string;
  code: number;
  timedOut: boolean;
  /** stdout and stderr, as the command wrote them. */
  output: string;
}

export interface HookRun {
  hook: 'before-traffic' | 'after-switch';
  where: string;
  /** As a person would type it; for the summary only. */
  command: string;
  code: number;
  timedOut: boolean;
  durationMs: number;
  /** The last lines of its output. */
  output: string;
  passed: boolean;
}

const TAIL_LINES = 30;

/** The last `n` lines of a command's output (a migration prints a line per step; the end says why). */
export function outputTail(text: string, n = TAIL_LINES): string {
  const lines = text.replace(/\s+$/, '').split('\n');
  return (lines.length > n ? [`… ${lines.length - n} earlier lines`, ...lines.slice(-n)] : lines).join('\n');
}

export function hookRun(hook: HookRun['hook'], command: string, r: OneOff, durationMs: number): HookRun {
  return {
    hook,
    where: r.where,
    command,
    code: r.code,
    timedOut: r.timedOut,
    durationMs,
    output: outputTail(r.output),
    passed: r.code === 0 && !r.timedOut,
  };
}

/** How a hook ended, in words: `exited with code 3`, `was stopped after 5m (hook-timeout)`. */
export function hookOutcome(run: HookRun): string {
  if (run.timedOut) return `was stopped after ${formatDuration(run.durationMs)} (hook-timeout)`;
  return run.code === 0 ? `passed in ${formatDuration(run.durationMs)}` : `exited with code ${run.code}`;
}

/** The before-traffic arguments as typed, for messages. */
export const argsText = (args: string[]): string => args.map(shellQuote).join(' ');

/**
 * The after-switch command, on the runner, through `sh -c` as a workflow's `run:` is. It gets the
 * allow-listed environment every user command gets (no inputs, no tokens) and what it checks.
 */
export async function runAfterSwitch(
  command: string,
  vars: { url: string; version?: string; color: string },
  timeoutMs: number,
  pass: string[] = [],
  cwd = process.env.GITHUB_WORKSPACE || process.cwd(),
): Promise<HookRun> {
  const started = Date.now();
  const r = await runCommand('sh', ['-c', command], {
    cwd,
    env: childEnv(
      { GO_SHIP_URL: vars.url, GO_SHIP_VERSION: vars.version ?? '', GO_SHIP_COLOR: vars.color },
      pass,
    ),
    inheritEnv: false,
    timeoutMs,
    check: false,
  });
  return hookRun(
    'after-switch',
    command,
    { where: 'the runner', code: r.code, timedOut: r.timedOut, output: r.stdout + r.stderr },
    Date.now() - started,
  );
}
