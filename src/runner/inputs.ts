import * as core from '@actions/core';
import { accessSync, constants, existsSync, realpathSync, type Stats, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { inputError, UserError } from './errors.js';
import { resolveWithin } from './paths.js';

/**
 * Reads action inputs the way the Actions runner passes them: `INPUT_<NAME>` with spaces turned into
 * underscores and the name upper-cased (dashes stay). The runner fills in action.yml defaults before
 * the action starts, so a parser never repeats a default; an empty value means "not given".
 * `defaults` are the same action.yml defaults (each action's generated `defaults.ts`): an input left
 * empty reads as its default, and `isSet` tells a value the user chose from the default.
 */
export class Inputs {
  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly defaults: Readonly<Record<string, string>> = {},
  ) {}

  static envName(name: string): string {
    return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
  }

  /** The trimmed value, or '' when absent. `required` fails with the input's name. */
  string(name: string, opts: { required?: boolean } = {}): string {
    const value = this.raw(name) || (this.defaults[name] ?? '');
    if (opts.required && value === '') {
      throw new UserError(
        `Input \`${name}\` is required but was not given. Set it under \`with:\` (or \`--with ${name}=...\` in the go-ship CLI).`,
      );
    }
    return value;
  }

  private raw(name: string): string {
    // The job's own inputs through @actions/core; an explicit env (the CLI, tests) is read the same way.
    return this.env === process.env ? core.getInput(name) : (this.env[Inputs.envName(name)] ?? '').trim();
  }

  /** Whether the input holds something other than action.yml's default (which the runner passes when it is not given). */
  isSet(name: string): boolean {
    const value = this.raw(name);
    return value !== '' && value !== (this.defaults[name] ?? '');
  }

  /** The value or undefined when empty: for inputs whose absence means "work it out". */
  optional(name: string): string | undefined {
    const value = this.string(name);
    return value === '' ? undefined : value;
  }

  /**
   * `working-directory` resolved against the workspace (GITHUB_WORKSPACE, else the current
   * directory). It must be a directory inside the checkout: a typo fails here, naming the input, not
   * later as ENOTDIR in a `go` or `git` call, and a value cannot send the step outside the checkout.
   */
  workingDirectory(env: NodeJS.ProcessEnv = process.env): string {
    const base = resolve(env.GITHUB_WORKSPACE ?? process.cwd());
    const given = this.optional('working-directory');
    const dir = resolve(base, given ?? '.');
    const refuse = (why?: string) =>
      inputError('working-directory', given ?? '.', 'a directory in the checkout', why);
    const rel = relative(base, dir);
    // resolveWithin refuses any step outside, `..` included; an absolute rel is another drive.
    if (isAbsolute(rel) || resolveWithin(base, rel || '.') === undefined)
      throw refuse(`${dir} is outside the checkout ${base}.`);
    const st = statOf(dir, refuse);
    if (!st) throw refuse();
    if (!st.isDirectory()) throw refuse(`${dir} is a file.`);
    return dir;
  }

  /**
   * A path this step writes (a report, a badge, an output folder), resolved against `base`. Checked
   * before any work, so a bad one is an input error and not an EEXIST, ENOTDIR or a `mkdir -p` that
   * never returns under /proc: the nearest existing folder on the way must be a writable folder
   * outside the kernel's /proc, /sys and /dev, and the path itself, if it exists, of the right kind.
   * It must lie, links resolved, inside the workspace, RUNNER_TEMP or the system's temp folder: a step
   * run as root would otherwise write a report over /etc/passwd (the bad-input campaign did).
   */
  pathToWrite(name: string, base: string, kind: 'file' | 'folder', fallback?: string): string | undefined {
    const given = this.optional(name);
    const value = given ?? fallback;
    if (value === undefined) return undefined;
    return checkPathToWrite(resolve(base, value), base, kind, (why) =>
      inputError(name, given ?? value, `a ${kind} path this step can write`, `${why}.`),
    );
  }

  /** A file this step reads, resolved against `base`: a folder there is an input error, not EISDIR. */
  fileToRead(name: string, base: string): string | undefined {
    const value = this.optional(name);
    if (value === undefined) return undefined;
    const path = resolve(base, value);
    const refuse = (why?: string) => inputError(name, value, 'a file path', why);
    if (statOf(path, refuse)?.isDirectory()) throw refuse(`${path} is a folder.`);
    return path;
  }

  /** YAML 1.2 core-schema booleans, exactly what @actions/core's getBooleanInput accepts. */
  boolean(name: string, opts: { required?: boolean } = {}): boolean {
    const value = this.string(name, opts);
    if (['true', 'True', 'TRUE'].includes(value)) return true;
    if (['false', 'False', 'FALSE', ''].includes(value)) return false;
    throw inputError(name, value, '`true` or `false`', 'YAML booleans are case-sensitive: use lower case.');
  }

  int(name: string, opts: { required?: boolean; min?: number; max?: number } = {}): number | undefined {
    const value = this.string(name, opts);
    if (value === '') return undefined;
    const range = describeRange(opts.min, opts.max);
    if (!/^-?\d+$/.test(value)) throw inputError(name, value, `a whole number${range}`);
    const n = Number(value);
    if ((opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
      throw inputError(name, value, `a whole number${range}`);
    }
    return n;
  }

  /** A duration such as `90`, `90s`, `5m`, `1h30m`, returned in milliseconds. */
  duration(name: string, opts: { required?: boolean } = {}): number | undefined {
    const value = this.string(name, opts);
    if (value === '') return undefined;
    const ms = parseDuration(value);
    if (ms === undefined) throw inputError(name, value, 'a duration such as `30`, `30s`, `5m` or `1h30m`');
    if (ms > MAX_WAIT_MS)
      throw inputError(
        name,
        value,
        `a duration of at most ${MAX_WAIT_TEXT} (the longest a timer can wait; a longer one would fire at once)`,
      );
    return ms;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], opts: { required: true }): T;
  oneOf<T extends string>(name: string, allowed: readonly T[], opts?: { required?: boolean }): T | undefined;
  oneOf<T extends string>(
    name: string,
    allowed: readonly T[],
    opts: { required?: boolean } = {},
  ): T | undefined {
    const value = this.string(name, opts);
    if (value === '') return undefined;
    if (!(allowed as readonly string[]).includes(value)) {
      throw inputError(name, value, `one of ${allowed.map((a) => `\`${a}\``).join(', ')}`);
    }
    return value as T;
  }

  /** Items separated by newlines and/or commas; blank items and `#` comment lines are dropped. */
  list(name: string, opts: { required?: boolean } = {}): string[] {
    return splitList(this.string(name, opts), /[\n,]/);
  }

  /** One item per line (for items that may contain commas, such as ldflags or globs with braces). */
  lines(name: string, opts: { required?: boolean } = {}): string[] {
    return splitList(this.string(name, opts), /\n/);
  }

  /** `KEY=value` lines (commas allowed in values), as used by `env`-style inputs. */
  keyValues(name: string, opts: { required?: boolean } = {}): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of this.lines(name, opts)) {
      const eq = line.indexOf('=');
      const key = eq > 0 ? line.slice(0, eq).trim() : '';
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
        throw inputError(
          name,
          line,
          '`KEY=value` lines, one per line',
          'Write each variable on its own line.',
        );
      }
      out[key] = line.slice(eq + 1).trim();
    }
    return out;
  }
}

function splitList(value: string, separator: RegExp): string[] {
  return value
    .split(separator)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.startsWith('#'));
}

function describeRange(min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` of at least ${min}`;
  if (max !== undefined) return ` of at most ${max}`;
  return '';
}

/** setTimeout's limit (2^31-1 ms, about 24.8 days): a longer delay fires at once. */
/** stat, or undefined where nothing is; a path the system cannot take (too long, a loop) is the input's fault. */
function statOf(path: string, refuse: (why: string) => UserError): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENAMETOOLONG')
      throw refuse('It is longer than the system allows (255 bytes a name, 4096 a path).');
    if (code === 'ELOOP') throw refuse('Its links go round in a loop.');
    if (code === 'EACCES') throw refuse('A folder on the way cannot be read by this step.');
    throw e;
  }
}

export const MAX_WAIT_MS = 2 ** 31 - 1;
export const MAX_WAIT_TEXT = `${Math.floor(MAX_WAIT_MS / 3_600_000)}h`;

export function parseDuration(value: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const m = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(value);
  if (!m || m.slice(1).every((g) => g === undefined)) return undefined;
  const [h, min, s, ms] = m.slice(1).map((g) => Number(g ?? 0));
  return Math.round(((h * 60 + min) * 60 + s) * 1000 + ms);
}

/**
 * The rules of {@link Inputs.pathToWrite} for a path found elsewhere (a file a `go test` flag in
 * test-flags names): `refuse` makes the error that names where the path came from.
 */
export function checkPathToWrite(
  path: string,
  base: string,
  kind: 'file' | 'folder',
  refuse: (why: string) => UserError,
): string {
  const there = statOf(path, refuse);
  if (there && kind === 'file' && there.isDirectory()) throw refuse(`${path} is a folder`);
  if (there && kind === 'folder' && !there.isDirectory()) throw refuse(`${path} is a file`);
  // An existing file is written over: what must be writable is the folder it is in.
  let ancestor = there?.isDirectory() ? path : dirname(path);
  while (!existsSync(ancestor)) ancestor = dirname(ancestor);
  if (!statSync(ancestor).isDirectory())
    throw refuse(`${ancestor} is a file, so nothing can be made under it`);
  if (/^\/(proc|sys|dev)(\/|$)/.test(realpathSync(ancestor)))
    throw refuse(`${ancestor} is under the kernel's /proc, /sys or /dev`);
  const roots = writableRoots(base);
  const real = join(realpathSync(ancestor), relative(ancestor, path));
  if (!roots.some((root) => real === root || real.startsWith(root.endsWith(sep) ? root : root + sep)))
    throw refuse(
      `${path} is outside the workspace, RUNNER_TEMP and the temp folder (${roots.join(', ')}); write it inside one of them and upload or copy it from there`,
    );
  try {
    accessSync(ancestor, constants.W_OK);
  } catch {
    throw refuse(`${ancestor} is not writable by this step`);
  }
  return path;
}

/** Where a step may write: the workspace (and `base`, inside it or the CLI's), RUNNER_TEMP, the temp folder; links resolved. */
function writableRoots(base: string): string[] {
  const real = (p: string | undefined) => {
    if (!p) return [];
    try {
      return [realpathSync(p)];
    } catch {
      return [];
    }
  };
  return [
    ...new Set([
      ...real(process.env.GITHUB_WORKSPACE),
      ...real(base),
      ...real(process.env.RUNNER_TEMP),
      ...real(tmpdir()),
    ]),
  ];
}
