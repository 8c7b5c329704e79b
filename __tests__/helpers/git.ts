import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface TestRepo {
  dir: string;
  /** The bare remote `origin`, when asked for. */
  origin?: string;
  /** git in the repository, as a fixed identity; returns trimmed stdout. */
  git(...args: string[]): string;
}

/**
 * A git repository for a test, made the way the tests need one: `dir` (a copy of `from` when given,
 * plus `files`), on branch `main` (or `branch`), everything committed once with `message`, and with `origin: true` a
 * bare remote beside it that the commit is pushed to (no `git clone` of an empty remote, which warns).
 */
export function testRepo(
  dir: string,
  opts: {
    from?: string;
    files?: Record<string, string>;
    message?: string;
    origin?: boolean;
    /** The branch (default `main`). */
    branch?: string;
    /** Extra environment for every git call (fixed GIT_AUTHOR_DATE / GIT_COMMITTER_DATE). */
    env?: Record<string, string>;
  } = {},
): TestRepo {
  if (opts.from) cpSync(opts.from, dir, { recursive: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(opts.files ?? {})) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
    }).trim();
  const branch = opts.branch ?? 'main';
  git('init', '-q', '-b', branch);
  let origin: string | undefined;
  if (opts.origin) {
    origin = `${dir}-origin.git`;
    execFileSync('git', ['init', '-q', '--bare', '-b', branch, origin]);
    git('remote', 'add', 'origin', origin);
  }
  if (opts.message !== undefined) {
    git('add', '-A');
    git('commit', '-q', '--allow-empty', '-m', opts.message);
    if (origin) git('push', '-q', 'origin', branch);
  }
  return { dir, origin, git };
}
