import { decideCommit, type Change, type CommitDecision } from './commits.js';
import { checkMajor, type GoModule } from './module.js';
import { bumpVersion, compareVersions, formatVersion, maxBump, type Bump, type SemVer } from './semver.js';
import {
  commitsSince,
  latestReachable,
  scanTags,
  type Git,
  type ModuleTag,
  type TagScan,
} from './git-tags.js';
import type { Commit } from './commits.js';

export interface ReleaseRules {
  mod: GoModule;
  rules: Record<string, Bump>;
  defaultBump: Bump;
  initialVersion: SemVer;
  majorZeroBreaking: 'minor' | 'major';
  /** On a pre-release branch: the identifier (`rc` makes vX.Y.Z-rc.N). */
  prerelease?: string;
  /** The merged PR's `release:` label, which overrides the commits. */
  label?: { bump: Bump; pr: number; name: string };
}

export interface ReleasePlan {
  head: string;
  previous?: ModuleTag;
  decisions: CommitDecision[];
  bump: Bump;
  /** In a sentence: the label, the commit that decided, or why there is nothing to release. */
  decidedBy: string;
  /** The tag to create; undefined when there is nothing to release. */
  next?: { version: SemVer; tag: string };
  /** HEAD already carries this module's release tag: nothing to create. */
  existing?: ModuleTag;
  ignoredTags: { name: string; why: string }[];
}

/**
 * What to release at HEAD, from the repository alone: the last release reachable from HEAD, the
 * commits since then that touch the module, and the bump they (or the PR label) ask for.
 */
export async function planRelease(git: Git, r: ReleaseRules, scanned?: TagScan): Promise<ReleasePlan> {
  // The caller's scan when it has one (20,000 tags take 80 ms to read and parse); it says HEAD too.
  const { tags, ignored, head: scannedHead, nearest } = scanned ?? (await scanTags(git, r.mod));
  const head = scannedHead ?? (await git.out(['rev-parse', 'HEAD']));
  const wantPre = (t: ModuleTag) => (r.prerelease ? true : t.version.pre.length === 0);
  const atHead = tags
    .filter((t) => t.commit === head && wantPre(t))
    .sort((a, b) => compareVersions(b.version, a.version));
  const base = { head, ignoredTags: ignored };
  if (atHead.length) {
    // previous-tag is the release before the one at HEAD, as on the run that created it.
    const previous = await latestReachable(git, r.mod, tags, {
      under: atHead[0].version,
      skip: [atHead[0].name],
      nearest,
    });
    return {
      ...base,
      existing: atHead[0],
      previous,
      decisions: [],
      bump: 'none',
      decidedBy: `HEAD is already tagged ${atHead[0].name}`,
    };
  }

  const previous = await latestReachable(git, r.mod, tags, { nearest });
  const commits: Commit[] = await commitsSince(git, previous?.commit, r.mod);
  const decisions = commits.map((c) => decideCommit(c, r.rules, r.defaultBump));
  let bump: Bump = 'none';
  let decidedBy = previous
    ? `no commits touch ${r.mod.dir} since ${previous.name}`
    : 'no commits touch the module';
  if (r.label) {
    bump = r.label.bump;
    decidedBy = `label ${r.label.name} on PR #${r.label.pr}`;
  } else if (decisions.length) {
    const top = decisions.reduce((a, d) => (maxBump(a.bump, d.bump) !== a.bump ? d : a));
    bump = top.bump;
    decidedBy =
      bump === 'none'
        ? `${decisions.length} commit(s) since ${previous?.name ?? 'the start'}, none asks for a release`
        : `commit ${top.commit.sha.slice(0, 7)} “${top.commit.subject}” (${top.reason} → ${top.bump})`;
  }
  if (bump === 'none') return { ...base, previous, decisions, bump, decidedBy };

  let version = previous ? bumpVersion(previous.version, bump, r.majorZeroBreaking) : { ...r.initialVersion };
  if (!previous) decidedBy = `first release (initial-version); ${decidedBy}`;
  if (r.prerelease) {
    const id = r.prerelease;
    const n = tags
      .filter(
        (t) =>
          t.version.major === version.major &&
          t.version.minor === version.minor &&
          t.version.patch === version.patch &&
          t.version.pre[0] === id &&
          /^\d+$/.test(t.version.pre[1] ?? ''),
      )
      .reduce((m, t) => Math.max(m, Number(t.version.pre[1])), 0);
    version = { ...version, pre: [id, String(n + 1)] };
  }
  const tag = `${r.mod.tagPrefix}${formatVersion(version)}`;
  checkMajor(r.mod, version.major, tag);
  return { ...base, previous, decisions, bump, decidedBy, next: { version, tag } };
}

/** The changes of a plan, newest first, for the changelog. */
export function changesOf(plan: ReleasePlan): Change[] {
  return plan.decisions.flatMap((d) =>
    d.changes.length
      ? d.changes
      : [{ type: 'other', description: d.commit.subject, breaking: false, bump: d.bump, sha: d.commit.sha }],
  );
}
