import { UserError } from '../runner/errors.js';
import { log } from '../runner/log.js';
import * as workflow from '../runner/workflow.js';
import { enforceApi } from './apicheck.js';
import { renderChangelog } from './changelog.js';
import { type Git, type TagScan, fetchTags, pushTag, scanTags } from './git-tags.js';
import { type ReleasePlan, type ReleaseRules, changesOf, planRelease } from './plan.js';
import { type SemVer, compareVersions } from './semver.js';

/** What a tagging run decided and did. */
export interface TagOutcome {
  plan: ReleasePlan;
  tag?: string;
  version?: SemVer;
  created: boolean;
  changelog: string;
  /** One sentence for the log: what happened and why. */
  why: string;
  attempts: number;
}

export interface TagOptions {
  remote: string;
  /** The branch being released; a branch that is not a release branch computes the tag only. */
  branch: string;
  releasable: boolean;
  dryRun: boolean;
  apiCheck: boolean;
  sign: boolean;
  maxAttempts: number;
  repoUrl?: string;
  /** This module's tags as the caller just read them. */
  tags?: TagScan;
}

/**
 * Plans, tags and pushes; when the push is refused because another run pushed the same tag first,
 * fetches the tags and plans again (bounded), never forcing and never moving a release tag.
 */
export async function tagRelease(git: Git, rules: ReleaseRules, opts: TagOptions): Promise<TagOutcome> {
  const date = new Date().toISOString().slice(0, 10);
  for (let attempt = 1; ; attempt++) {
    // The tags read before the first attempt; after a lost race they are fetched and read again.
    const scan = (attempt === 1 && opts.tags) || (await scanTags(git, rules.mod, { nearest: true }));
    const plan = await planRelease(git, rules, scan);
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
    if (opts.apiCheck && plan.previous && plan.previous.version.major === version.major)
      await enforceApi(git, rules.mod, plan, tag);
    const changelog = renderChangelog(tag, date, changesOf(plan), opts.repoUrl);
    const result = { plan, tag, version, changelog, attempts: attempt };
    // The tag exists already (fetched after a lost race, or released from another branch): released
    // by a later commit, or a conflict. The plan's own scan answers: nothing was fetched since.
    const taken = scan.tags.find((t) => t.name === tag);
    const released = taken && (await git.ok(['merge-base', '--is-ancestor', plan.head, taken.commit]));
    const conflict =
      taken &&
      !released &&
      `${tag} already exists on ${taken.commit.slice(0, 7)}, which is not in the history of HEAD (${plan.head.slice(0, 7)}): another branch released this version. Merge that branch, or release from it.`;
    if (opts.dryRun || !opts.releasable) {
      // What a release run would meet, said now rather than on the day it fails.
      if (conflict) workflow.warning(`${conflict} A release run here would fail.`);
      return {
        ...result,
        created: false,
        why: opts.dryRun
          ? `Dry run: would tag ${tag} (${plan.decidedBy}).`
          : `Branch ${opts.branch} is not a release branch: ${tag} computed, not tagged.`,
      };
    }
    if (taken && released)
      return {
        ...result,
        created: false,
        why: `${tag} was pushed meanwhile on ${taken.commit.slice(0, 7)}, which contains this commit: already released.`,
      };
    if (conflict) throw new UserError(conflict);
    await createTag(git, tag, changelog, opts.sign);
    let pushed;
    try {
      pushed = await pushTag(git, opts.remote, tag);
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
    if (attempt >= opts.maxAttempts)
      throw new UserError(
        `Another run pushed ${tag} first, ${attempt} times in a row; giving up without tagging (max-attempts ${opts.maxAttempts}). Re-run the job, or serialize releases with \`concurrency:\` in the workflow.`,
      );
    log.info(
      `Another run pushed ${tag} first; fetching tags and planning again (attempt ${attempt + 1} of ${opts.maxAttempts})`,
    );
    await fetchTags(git, opts.remote);
  }
}

/** An annotated (or signed) tag on HEAD; a runner without a git identity tags as github-actions[bot]. */
async function createTag(git: Git, tag: string, message: string, sign: boolean): Promise<void> {
  const identity = (await git.ok(['config', 'user.email']))
    ? []
    : [
        '-c',
        'user.name=github-actions[bot]',
        '-c',
        'user.email=41898282+github-actions[bot]@users.noreply.github.com',
      ];
  await git.run([...identity, 'tag', sign ? '-s' : '-a', '-m', message, tag, 'HEAD']);
}

/**
 * The moving major tag (`v1`) that action repositories publish: pointed at the new release when it
 * is the highest of its major, with a lease on the remote's current value so a concurrent move is
 * never overwritten. Only this tag is ever moved; release tags never are.
 */
export async function moveMajorTag(
  git: Git,
  remote: string,
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
  const remoteNow = (await git.out(['ls-remote', remote, ref])).split('\t')[0] ?? '';
  await git.run(['tag', '-f', '-a', '-m', `${major} → ${tag}`, major, `${tag}^{commit}`]);
  const r = await git.run(
    ['push', '--porcelain', `--force-with-lease=${ref}:${remoteNow}`, remote, `${ref}:${ref}`],
    { check: false },
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

/** The branch being released: the checked-out branch, or GITHUB_REF's on a detached checkout. */
export async function currentBranch(git: Git): Promise<string> {
  const r = await git.run(['symbolic-ref', '--short', '-q', 'HEAD'], { check: false });
  if (r.code === 0 && r.stdout.trim()) return r.stdout.trim();
  const ref = process.env.GITHUB_REF ?? '';
  if (ref.startsWith('refs/heads/')) return ref.slice('refs/heads/'.length);
  throw new UserError(
    `HEAD is detached${ref ? ` and GITHUB_REF is ${ref}, not a branch` : ''}: semver-tag releases a branch. Run it on push to a release branch (actions/checkout checks the branch out), or check out the branch before this step.`,
  );
}
