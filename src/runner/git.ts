import { runCommand } from './command.js';
import { UserError } from './errors.js';
import { log } from './log.js';

/**
 * The checkout's top directory and `dir`'s path inside it, as git sees them: git resolves symlinks
 * itself, so a workspace reached through a link still maps to its real place (a path computed with
 * `relative()` from the link gives `../../link`). Undefined outside a checkout.
 */
export async function gitLocation(dir: string): Promise<{ top: string; prefix: string } | undefined> {
  const r = await runCommand('git', ['rev-parse', '--show-toplevel', '--show-prefix'], {
    cwd: dir,
    check: false,
  });
  if (r.code !== 0) return undefined;
  const [top, prefix = ''] = r.stdout.split('\n');
  return { top, prefix: prefix.replace(/\/$/, '') };
}

/**
 * HEAD's commit and the time every reproducible output is stamped with: SOURCE_DATE_EPOCH when set
 * (reproducible-builds.org's convention, which GoReleaser and BuildKit follow too), else the commit
 * time. Empty and 0 outside a checkout.
 */
export async function headCommit(dir: string): Promise<{ sha: string; shortSha: string; time: number }> {
  const r = await runCommand('git', ['log', '-1', '--format=%H %h %ct'], { cwd: dir, check: false });
  const [sha = '', shortSha = '', time = '0'] = r.code === 0 ? r.stdout.trim().split(' ') : [];
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch !== '' && !/^\d{1,12}$/.test(epoch))
    throw new UserError(
      `SOURCE_DATE_EPOCH is \`${epoch.slice(0, 40)}\`; it must be a Unix time in seconds (e.g. \`$(git log -1 --format=%ct)\`). Fix or unset it.`,
    );
  return { sha, shortSha, time: epoch ? Number(epoch) : Number(time || 0) };
}

/** Lines added or changed on this branch, per repository path, from a zero-context diff. */
function parseDiff(diff: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  let file: string | undefined;
  for (const line of diff.split('\n')) {
    if (line.startsWith('+++ ')) {
      const name = line.slice(4).replace(/\t.*$/, '');
      file = name === '/dev/null' ? undefined : name.replace(/^b\//, '');
      if (file && !out.has(file)) out.set(file, []);
    } else if (line.startsWith('@@') && file) {
      const m = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/.exec(line);
      if (!m) continue;
      const start = Number(m[1]);
      const count = m[2] === undefined ? 1 : Number(m[2]);
      for (let l = start; l < start + count; l++) out.get(file)!.push(l);
    }
  }
  return out;
}

/**
 * The diff between the merge base of `baseRef` and HEAD. A shallow clone is deepened (bounded)
 * until the merge base is there, so workflows need no `fetch-depth: 0`.
 */
export async function changedLines(
  repo: string,
  baseRef: string,
  /** What needs the changed lines, for the error (`patch coverage`). */
  purpose: string,
): Promise<{ lines: Map<string, number[]>; base: string }> {
  const git = (args: string[], check = true) => runCommand('git', args, { cwd: repo, check });
  if ((await git(['rev-parse', '--verify', '--quiet', `${baseRef}^{commit}`], false)).code !== 0) {
    const fetched = await git(
      ['fetch', '--no-tags', '--depth=1', 'origin', baseRef.replace(/^origin\//, '')],
      false,
    );
    if (
      fetched.code !== 0 ||
      (await git(['rev-parse', '--verify', '--quiet', `${baseRef}^{commit}`], false)).code !== 0
    ) {
      throw new UserError(
        `Input \`base-ref\` got \`${baseRef}\`, which is not a commit in ${repo} and could not be fetched from origin. Give a branch, tag or SHA that exists (on pull requests the default is origin/<base branch>).`,
      );
    }
  }
  for (let attempt = 0; ; attempt++) {
    const mb = await git(['merge-base', baseRef, 'HEAD'], false);
    if (mb.code === 0) {
      const base = mb.stdout.trim();
      const diff = await git([
        'diff',
        '--no-color',
        '--no-ext-diff',
        '--unified=0',
        '--no-renames',
        base,
        'HEAD',
        '--',
        '*.go',
      ]);
      return { lines: parseDiff(diff.stdout), base };
    }
    const shallow = (await git(['rev-parse', '--is-shallow-repository'])).stdout.trim() === 'true';
    if (!shallow || attempt >= 6) {
      throw new UserError(
        `No merge base between \`${baseRef}\` and HEAD${shallow ? ' even after deepening the shallow clone' : ''}; ${purpose} needs one. Check base-ref.`,
      );
    }
    log.info(`Shallow clone: deepening by 100 commits to find the merge base with ${baseRef}`);
    await git(['fetch', '--no-tags', '--deepen=100', 'origin'], false);
    await git(['fetch', '--no-tags', '--deepen=100', 'origin', baseRef.replace(/^origin\//, '')], false);
  }
}
