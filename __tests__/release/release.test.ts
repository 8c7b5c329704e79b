import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decideCommit, DEFAULT_RULES, isDependencyUpdate, parseRules } from '../../src/release/commits.js';
import { renderChangelog } from '../../src/release/changelog.js';
import { modulePathOf } from '../../src/release/module.js';
import { bumpVersion, compareVersions, formatVersion, parseVersion } from '../../src/release/semver.js';

const v = (s: string) => parseVersion(s)!;

describe('Go module versions', () => {
  test.each(['v1.2.3', 'v0.0.0', 'v1.0.0-rc.1', 'v2.10.0-beta.2.x'])('%s parses and prints back', (s) => {
    expect(formatVersion(v(s))).toBe(s);
  });
  test.each(['1.2.3', 'v1.2', 'v01.2.3', 'v1.2.3+meta', 'v1.2.3+incompatible', 'v1.2.3-01', 'v1.2.3-'])(
    '%s is refused',
    (s) => {
      expect(parseVersion(s)).toBeUndefined();
    },
  );
  test('precedence follows semver: pre-releases first, numeric identifiers as numbers', () => {
    const sorted = [
      'v1.0.0',
      'v1.0.0-rc.10',
      'v1.0.0-rc.2',
      'v1.0.0-alpha',
      'v0.9.9',
      'v1.0.0-rc.2.1',
      'v1.10.0',
      'v1.9.0',
    ]
      .map(v)
      .sort(compareVersions)
      .map(formatVersion);
    expect(sorted).toEqual([
      'v0.9.9',
      'v1.0.0-alpha',
      'v1.0.0-rc.2',
      'v1.0.0-rc.2.1',
      'v1.0.0-rc.10',
      'v1.0.0',
      'v1.9.0',
      'v1.10.0',
    ]);
  });
  test.each([
    ['v1.2.3', 'patch', 'v1.2.4'],
    ['v1.2.3', 'minor', 'v1.3.0'],
    ['v1.2.3', 'major', 'v2.0.0'],
    ['v0.4.1', 'major', 'v0.5.0'],
    ['v1.1.0-rc.2', 'patch', 'v1.1.0'],
    ['v1.1.0-rc.2', 'minor', 'v1.1.0'],
    ['v1.1.0-rc.2', 'major', 'v2.0.0'],
    ['v1.1.1-rc.1', 'minor', 'v1.2.0'],
  ] as const)('%s + %s = %s', (from, bump, to) => {
    expect(formatVersion(bumpVersion(v(from), bump))).toBe(to);
  });
  test('a breaking change at v0 may go to v1 when configured', () => {
    expect(formatVersion(bumpVersion(v('v0.4.1'), 'major', 'major'))).toBe('v1.0.0');
  });
});

describe('conventional commits', () => {
  const decide = (subject: string, body = '') =>
    decideCommit({ sha: 'a'.repeat(40), subject, body }, DEFAULT_RULES, 'patch');
  test.each([
    ['feat: x', '', 'minor'],
    ['fix(db): x', '', 'patch'],
    ['feat(api)!: x', '', 'major'],
    ['chore: x', '', 'none'],
    ['docs: x', 'BREAKING CHANGE: the flag is gone', 'major'],
    ['Merge things (#4)', '* fix: a\n\n* feat!: b', 'major'],
    ['Update README', '', 'patch'],
    ['Note: not a type', '', 'patch'],
  ])('%j with body %j asks for %s', (subject, body, bump) => {
    expect(decide(subject, body).bump).toBe(bump);
  });
  test('the PR number of a squash subject is kept, and removed from the description', () => {
    const d = decide('feat(cli): colours (#42)');
    expect(d.changes).toEqual([
      expect.objectContaining({ type: 'feat', scope: 'cli', description: 'colours', pr: 42 }),
    ]);
    expect(renderChangelog('v1.0.0', '2026-11-22', d.changes, 'https://github.com/o/r')).toBe(
      '## v1.0.0 (2026-11-22)\n\n### Features\n\n- **cli:** colours ([#42](https://github.com/o/r/pull/42)) ([aaaaaaa](https://github.com/o/r/commit/' +
        'a'.repeat(40) +
        '))\n',
    );
  });
});

describe('dependency updates and quoted text count for what they are', () => {
  const body = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures/commits', name), 'utf8');
  const decide = (subject: string, text = '', rules = DEFAULT_RULES) =>
    decideCommit({ sha: 'b'.repeat(40), subject, body: text }, rules, 'patch');
  // Subjects as Dependabot and Renovate write them, with the bodies they write (release notes of the
  // dependency quoted inside, with `feat:` and `feat!:` lines that are not this repository's).
  test.each([
    ['chore(deps): bump github.com/spf13/cobra from 1.8.1 to 1.9.0', 'dependabot-squash.txt', 'none'],
    ['build(deps): bump golang.org/x/net from 0.30.0 to 0.33.0 (#812)', 'dependabot-pr-body.txt', 'none'],
    ['Bump golang.org/x/net from 0.30.0 to 0.33.0 (#812)', 'dependabot-pr-body.txt', 'patch'],
    ['Bump the go-deps group with 3 updates', 'dependabot-pr-body.txt', 'patch'],
    [
      'fix(deps): update module github.com/prometheus/client_golang to v1.21.0',
      'renovate-pr-body.txt',
      'patch',
    ],
    [
      'chore(deps): update module github.com/prometheus/client_golang to v1.21.0 (#77)',
      'renovate-pr-body.txt',
      'none',
    ],
    ['Update module github.com/prometheus/client_golang to v1.21.0', 'renovate-pr-body.txt', 'patch'],
  ])('%j (body %s) asks for %s, whatever the body quotes', (subject, file, bump) => {
    const d = decide(subject, body(file));
    expect(isDependencyUpdate(d.commit)).toBe(true);
    expect(d.bump).toBe(bump);
    expect(d.changes.every((c) => !c.breaking)).toBe(true);
  });
  test('a dependency update body with a subject that is no bot subject is still known by its body', () => {
    expect(
      isDependencyUpdate({ sha: 'c', subject: 'Go deps (#3)', body: body('dependabot-squash.txt') }),
    ).toBe(true);
  });
  test.each([
    ['feat: x', '> feat!: quoted from an upstream changelog', 'minor'],
    ['fix: x', '```\nfeat!: in a code block\n```', 'patch'],
    [
      'fix: x',
      '<details>\n<summary>notes</summary>\n\nfeat!: inside details\n</details>\n* feat: ours (after it)',
      'minor',
    ],
    ['fix: x', '<blockquote><p>feat!: one line</p></blockquote>', 'patch'],
    ['Squash (#9)', '* fix: a\n> BREAKING CHANGE: quoted\n* feat: b', 'minor'],
  ])('%j with body %j asks for %s (quoted lines are not ours)', (subject, text, bump) => {
    expect(decide(subject, text).bump).toBe(bump);
  });
  test("a person's squash that lists a bot commit among its own keeps its feat lines", () => {
    const d = decide(
      'feat: the new flag (#40)',
      '* feat: the new flag\n* chore(deps): bump x from 1 to 2\n* feat!: drop v1 API',
    );
    expect(d.bump).toBe('major');
  });
  test('bump-rules take a scope: chore(deps) releases a patch, other chores none', () => {
    const rules = parseRules(['chore(deps): patch']);
    expect(
      decide('chore(deps): bump golang.org/x/net from 0.30.0 to 0.33.0', body('dependabot-squash.txt'), rules)
        .bump,
    ).toBe('patch');
    expect(decide('chore: tidy', '', rules).bump).toBe('none');
    expect(decide('chore(ci): tidy', '', rules).bump).toBe('none');
  });
  test.each(['chore(deps: patch', 'chore(deps) patch', 'chore(deps): tiny'])(
    'bump-rules %j is refused by name',
    (line) => {
      expect(() => parseRules([line])).toThrow(/bump-rules.*type\(scope\): bump/s);
    },
  );
  test('a type that is a property of every object is not a rule', () => {
    expect(decide('constructor: x').bump).toBe('patch');
  });
});

test('module paths from go.mod, quoted or with comments', () => {
  expect(modulePathOf('// x\nmodule "example.com/a/v3" // c\n\ngo 1.22\n')).toBe('example.com/a/v3');
  expect(modulePathOf('go 1.22\n')).toBeUndefined();
});
