import { compareVersions, parseVersion, type SemVer } from '../release/semver.js';

/** One tag rule's outcome: the tag it made, or why it made none. The summary shows every row. */
export interface TagDecision {
  rule: string;
  priority: number;
  tag?: string;
  why: string;
}

export interface TagContext {
  /** The release version (`1.4.0`, `2.0.0-rc.1`), when this build is a release. */
  version?: string;
  /** The commit the image is built from: on pull requests the PR head, not GitHub's merge commit. */
  sha: string;
  /** Branch of a push event (undefined for tags and PRs). */
  branch?: string;
  pr?: number;
  /** Stable versions already in the repository (from its tag list), for `latest`. */
  existing: string[];
  latest: 'auto' | 'true' | 'false';
  extra: string[];
}

const TAG = /^[\w][\w.-]{0,127}$/;

/** A branch name as a tag: lower case, `/` and anything else outside [a-z0-9._-] become `-`. */
export function sanitizeTag(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 128);
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/**
 * The tags of one image, as rules with priorities (metadata-action's idea) and Go-sane defaults:
 * X.Y.Z for every release; X.Y and X only for the highest stable release of their line (a pre-release
 * or an older patch never moves them), X not for 0.x (v0 promises nothing across minors); `latest` only for the highest stable version in
 * the repository; `sha-<7>` of the built commit; the branch name on pushes; `pr-N` on pull requests.
 */
export function decideTags(ctx: TagContext): TagDecision[] {
  const out: TagDecision[] = [];
  const v: SemVer | undefined = ctx.version ? parseVersion(`v${ctx.version.replace(/^v/, '')}`) : undefined;
  const stable = v && !v.pre.length;
  const add = (rule: string, priority: number, tag: string | undefined, why: string) =>
    out.push({ rule, priority, tag, why });
  // Stable versions already in the repository: X.Y and X (and latest) never move backwards to an
  // older release (1.4.2 after 1.5.0 leaves `1` on 1.5.0), as semver-tag's major tag does not.
  const stableExisting = ctx.existing
    .map((t) => parseVersion(`v${t.replace(/^v/, '')}`))
    .filter((x): x is SemVer => Boolean(x) && !x!.pre.length);
  const higherThan = (v: SemVer, same: (x: SemVer) => boolean) =>
    stableExisting
      .filter((x) => same(x) && compareVersions(x, v) > 0)
      .sort((a, b) => compareVersions(b, a))[0];
  const plain = (x: SemVer) => `${x.major}.${x.minor}.${x.patch}`;
  if (!ctx.version) {
    add('{{version}}', 900, undefined, 'not a release build (no version)');
  } else if (!v) {
    add('{{version}}', 900, undefined, `\`${ctx.version}\` is not a semantic version`);
  } else {
    add('{{version}}', 900, ctx.version.replace(/^v/, ''), v.pre.length ? 'pre-release' : 'release');
    const minorHigher = stable ? higherThan(v, (x) => x.major === v.major && x.minor === v.minor) : undefined;
    add(
      '{{major}}.{{minor}}',
      800,
      stable && !minorHigher ? `${v.major}.${v.minor}` : undefined,
      !stable
        ? 'pre-releases never move X.Y'
        : minorHigher
          ? `${plain(minorHigher)} is already in the repository; ${v.major}.${v.minor} stays there`
          : 'highest stable release of its minor',
    );
    const majorHigher = stable ? higherThan(v, (x) => x.major === v.major) : undefined;
    add(
      '{{major}}',
      700,
      stable && v.major > 0 && !majorHigher ? `${v.major}` : undefined,
      !stable
        ? 'pre-releases never move X'
        : v.major === 0
          ? 'v0 makes no promise across minor versions'
          : majorHigher
            ? `${plain(majorHigher)} is already in the repository; ${v.major} stays there`
            : 'highest stable release of its major',
    );
  }
  const higher = v ? higherThan(v, () => true) : undefined;
  if (ctx.latest === 'false') add('latest', 1000, undefined, 'latest: false');
  else if (ctx.latest === 'true') add('latest', 1000, 'latest', 'latest: true');
  else if (!stable)
    add('latest', 1000, undefined, v ? 'pre-releases never move latest' : 'not a release build');
  else if (higher) add('latest', 1000, undefined, `${plain(higher)} is already in the repository`);
  else add('latest', 1000, 'latest', 'highest stable version in the repository');
  add(
    'sha-{{sha7}}',
    100,
    ctx.sha ? `sha-${ctx.sha.slice(0, 7)}` : undefined,
    ctx.sha ? (ctx.pr ? 'pull request head commit' : 'built commit') : 'no commit',
  );
  if (ctx.branch) add('{{branch}}', 600, sanitizeTag(ctx.branch), `push to branch ${ctx.branch}`);
  if (ctx.pr) add('pr-{{number}}', 600, `pr-${ctx.pr}`, `pull request #${ctx.pr}`);
  for (const t of ctx.extra) add('tags input', 500, t, 'given');
  return out.sort((a, b) => b.priority - a.priority);
}
