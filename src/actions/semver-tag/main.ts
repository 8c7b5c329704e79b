import { ensureRelease, mergedPullOf } from '../../github/releases.js';
import { GitHubApiError, GitHubClient, eventPayload, repositoryUrl } from '../../github/rest.js';
import { diffApi } from '../../release/apicheck.js';
import { renderChangelog } from '../../release/changelog.js';
import { bumpFromLabels } from '../../release/commits.js';
import { Git, deepenUntilTagged, fetchTags, pushTag, scanTags } from '../../release/git-tags.js';
import { findModule } from '../../release/module.js';
import { type ReleasePlan, type ReleaseRules, changesOf, planRelease } from '../../release/plan.js';
import { type SemVer, compareVersions, formatVersion } from '../../release/semver.js';
import { writeSummary } from '../../runner/action.js';
import { UserError, inputError } from '../../runner/errors.js';
import { GlobSet } from '../../runner/glob.js';
import { log } from '../../runner/log.js';
import { Summary, mdCode, mdText } from '../../runner/summary.js';
import * as workflow from '../../runner/workflow.js';
import { type Config, getInputs } from './inputs.js';

/** The branch being released: the checked-out branch, or GITHUB_REF's on a detached checkout. */
async function currentBranch(git: Git): Promise<string> {
  const r = await git.run(['symbolic-ref', '--short', '-q', 'HEAD'], { check: false });
  if (r.code === 0 && r.stdout.trim()) return r.stdout.trim();
  const ref = process.env.GITHUB_REF ?? '';
  if (ref.startsWith('refs/heads/')) return ref.slice('refs/heads/'.length);
  throw new UserError(
    `HEAD is detached${ref ? ` and GITHUB_REF is ${ref}, not a branch` : ''}: semver-tag releases a branch. Run it on push to a release branch (actions/checkout checks the branch out), or check out the branch before this step.`,
  );
}

function defaultBranches(): string[] {
  const def = (eventPayload().repository as { default_branch?: string } | undefined)?.default_branch;
  return def ? [def] : ['main', 'master'];
}

interface Outcome {
  plan: ReleasePlan;
  tag?: string;
  version?: SemVer;
  created: boolean;
  changelog: string;
  why: string;
  attempts: number;
  release?: string;
  majorTag?: string;
}

export async function run(): Promise<void> {
  const config = getInputs();
  const where = await new Git(config.workspace).location();
  if (!where)
    throw new UserError(
      `${config.workspace} is not inside a git checkout: semver-tag reads the history and tags with git. In a workflow, run actions/checkout first (fetch-depth 0 is not needed); locally, run it in a clone${config.workingDirectorySet ? ', or point working-directory into one' : ''}.`,
    );
  const root = where.top;
  const git = new Git(root);
  const gomods = (await git.out(['ls-files', '--', 'go.mod', ':(glob)**/go.mod']))
    .split('\n')
    .filter(Boolean);
  const mod = findModule(root, where.prefix || '.', gomods, process.env.GITHUB_REPOSITORY);
  if (!mod.isGo && config.apiCheck)
    throw inputError(
      'api-check',
      'true',
      'true only for a Go module (it compares exported APIs with apidiff)',
      'This repository has no go.mod; set api-check to false.',
    );
  const branch = await currentBranch(git);
  const pre = config.prereleaseBranches.find((p) => p.glob.matches(branch));
  const releaseGlobs = new GlobSet(
    config.releaseBranches.length ? config.releaseBranches : defaultBranches(),
  );
  const releasable = Boolean(pre) || releaseGlobs.matches(branch);
  log.info(
    `${mod.isGo ? `Module ${mod.path} in ${mod.dir}` : `No go.mod: ${mod.path} is versioned as a whole`} (tags ${mod.tagPrefix}vX.Y.Z), branch ${branch}${pre ? ` (pre-release ${pre.id})` : ''}`,
  );

  const hasRemote = await git.ok(['remote', 'get-url', config.remote]);
  if (hasRemote) {
    await fetchTags(git, config.remote);
    await deepenUntilTagged(git, config.remote, mod, (await scanTags(git, mod)).tags.length > 0);
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
    label: config.labels ? await labelOverride(config, await git.out(['rev-parse', 'HEAD'])) : undefined,
  };

  const outcome = await release(git, config, rules, releasable && !config.dryRun, branch);
  if (outcome.created && config.majorTag && outcome.version && !outcome.version.pre.length)
    outcome.majorTag = await moveMajorTag(git, config, mod.tagPrefix, outcome.version, outcome.tag!);
  if (outcome.created && config.createRelease && outcome.tag)
    outcome.release = await makeRelease(config, outcome);
  else if (outcome.plan.existing && config.createRelease && !config.dryRun && outcome.tag)
    outcome.release = await makeRelease(config, outcome);

  const version = outcome.version ? formatVersion(outcome.version).slice(1) : '';
  workflow.setOutput('version', version);
  workflow.setOutput('tag', outcome.tag ?? '');
  workflow.setOutput('previous-tag', outcome.plan.previous?.name ?? '');
  workflow.setOutput('bump', outcome.plan.bump);
  workflow.setOutput('changelog', outcome.changelog);
  workflow.setOutput('created', String(outcome.created));
  log.info(outcome.why);
  await writeSummary(summarize(mod.path, branch, outcome));
}

/** The merged PR's `release:` label, when the token can read it; an unreadable PR is a warning. */
async function labelOverride(config: Config, head: string): Promise<ReleaseRules['label']> {
  if (!process.env.GITHUB_REPOSITORY) return undefined;
  if (!config.githubToken) {
    workflow.warning(
      "github-token is empty, so the merged pull request's `release:` labels were not read; the bump comes from the commits alone. Pass `github-token: ${{ github.token }}` (semver-tag's default, and the root action's), or set labels: false.",
    );
    return undefined;
  }
  try {
    const { client, repo } = GitHubClient.fromEnv(config.githubToken);
    const pr = await mergedPullOf(client, repo, head);
    if (!pr) return undefined;
    const bump = bumpFromLabels(pr.labels, pr.number);
    const name = pr.labels.find((l) => l.toLowerCase().startsWith('release:'));
    return bump && name ? { bump, pr: pr.number, name } : undefined;
  } catch (e) {
    if (!(e instanceof GitHubApiError)) throw e;
    workflow.warning(
      `Could not read the pull request of ${head.slice(0, 7)} for release labels (${e.message}); deciding from the commits.`,
    );
    return undefined;
  }
}

/**
 * Plans, tags and pushes; when the push is refused because another run pushed the same tag first,
 * fetches the tags and plans again (bounded), never forcing and never moving a release tag.
 */
async function release(
  git: Git,
  config: Config,
  rules: ReleaseRules,
  tagging: boolean,
  branch: string,
): Promise<Outcome> {
  const date = new Date().toISOString().slice(0, 10);
  const repoUrl = repositoryUrl();
  for (let attempt = 1; ; attempt++) {
    const plan = await planRelease(git, rules);
    for (const t of plan.ignoredTags) workflow.warning(`Ignoring tag ${t.name}: ${t.why}.`);
    if (plan.existing)
      return {
        plan,
        tag: plan.existing.name,
        version: plan.existing.version,
        created: false,
        changelog: '',
        why: `${plan.decidedBy}: nothing to create.`,
        attempts: attempt,
      };
    if (!plan.next)
      return {
        plan,
        version: plan.previous?.version,
        tag: plan.previous?.name,
        created: false,
        changelog: '',
        why: `Nothing to release: ${plan.decidedBy}.${plan.previous ? ` The tag and version outputs stay at the latest release, ${plan.previous.name}.` : ''}`,
        attempts: attempt,
      };
    const { tag, version } = plan.next;
    if (config.apiCheck && plan.previous && plan.previous.version.major === version.major)
      await checkApi(git, rules, plan, tag);
    const changelog = renderChangelog(tag, date, changesOf(plan), repoUrl);
    const result = { plan, tag, version, changelog, attempts: attempt };
    if (!tagging)
      return {
        ...result,
        created: false,
        why: config.dryRun
          ? `Dry run: would tag ${tag} (${plan.decidedBy}).`
          : `Branch ${branch} is not a release branch: ${tag} computed, not tagged.`,
      };
    // The tag exists already (fetched after a lost race): released by a later commit, or a conflict.
    const taken = (await scanTags(git, rules.mod)).tags.find((t) => t.name === tag);
    if (taken) {
      if (await git.ok(['merge-base', '--is-ancestor', plan.head, taken.commit]))
        return {
          ...result,
          created: false,
          why: `${tag} was pushed meanwhile on ${taken.commit.slice(0, 7)}, which contains this commit: already released.`,
        };
      throw new UserError(
        `${tag} already exists on ${taken.commit.slice(0, 7)}, which is not in the history of HEAD (${plan.head.slice(0, 7)}): another branch released this version. Merge that branch, or release from it.`,
      );
    }
    await createTag(git, config, tag, changelog);
    let pushed;
    try {
      pushed = await pushTag(git, config.remote, tag);
    } catch (e) {
      await git.run(['tag', '-d', tag]);
      throw e;
    }
    if (pushed.kind === 'pushed') {
      log.info(`Pushed ${tag} (${plan.decidedBy})`);
      return {
        ...result,
        created: true,
        why: `Tagged ${tag} on ${plan.head.slice(0, 7)}: ${plan.decidedBy}.`,
      };
    }
    await git.run(['tag', '-d', tag]);
    if (attempt >= config.maxAttempts)
      throw new UserError(
        `Another run pushed ${tag} first, ${attempt} times in a row; giving up without tagging (max-attempts ${config.maxAttempts}). Re-run the job, or serialize releases with \`concurrency:\` in the workflow.`,
      );
    log.info(
      `Another run pushed ${tag} first; fetching tags and planning again (attempt ${attempt + 1} of ${config.maxAttempts})`,
    );
    await fetchTags(git, config.remote);
  }
}

/**
 * api-check: the exported API against the previous release. An incompatible change needs a new
 * major version (at v0, at least a minor one); commits that claim less fail the step before tagging.
 */
async function checkApi(git: Git, rules: ReleaseRules, plan: ReleasePlan, tag: string): Promise<void> {
  const previous = plan.previous!;
  const diff = await diffApi(git, rules.mod, previous.name);
  const atZero = previous.version.major === 0;
  log.info(
    `api-check against ${previous.name}: ${diff.incompatible.length} incompatible, ${diff.compatible.length} compatible change(s)`,
  );
  if (diff.incompatible.length && (!atZero || plan.bump === 'patch'))
    throw new UserError(
      `api-check: the exported API of ${rules.mod.path} has incompatible changes since ${previous.name}, but ${plan.decidedBy} makes the next version ${tag}:\n${diff.incompatible
        .slice(0, 20)
        .map((c) => `  - ${c}`)
        .join(
          '\n',
        )}\n${atZero ? 'At v0, mark the change as breaking (`feat!:` or a `BREAKING CHANGE:` footer) or label the PR release:minor.' : `Restore the API (add, do not change), or release v${previous.version.major + 1} under the module path ${rules.mod.path.replace(/\/v\d+$/, '')}/v${previous.version.major + 1}.`} Nothing was tagged.`,
    );
  if (diff.compatible.length && plan.bump === 'patch')
    workflow.warning(
      `api-check: ${diff.compatible.length} exported addition(s) since ${previous.name} (${diff.compatible.slice(0, 3).join('; ')}), released as a patch; a \`feat:\` commit would make it a minor release.`,
    );
}

/**
 * The moving major tag (`v1`) that action repositories publish: pointed at the new release when it
 * is the highest of its major, with a lease on the remote's current value so a concurrent move is
 * never overwritten. Only this tag is ever moved; release tags never are.
 */
async function moveMajorTag(
  git: Git,
  config: Config,
  prefix: string,
  version: SemVer,
  tag: string,
): Promise<string | undefined> {
  const major = `${prefix}v${version.major}`;
  const higher = (await scanTags(git, { tagPrefix: prefix })).tags.find(
    (t) =>
      t.version.major === version.major && !t.version.pre.length && compareVersions(t.version, version) > 0,
  );
  if (higher) {
    log.info(`${major} stays: ${higher.name} is a higher release of v${version.major}.`);
    return undefined;
  }
  const ref = `refs/tags/${major}`;
  const remoteNow = (await git.out(['ls-remote', config.remote, ref])).split('\t')[0] ?? '';
  await git.run(['tag', '-f', '-a', '-m', `${major} → ${tag}`, major, `${tag}^{commit}`]);
  const r = await git.run(
    ['push', '--porcelain', `--force-with-lease=${ref}:${remoteNow}`, config.remote, `${ref}:${ref}`],
    {
      check: false,
    },
  );
  if (r.code !== 0) {
    workflow.warning(
      `${major} was not moved to ${tag}: the remote's ${major} changed meanwhile or the push was refused (${r.stderr.trim().split('\n').at(-1)}).`,
    );
    return undefined;
  }
  log.info(`Moved ${major} to ${tag}`);
  return major;
}

async function createTag(git: Git, config: Config, tag: string, message: string): Promise<void> {
  const identity = (await git.ok(['config', 'user.email']))
    ? []
    : [
        '-c',
        'user.name=github-actions[bot]',
        '-c',
        'user.email=41898282+github-actions[bot]@users.noreply.github.com',
      ];
  await git.run([...identity, 'tag', config.sign ? '-s' : '-a', '-m', message, tag, 'HEAD']);
}

async function makeRelease(config: Config, outcome: Outcome): Promise<string | undefined> {
  if (!config.githubToken) {
    workflow.warning(
      'create-release needs github-token (contents: write); the tag was pushed without a GitHub Release.',
    );
    return undefined;
  }
  const { client, repo } = GitHubClient.fromEnv(config.githubToken);
  try {
    const r = await ensureRelease(client, repo, {
      tag: outcome.tag!,
      body: outcome.changelog || `Release ${outcome.tag}`,
      prerelease: Boolean(outcome.version?.pre.length),
    });
    log.info(`GitHub Release ${r.action}: ${r.url}`);
    return r.url;
  } catch (e) {
    if (!(e instanceof GitHubApiError)) throw e;
    throw new UserError(
      `The tag ${outcome.tag} is pushed, but creating its GitHub Release failed: ${e.message}. The token needs \`contents: write\`; re-running the job creates the release for the existing tag.`,
    );
  }
}

function summarize(modulePath: string, branch: string, o: Outcome): Summary {
  const s = new Summary()
    .heading(
      `semver-tag: ${o.created ? `✅ tagged ${o.tag}` : o.plan.existing ? `already tagged ${o.tag}` : o.plan.next ? `${o.tag} (not tagged)` : 'nothing to release'}`,
    )
    .table(
      ['', ''],
      [
        ['module', mdCode(modulePath)],
        ['branch', mdText(branch)],
        ['previous release', o.plan.previous?.name ?? 'none'],
        ['bump', o.plan.bump],
        ['decided by', mdText(o.plan.decidedBy)],
        ['next', o.tag ?? ''],
        [
          'created',
          o.created ? `yes${o.attempts > 1 ? ` (after ${o.attempts - 1} lost race(s))` : ''}` : 'no',
        ],
        ...(o.release ? [['release', o.release]] : []),
        ...(o.majorTag ? [['moved', `${o.majorTag} → ${o.tag}`]] : []),
      ],
    );
  if (o.plan.decisions.length)
    s.details(
      `Commits since ${o.plan.previous?.name ?? 'the start'} (${o.plan.decisions.length})`,
      new Summary()
        .table(
          ['commit', 'subject', 'bump', 'why'],
          o.plan.decisions
            .slice(0, 100)
            .map((d) => [d.commit.sha.slice(0, 7), mdText(d.commit.subject), d.bump, mdText(d.reason)]),
        )
        .toString(),
    );
  if (o.changelog) s.details('Changelog', o.changelog);
  return s;
}
