import { inputError, UserError } from '../runner/errors.js';
import { BUMPS, maxBump, type Bump } from './semver.js';

export interface Commit {
  sha: string;
  subject: string;
  body: string;
}

/** One conventional-commit line: a squash merge carries several, one per bullet. */
export interface Change {
  type: string;
  scope?: string;
  description: string;
  breaking: boolean;
  bump: Bump;
  sha: string;
  /** The PR number GitHub appends to squash and merge subjects: `(#123)`. */
  pr?: number;
}

export interface CommitDecision {
  commit: Commit;
  bump: Bump;
  /** Why: `feat!` , `BREAKING CHANGE footer`, `fix`, or `default-bump (not a conventional commit)`. */
  reason: string;
  changes: Change[];
}

export const DEFAULT_RULES: Record<string, Bump> = {
  feat: 'minor',
  fix: 'patch',
  perf: 'patch',
  revert: 'patch',
  refactor: 'none',
  build: 'none',
  chore: 'none',
  ci: 'none',
  docs: 'none',
  style: 'none',
  test: 'none',
};

/** `type: bump` lines over the defaults; an unknown bump is an error that lists what is accepted. */
export function parseRules(lines: string[]): Record<string, Bump> {
  const rules = { ...DEFAULT_RULES };
  for (const line of lines) {
    const m = /^([a-z][\w-]*)\s*:\s*(\S+)$/i.exec(line.trim());
    if (!m || !BUMPS.includes(m[2] as Bump))
      throw inputError(
        'bump-rules',
        line,
        `lines \`type: bump\` where bump is ${BUMPS.join(', ')} (e.g. \`refactor: patch\`)`,
      );
    rules[m[1].toLowerCase()] = m[2] as Bump;
  }
  return rules;
}

const LINE = /^(?:[*-]\s+)?([A-Za-z][\w-]*)(?:\(([^)]*)\))?(!)?:\s+(.+?)\s*$/;
const BREAKING_FOOTER = /^(?:[*-]\s+)?BREAKING[ -]CHANGE:\s*(.*)$/m;
const PR_REF = /\s\(#(\d+)\)$/;

/**
 * The bump one commit asks for: every conventional line counts, the subject and each line of the
 * body (GitHub's squash merge lists the PR's commits as `* feat: ...` bullets), `!` or a
 * `BREAKING CHANGE:` footer means major. A commit with no conventional line gets `defaultBump`.
 */
export function decideCommit(commit: Commit, rules: Record<string, Bump>, defaultBump: Bump): CommitDecision {
  const changes: Change[] = [];
  const pr = PR_REF.exec(commit.subject);
  const lines = [commit.subject, ...commit.body.split('\n')];
  for (const [i, raw] of lines.entries()) {
    const m = LINE.exec(raw.trim());
    if (!m) continue;
    const type = m[1].toLowerCase();
    if (!(type in rules) || type === 'breaking') continue;
    const description = i === 0 ? m[4].replace(PR_REF, '') : m[4];
    const breaking = Boolean(m[3]);
    // A squash body often repeats the subject as its first bullet: one change, said twice.
    const same = changes.findIndex(
      (c) => c.type === type && c.scope === (m[2] || undefined) && c.description === description,
    );
    if (same >= 0) {
      if (breaking) changes[same] = { ...changes[same], breaking, bump: 'major' };
      continue;
    }
    changes.push({
      type,
      scope: m[2] || undefined,
      description,
      breaking,
      bump: breaking ? 'major' : rules[type],
      sha: commit.sha,
      pr: pr ? Number(pr[1]) : undefined,
    });
  }
  const footer = BREAKING_FOOTER.exec(commit.body);
  if (footer) {
    if (changes.length) changes[0] = { ...changes[0], breaking: true, bump: 'major' };
    else
      changes.push({
        type: 'breaking',
        description: footer[1] || commit.subject,
        breaking: true,
        bump: 'major',
        sha: commit.sha,
        pr: pr ? Number(pr[1]) : undefined,
      });
  }
  if (!changes.length)
    return {
      commit,
      bump: defaultBump,
      reason: `default-bump ${defaultBump} (not a conventional commit)`,
      changes: [],
    };
  const top = changes.reduce((a, c) => (maxBump(a.bump, c.bump) === c.bump && c.bump !== a.bump ? c : a));
  const reason = footer
    ? 'BREAKING CHANGE footer'
    : `${top.type}${top.scope ? `(${top.scope})` : ''}${top.breaking ? '!' : ''}${changes.length > 1 ? ` (of ${changes.length} changes)` : ''}`;
  return { commit, bump: top.bump, reason, changes };
}

const LABELS: Record<string, Bump> = {
  'release:major': 'major',
  'release:minor': 'minor',
  'release:patch': 'patch',
  'release:none': 'none',
};

/**
 * The bump a merged PR's labels ask for, overriding the commits. A `release:` label that is not one of
 * the four is an error (a typo must not silently release the wrong version).
 */
export function bumpFromLabels(labels: string[], pr: number): Bump | undefined {
  const release = labels.filter((l) => l.toLowerCase().startsWith('release:'));
  for (const l of release)
    if (!(l.toLowerCase() in LABELS))
      throw new UserError(
        `PR #${pr} has the label \`${l}\`; release labels are ${Object.keys(LABELS).join(', ')}. Rename the label on the pull request, then re-run the job.`,
      );
  const bumps = [...new Set(release.map((l) => LABELS[l.toLowerCase()]))];
  if (bumps.length > 1)
    throw new UserError(
      `PR #${pr} has ${release.length} release labels (${release.join(', ')}); keep one, then re-run the job.`,
    );
  return bumps[0];
}
