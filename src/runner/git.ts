import { runCommand } from './command.js';

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
