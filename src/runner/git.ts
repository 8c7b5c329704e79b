import { runCommand } from './command.js';
import { UserError } from './errors.js';

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
