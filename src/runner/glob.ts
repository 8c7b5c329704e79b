import { existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UserError } from './errors.js';

/**
 * Workflow-style globs (`**`, `*`, `?`, `{a,b}`; a leading `!` excludes), matched against
 * slash-separated paths relative to a root. Small on purpose: action inputs such as
 * `cache-dependency-path` and coverage `exclude` need exactly this much.
 */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        // `**/` matches zero or more directories; a trailing `**` matches everything below.
        const slash = pattern[i + 2] === '/';
        re += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = pattern.indexOf('}', i);
      if (end < 0) re += '\\{';
      else {
        re += `(?:${pattern
          .slice(i + 1, end)
          .split(',')
          .map((alt) => globToRegExp(alt).source.slice(1, -1))
          .join('|')})`;
        i = end;
      }
    } else re += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const MAX_PATTERN = 4096;

export class GlobSet {
  private readonly include: RegExp[];
  private readonly exclude: RegExp[];

  /** `input` names the action input the patterns came from, for errors. */
  constructor(patterns: readonly string[], input?: string) {
    const clean = patterns.map((p) => p.trim().replace(/^\.\//, '')).filter(Boolean);
    // A pattern is a path with wildcards: one longer than any path would make a regex V8 refuses.
    const long = clean.find((p) => p.length > MAX_PATTERN);
    if (long)
      throw new UserError(
        `${input ? `Input \`${input}\` has a` : 'A'} glob pattern of ${long.length.toLocaleString('en')} characters (\`${long.slice(0, 40)}…\`) is longer than ${MAX_PATTERN} characters; list paths one per line, each a pattern of its own.`,
      );
    this.include = clean.filter((p) => !p.startsWith('!')).map(globToRegExp);
    this.exclude = clean.filter((p) => p.startsWith('!')).map((p) => globToRegExp(p.slice(1)));
  }

  get empty(): boolean {
    return this.include.length === 0;
  }

  matches(path: string): boolean {
    const p = path.split(sep).join('/');
    return this.include.some((r) => r.test(p)) && !this.exclude.some((r) => r.test(p));
  }
}

const SKIPPED_DIRS = new Set(['.git', 'node_modules']);

/** Files under `root` matching the patterns, as sorted slash-separated relative paths. */
export function findFiles(root: string, patterns: readonly string[]): string[] {
  const set = new GlobSet(patterns);
  // When every pattern ends in a plain name (`**/go.mod`), other names need no path or regex.
  const lasts = patterns
    .map((p) => p.trim())
    .filter((p) => p && !p.startsWith('!'))
    .map((p) => p.slice(p.lastIndexOf('/') + 1));
  const names = lasts.length && lasts.every((n) => !/[*?{]/.test(n)) ? new Set(lasts) : undefined;
  const found: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) walk(join(dir, entry.name), `${rel}${entry.name}/`);
      } else if (entry.isFile() && (!names || names.has(entry.name))) {
        const path = `${rel}${entry.name}`;
        if (set.matches(path)) found.push(path);
      }
    }
  };
  walk(root, '');
  return found.sort();
}

/**
 * A pattern's literal leading directories and the glob below them: `../shards/*` is `../shards` and
 * `*`. Lets a pattern reach outside the root it is relative to (`../x/*`, `/abs/*`).
 */
function splitGlob(pattern: string): { base: string; glob: string } {
  const parts = pattern.replace(/\/+$/, '').split('/');
  const first = parts.findIndex((p) => /[*?{]/.test(p));
  if (first < 0) return { base: parts.join('/') || '/', glob: '' };
  return {
    base: parts.slice(0, first).join('/') || (isAbsolute(pattern) ? '/' : '.'),
    glob: parts.slice(first).join('/'),
  };
}

/**
 * Directories matching the patterns (relative to `root`, or absolute, or `../`) that hold `file`,
 * as absolute paths; `missing` lists the patterns whose literal base directory does not exist.
 */
export function findDirsHolding(
  root: string,
  patterns: readonly string[],
  file: string,
): { dirs: string[]; missing: { pattern: string; base: string }[] } {
  const dirs = new Set<string>();
  const missing: { pattern: string; base: string }[] = [];
  for (const pattern of patterns.filter((p) => !p.startsWith('!'))) {
    const { base, glob } = splitGlob(pattern.trim());
    const abs = resolve(root, base);
    if (!existsSync(abs) || !statSync(abs).isDirectory()) {
      missing.push({ pattern, base: abs });
      continue;
    }
    if (!glob) {
      if (existsSync(join(abs, file))) dirs.add(abs);
      continue;
    }
    for (const f of findFiles(abs, [`${glob}/${file}`])) dirs.add(join(abs, f.slice(0, -file.length - 1)));
  }
  const excluded = new GlobSet(patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1)));
  return {
    dirs: [...dirs].filter((d) => excluded.empty || !excluded.matches(relative(root, d))).sort(),
    missing,
  };
}
