import { decideCommit, DEFAULT_RULES } from '../../src/release/commits.js';
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

test('module paths from go.mod, quoted or with comments', () => {
  expect(modulePathOf('// x\nmodule "example.com/a/v3" // c\n\ngo 1.22\n')).toBe('example.com/a/v3');
  expect(modulePathOf('go 1.22\n')).toBeUndefined();
});
