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

/**
 * `type: bump` or `type(scope): bump` lines over the defaults; an unknown bump is an error that lists
 * what is accepted. A scoped rule wins over its type's (`chore(deps): patch` beside `chore: none`).
 */
export function parseRules(lines: string[]): Record<string, Bump> {
  const rules = { ...DEFAULT_RULES };
  for (const line of lines) {
    const m = /^([a-z][\w-]*)(?:\(([\w./-]+)\))?\s*:\s*(\S+)$/i.exec(line.trim());
    if (!m || !BUMPS.includes(m[3] as Bump))
      throw inputError(
        'bump-rules',
        line,
        `lines \`type: bump\` or \`type(scope): bump\` where bump is ${BUMPS.join(', ')} (e.g. \`refactor: patch\`, \`chore(deps): patch\`)`,
      );
    rules[ruleKey(m[1], m[2])] = m[3] as Bump;
  }
  return rules;
}

const ruleKey = (type: string, scope?: string) =>
  scope ? `${type.toLowerCase()}(${scope.toLowerCase()})` : type.toLowerCase();

/** The rule for a change: its `type(scope)` rule when there is one, else its type's. */
function ruleFor(rules: Record<string, Bump>, type: string, scope?: string): Bump | undefined {
  const rule = (key: string) => (Object.hasOwn(rules, key) ? rules[key] : undefined);
  return (scope !== undefined ? rule(ruleKey(type, scope)) : undefined) ?? rule(ruleKey(type));
}

// Dependabot and Renovate subjects, with or without a conventional prefix:
// `Bump golang.org/x/net from 0.1.0 to 0.2.0`, `Bump the go-deps group with 3 updates`,
// `update module github.com/x/y to v1.2.3`, `Update dependency x to v2`, `Lock file maintenance`.
const DEPENDENCY_SUBJECT =
  /^(?:[A-Za-z][\w-]*(?:\([^)]*\))?!?:\s+)?(?:(?:bump|update|upgrade)\s+(?:\S+\s+from\s+\S+\s+to\s+\S+|the\s+\S+\s+group\b|(?:module|dependency|github\.com\/|golang\.org\/|go\.|k8s\.io\/)\S*.*\bto\b|all\s+(?:non-major\s+)?dependencies)|lock\s+file\s+maintenance)/i;
// What the bots write into the bodies they make (the body is the dependency's notes, not ours).
const DEPENDENCY_BODY =
  /^(?:updated-dependencies:|This PR contains the following updates:|Bumps \[?[^\s\]]+\]?(?:\([^)]*\))? from \S+ to \S+|Signed-off-by: (?:dependabot|renovate)\[bot\])/m;
const DEPENDENCY_SCOPES = new Set(['deps', 'deps-dev', 'dependencies']);

/**
 * A dependency update made by Dependabot, Renovate or by hand in their style. Its body quotes the
 * dependency's release notes (`feat!: ...` lines of another project), so only its subject counts.
 */
export function isDependencyUpdate(commit: Commit): boolean {
  const conventional = LINE.exec(commit.subject.trim());
  if (conventional?.[2] && DEPENDENCY_SCOPES.has(conventional[2].toLowerCase())) return true;
  if (DEPENDENCY_SUBJECT.test(commit.subject.trim())) return true;
  // A conventional subject of another kind is a person's commit (a squash body may quote a bot's).
  return !conventional && DEPENDENCY_BODY.test(commit.body);
}

/**
 * The body lines that speak for this commit: not those quoted from elsewhere (`> ` quotes, HTML
 * `<blockquote>` and `<details>` blocks, fenced code), which is how PR and squash bodies carry
 * release notes, logs and examples.
 */
function ownBodyLines(body: string): string[] {
  const own: string[] = [];
  let fence: string | undefined;
  let html = 0;
  for (const line of body.split('\n')) {
    const t = line.trim();
    const f = /^(`{3,}|~{3,})/.exec(t);
    if (fence) {
      if (f && t.startsWith(fence)) fence = undefined;
      continue;
    }
    if (f) {
      fence = f[1];
      continue;
    }
    const opens = (t.match(/<(?:blockquote|details)\b/gi) ?? []).length;
    const closes = (t.match(/<\/(?:blockquote|details)>/gi) ?? []).length;
    const inside = html > 0 || opens > 0;
    html = Math.max(0, html + opens - closes);
    if (inside || t.startsWith('>')) continue;
    own.push(line);
  }
  return own;
}

const LINE = /^(?:[*-]\s+)?([A-Za-z][\w-]*)(?:\(([^)]*)\))?(!)?:\s+(.+?)\s*$/;
const BREAKING_FOOTER = /^(?:[*-]\s+)?BREAKING[ -]CHANGE:\s*(.*)$/m;
const PR_REF = /\s\(#(\d+)\)$/;

/**
 * The bump one commit asks for: every conventional line counts, the subject and each line of the
 * body of its own (GitHub's squash merge lists the PR's commits as `* feat: ...` bullets), `!` or a
 * `BREAKING CHANGE:` footer means major. A commit with no conventional line gets `defaultBump`.
 * A dependency update counts by its subject alone: its body quotes the dependency's notes.
 */
export function decideCommit(commit: Commit, rules: Record<string, Bump>, defaultBump: Bump): CommitDecision {
  const changes: Change[] = [];
  const pr = PR_REF.exec(commit.subject);
  const dependency = isDependencyUpdate(commit);
  const body = dependency ? '' : ownBodyLines(commit.body).join('\n');
  const lines = [commit.subject, ...body.split('\n')];
  for (const [i, raw] of lines.entries()) {
    const m = LINE.exec(raw.trim());
    if (!m) continue;
    const type = m[1].toLowerCase();
    const rule = ruleFor(rules, type, m[2] || undefined);
    if (rule === undefined || type === 'breaking') continue;
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
      bump: breaking ? 'major' : rule,
      sha: commit.sha,
      pr: pr ? Number(pr[1]) : undefined,
    });
  }
  const footer = BREAKING_FOOTER.exec(body);
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
      reason: `default-bump ${defaultBump} (${dependency ? 'a dependency update, ' : ''}not a conventional commit)`,
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
