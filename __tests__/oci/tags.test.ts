import { decideTags, sanitizeTag, type TagContext } from '../../src/oci/image-tags.js';

const base: TagContext = { sha: '0123456789abcdef', existing: [], latest: 'auto', extra: [] };
const tags = (ctx: Partial<TagContext>) =>
  decideTags({ ...base, ...ctx })
    .filter((d) => d.tag)
    .map((d) => d.tag);

test.each([
  ['a release', { version: '1.4.2' }, ['latest', '1.4.2', '1.4', '1', 'sha-0123456']],
  ['a pre-release', { version: '2.0.0-rc.1' }, ['2.0.0-rc.1', 'sha-0123456']],
  ['a v0 release (no major tag)', { version: '0.3.0' }, ['latest', '0.3.0', '0.3', 'sha-0123456']],
  // Field report: 1.4.2 after 1.5.0 moved `1` back to 1.4.2. X.Y moves (1.4.2 is the newest 1.4).
  [
    'an older release (a patch of an older minor)',
    { version: '1.4.2', existing: ['1.5.0', '1.4.1', 'latest'] },
    ['1.4.2', '1.4', 'sha-0123456'],
  ],
  [
    'an older patch of the same minor',
    { version: '1.5.1', existing: ['1.5.2', '1', '1.5'] },
    ['1.5.1', 'sha-0123456'],
  ],
  [
    'an older major line keeps its own major tag',
    { version: '1.9.0', existing: ['2.0.0', '1.8.3'] },
    ['1.9.0', '1.9', '1', 'sha-0123456'],
  ],
  [
    'a pre-release above does not hold X back',
    { version: '1.4.2', existing: ['1.5.0-rc.1', '1.4.1'] },
    ['latest', '1.4.2', '1.4', '1', 'sha-0123456'],
  ],
  ['a pull request', { pr: 7 }, ['pr-7', 'sha-0123456']],
  ['a branch push', { branch: 'feature/Login_v2' }, ['feature-login_v2', 'sha-0123456']],
  ['latest forced off', { version: '1.0.0', latest: 'false' as const }, ['1.0.0', '1.0', '1', 'sha-0123456']],
])('%s', (_name, ctx, want) => {
  expect(tags(ctx)).toEqual(want);
});

test('every rule says why it made a tag or not', () => {
  const d = decideTags({ ...base, version: '2.0.0-rc.1' });
  expect(d.find((x) => x.rule === '{{major}}.{{minor}}')).toMatchObject({
    tag: undefined,
    why: 'pre-releases never move X.Y',
  });
  expect(d.find((x) => x.rule === 'latest')).toMatchObject({
    tag: undefined,
    why: 'pre-releases never move latest',
  });
  expect(sanitizeTag('.Release/2026')).toBe('release-2026');
});

test('a tag held back names the release that keeps it', () => {
  const d = decideTags({ ...base, version: '1.4.2', existing: ['1.5.0'] });
  expect(d.find((x) => x.rule === '{{major}}')).toMatchObject({
    tag: undefined,
    why: '1.5.0 is already in the repository; 1 stays there',
  });
});
