import { repositoryUrl } from '../../github/rest.js';
import { Git, type TagScan, deepenUntilTagged, fetchAndScanTags, isShallow } from '../../release/git-tags.js';
import { findModule } from '../../release/module.js';
import { tell } from '../../notify/notify.js';
import { publishRelease, releaseLabel } from '../../release/on-github.js';
import type { ReleaseRules } from '../../release/plan.js';
import { formatVersion } from '../../release/semver.js';
import { currentBranch, moveMajorTag, tagRelease } from '../../release/tagging.js';
import { writeSummary } from '../../runner/action.js';
import { inBackground } from '../../runner/command.js';
import { UserError, inputError } from '../../runner/errors.js';
import { GlobSet } from '../../runner/glob.js';
import { log } from '../../runner/log.js';
import * as workflow from '../../runner/workflow.js';
import { getInputs } from './inputs.js';
import { tagSummary } from './summary.js';

export async function run(): Promise<void> {
  const config = getInputs();
  const where = await new Git(config.workspace).location();
  if (!where)
    throw new UserError(
      `${config.workspace} is not inside a git checkout: semver-tag reads the history and tags with git. In a workflow, run actions/checkout first (fetch-depth 0 is not needed); locally, run it in a clone${config.workingDirectorySet ? ', or point working-directory into one' : ''}.`,
    );
  const git = new Git(where.top);
  // Four questions git answers independently, asked at once; their answers are taken in turn, so
  // the first problem reported is the same as asked one by one.
  const gomodList = inBackground(git.out(['ls-files', '--', 'go.mod', ':(glob)**/go.mod']));
  const branchName = inBackground(currentBranch(git));
  const hasRemote = inBackground(git.ok(['remote', 'get-url', config.remote]));
  const shallow = inBackground(isShallow(git));
  const gomods = (await gomodList).split('\n').filter(Boolean);
  const mod = findModule(where.top, where.prefix || '.', gomods, process.env.GITHUB_REPOSITORY);
  if (!mod.isGo && config.apiCheck)
    throw inputError(
      'api-check',
      'true',
      'true only for a Go module (it compares exported APIs with apidiff)',
      'This repository has no go.mod; set api-check to false.',
    );
  const branch = await branchName;
  const pre = config.prereleaseBranches.find((p) => p.glob.matches(branch));
  const releaseGlobs = new GlobSet(
    config.releaseBranches.length ? config.releaseBranches : defaultBranches(),
  );
  log.info(
    `${mod.isGo ? `Module ${mod.path} in ${mod.dir}` : `No go.mod: ${mod.path} is versioned as a whole`} (tags ${mod.tagPrefix}vX.Y.Z), branch ${branch}${pre ? ` (pre-release ${pre.id})` : ''}`,
  );

  let tags: TagScan | undefined;
  if (await hasRemote) {
    const shallowClone = await shallow;
    tags = await fetchAndScanTags(git, config.remote, mod, shallowClone);
    await deepenUntilTagged(git, config.remote, mod, tags.tags.length > 0, shallowClone);
  } else if (!config.dryRun) {
    throw inputError(
      'remote',
      config.remote,
      'the name of a configured git remote',
      'Check the checkout, or use dry-run to only compute the version.',
    );
  }

  const rules: ReleaseRules = {
    mod,
    rules: config.rules,
    defaultBump: config.defaultBump,
    initialVersion: config.initialVersion,
    majorZeroBreaking: config.majorZeroBreaking,
    prerelease: pre?.id,
    label: config.labels
      ? await releaseLabel(config.githubToken, tags?.head ?? (await git.out(['rev-parse', 'HEAD'])))
      : undefined,
  };
  const { remote, apiCheck, sign, maxAttempts, dryRun } = config;
  const outcome = await tagRelease(git, rules, {
    remote,
    apiCheck,
    sign,
    maxAttempts,
    dryRun,
    branch,
    releasable: Boolean(pre) || releaseGlobs.matches(branch),
    repoUrl: repositoryUrl(),
    tags,
  });
  const { tag, version, created } = outcome;
  const majorTag =
    created && config.majorTag && version && !version.pre.length
      ? await moveMajorTag(git, config.remote, mod.tagPrefix, version, tag!)
      : undefined;
  // A re-run on a tagged commit creates the Release the first run could not.
  const release =
    tag && config.createRelease !== 'false' && (created || (outcome.plan.existing && !config.dryRun))
      ? await publishRelease(config.githubToken, {
          tag,
          body: outcome.changelog || `Release ${tag}`,
          prerelease: Boolean(version?.pre.length),
          draft: config.createRelease === 'draft',
        })
      : undefined;

  if (created && tag)
    await tell(config.notify, {
      event: 'release-published',
      subject: mod.path,
      version: tag,
      detail: outcome.plan.decidedBy,
      url: release,
    });
  workflow.setOutput('version', version ? formatVersion(version).slice(1) : '');
  workflow.setOutput('tag', tag ?? '');
  workflow.setOutput('previous-tag', outcome.plan.previous?.name ?? '');
  workflow.setOutput('bump', outcome.plan.bump);
  workflow.setOutput('changelog', outcome.changelog);
  workflow.setOutput('created', String(created));
  log.info(outcome.why);
  await writeSummary(tagSummary(mod.path, branch, { ...outcome, release, majorTag }));
}

/** The repository's default branch from the event, else main and master. */
function defaultBranches(): string[] {
  const def = workflow.defaultBranch();
  return def ? [def] : ['main', 'master'];
}
