import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goTool } from '../go/tools.js';
import { runCommand } from '../runner/command.js';
import { UserError } from '../runner/errors.js';
import { log } from '../runner/log.js';
import type { GoModule } from './module.js';
import type { Git } from './git-tags.js';
import type { ReleasePlan } from './plan.js';
import * as workflow from '../runner/workflow.js';

/** golang.org/x/exp/cmd/apidiff, pinned so the installed copy can be reused across runs. */
const APIDIFF = 'golang.org/x/exp/cmd/apidiff';
const APIDIFF_VERSION = 'v0.0.0-20261014143641-f0251eb4aa3e';

export interface ApiDiff {
  incompatible: string[];
  compatible: string[];
}

/** apidiff from PATH, or installed once from the Go module proxy into the tool cache. */
const apidiffBinary = () =>
  goTool({
    pkg: APIDIFF,
    version: APIDIFF_VERSION,
    probe: ['-h'],
    expect: /usage/i,
    neededFor: 'api-check',
    fix: 'set api-check: false',
  });

/** The `- ...` lines of apidiff's "Incompatible changes:" and "Compatible changes:" sections. */
function parseApiDiff(text: string): ApiDiff {
  const out: ApiDiff = { incompatible: [], compatible: [] };
  let section: keyof ApiDiff | undefined;
  for (const line of text.split('\n')) {
    if (/^Incompatible changes:/.test(line)) section = 'incompatible';
    else if (/^Compatible changes:/.test(line)) section = 'compatible';
    else if (section && line.startsWith('- ')) out[section].push(line.slice(2));
  }
  return out;
}

/**
 * The module's exported API at `previousTag` against the working tree, with apidiff's module mode.
 * The old version is checked out in a temporary worktree that is always removed.
 */
async function diffApi(git: Git, mod: GoModule, previousTag: string): Promise<ApiDiff> {
  const apidiff = await apidiffBinary();
  const tmp = mkdtempSync(join(tmpdir(), 'go-ship-apidiff-'));
  const old = join(tmp, 'old');
  await git.run(['worktree', 'add', '--quiet', '--detach', old, `${previousTag}^{commit}`]);
  try {
    const env = { GOFLAGS: '-mod=mod', GOWORK: 'off' };
    await runCommand(apidiff, ['-m', '-w', join(tmp, 'old.x'), mod.path], { cwd: join(old, mod.dir), env });
    await runCommand(apidiff, ['-m', '-w', join(tmp, 'new.x'), mod.path], {
      cwd: join(git.cwd, mod.dir),
      env,
    });
    const r = await runCommand(apidiff, ['-m', join(tmp, 'old.x'), join(tmp, 'new.x')]);
    return parseApiDiff(r.stdout);
  } finally {
    await git.run(['worktree', 'remove', '--force', old], { check: false });
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * api-check: the exported API against the previous release. An incompatible change needs a new
 * major version (at v0, at least a minor one); commits that claim less fail before tagging.
 */
export async function enforceApi(git: Git, mod: GoModule, plan: ReleasePlan, tag: string): Promise<void> {
  const previous = plan.previous!;
  const diff = await diffApi(git, mod, previous.name);
  const atZero = previous.version.major === 0;
  log.info(
    `api-check against ${previous.name}: ${diff.incompatible.length} incompatible, ${diff.compatible.length} compatible change(s)`,
  );
  if (diff.incompatible.length && (!atZero || plan.bump === 'patch'))
    throw new UserError(
      `api-check: the exported API of ${mod.path} has incompatible changes since ${previous.name}, but ${plan.decidedBy} makes the next version ${tag}:\n${diff.incompatible
        .slice(0, 20)
        .map((c) => `  - ${c}`)
        .join(
          '\n',
        )}\n${atZero ? 'At v0, mark the change as breaking (`feat!:` or a `BREAKING CHANGE:` footer) or label the PR release:minor.' : `Restore the API (add, do not change), or release v${previous.version.major + 1} under the module path ${mod.path.replace(/\/v\d+$/, '')}/v${previous.version.major + 1}.`} Nothing was tagged.`,
    );
  if (diff.compatible.length && plan.bump === 'patch')
    workflow.warning(
      `api-check: ${diff.compatible.length} exported addition(s) since ${previous.name} (${diff.compatible.slice(0, 3).join('; ')}), released as a patch; a \`feat:\` commit would make it a minor release.`,
    );
}
