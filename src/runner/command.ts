import type * as ChildProcess from 'node:child_process';
import { UserError } from './errors.js';
import { formatDuration, log } from './log.js';

/**
 * Node's child_process, loaded by the first command: with it come net, dgram and the socket
 * streams, about 4 ms of a start that an action reading files only (coverage-gate) never needs.
 */
const childProcess = (): typeof ChildProcess => process.getBuiltinModule('node:child_process');

export interface CommandOptions {
  cwd?: string;
  /** Merged over process.env; a key set to undefined is removed from the child's environment. */
  env?: Record<string, string | undefined>;
  /** false: `env` is the whole environment (childEnv builds one for the user's code), not merged. */
  inheritEnv?: boolean;
  /** Kill the command (and everything it started) after this long. Default: 30 minutes. */
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. */
  input?: string | Buffer;
  /** Stream output lines to the log as they arrive (inside whatever group is open). */
  echo?: boolean;
  /** Throw CommandError on a non-zero exit (default true). */
  check?: boolean;
}

export interface CommandResult {
  /** The command as a person would type it, for messages only; it is never run through a shell. */
  display: string;
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

export class CommandError extends Error {
  constructor(readonly result: CommandResult) {
    const why = result.timedOut
      ? `timed out after ${formatDuration(result.durationMs)}`
      : result.signal
        ? `was killed by ${result.signal}`
        : `exited with code ${result.code}`;
    const tail = lastLines(result.stderr || result.stdout, 20);
    super(`\`${result.display}\` ${why}${tail ? `:\n${tail}` : ''}`);
    this.name = 'CommandError';
  }
}

const DEFAULT_TIMEOUT_MS = 30 * 60_000;
const KILL_GRACE_MS = 5_000;

/**
 * Runs a program with an argument array. There is no shell anywhere, so user text in `args` is
 * never interpreted. The child gets its own process group so a timeout stops what it started too
 * (`go build` runs compilers and linkers below it).
 */
export function runCommand(
  file: string,
  args: readonly string[],
  opts: CommandOptions = {},
): Promise<CommandResult> {
  const display = [file, ...args].map(quoteForDisplay).join(' ');
  const env: NodeJS.ProcessEnv = opts.inheritEnv === false ? {} : { ...process.env };
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = childProcess().spawn(file, args, {
      cwd: opts.cwd,
      env,
      shell: false,
      // Its own process group on POSIX, so a timeout reaches its children too. On Windows a
      // detached child would get its own console window; taskkill /T finds the tree instead.
      detached: process.platform !== 'win32',
      windowsHide: true,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const echo = opts.echo ? lineEcho() : undefined;
    child.stdout!.on('data', (b: Buffer) => {
      out.push(b);
      echo?.(b);
    });
    child.stderr!.on('data', (b: Buffer) => {
      err.push(b);
      echo?.(b);
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);

    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      killTree(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killTree(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);

    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT') {
        reject(
          new UserError(
            `\`${file}\` was not found on PATH (needed to run \`${display}\`). Install it or add it to PATH.`,
          ),
        );
      } else reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      echo?.(null);
      const result: CommandResult = {
        display,
        code: code ?? -1,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        durationMs: Date.now() - started,
        timedOut,
      };
      if ((opts.check ?? true) && (result.code !== 0 || timedOut)) reject(new CommandError(result));
      else resolve(result);
    });
  });
}

/**
 * How to stop a command and everything it started. POSIX: a signal to its process group (negative
 * PID), TERM first, KILL after a grace period. Windows has neither groups nor TERM: `taskkill /T /F`
 * ends the process tree at once (without /F a console program ignores the request).
 */
export function killTreePlan(
  platform: NodeJS.Platform,
  pid: number,
  signal: NodeJS.Signals,
): { group: number; signal: NodeJS.Signals } | { file: string; args: string[] } | undefined {
  if (platform !== 'win32') return { group: -pid, signal };
  if (signal !== 'SIGTERM') return undefined; // taskkill /F already ended it
  return { file: 'taskkill', args: ['/pid', String(pid), '/T', '/F'] };
}

function killTree(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  const plan = killTreePlan(process.platform, pid, signal);
  try {
    if (!plan) return;
    if ('group' in plan) process.kill(plan.group, plan.signal);
    else
      childProcess().spawnSync(plan.file, plan.args, { stdio: 'ignore', windowsHide: true, timeout: 10_000 });
  } catch {
    // Already gone.
  }
}

/** Splits streamed chunks into whole lines so interleaved stdout/stderr stay readable. */
function lineEcho(): (chunk: Buffer | null) => void {
  let pending = '';
  return (chunk) => {
    if (chunk === null) {
      if (pending) log.info(pending);
      pending = '';
      return;
    }
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) log.info(line);
  };
}

/**
 * One word for a POSIX shell, quoted only when it needs it: what a person would type, and what a
 * script run by a remote shell (over SSH) gets for every value that comes from data.
 */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

const quoteForDisplay = shellQuote;

function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

/**
 * Splits a command line into arguments the way GoReleaser's hooks are split (go-shellwords, with
 * no variable or backtick expansion): blanks separate, quotes group, a backslash escapes. The
 * result is run as an argument array; no shell sees it.
 */
export function splitCommandLine(line: string): string[] {
  const args: string[] = [];
  let cur = '';
  let inArg = false;
  let quote: '"' | "'" | '' = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = '';
      else cur += c;
    } else if (c === '\\' && i + 1 < line.length && (quote !== '"' || '"\\$`'.includes(line[i + 1]))) {
      cur += line[++i];
      inArg = true;
    } else if (quote === '"') {
      if (c === '"') quote = '';
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inArg = true;
    } else if (/\s/.test(c)) {
      if (inArg) args.push(cur);
      cur = '';
      inArg = false;
    } else {
      cur += c;
      inArg = true;
    }
  }
  if (quote) throw new UserError(`\`${line}\` has an unclosed ${quote} quote.`);
  if (inArg) args.push(cur);
  return args;
}

/**
 * A promise started now and awaited later (processes asked at once, their answers taken in turn):
 * until it is awaited, a rejection is not reported as unhandled.
 */
export function inBackground<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/**
 * Work that starts only when something first awaits it, and runs once: a question asked of a
 * process that a more urgent process should be started before (each spawn holds Node's one thread).
 */
export function onFirstUse<T>(start: () => Promise<T>): PromiseLike<T> {
  let p: Promise<T> | undefined;
  return { then: (ok, fail) => (p ??= start()).then(ok, fail) };
}
