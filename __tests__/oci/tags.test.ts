import { decideTags, sanitizeTag, type TagContext } from '../../src/oci/tags.js';

const base: TagContext = { sha: '0123456789abcdef', existing: [], latest: 'auto', extra: [] };
const tags = (ctx: Partial<TagContext>) =>
  decideTags({ ...base, ...ctx })
    .filter((d) => d.tag)
    .map((d) => d.tag);

test.each([
  ['a release', { version: '1.4.2' }, ['latest', '1.4.2', '1.4', '1', 'sha-0123456']],
  ['a pre-release', { version: '2.0.0-rc.1' }, ['2.0.0-rc.1', 'sha-0123456']],
  ['a v0 release (no major tag)', { version: '0.3.0' }, ['latest', '0.3.0', '0.3', 'sha-0123456']],
  [
    'an older release',
    { version: '1.4.2', existing: ['1.5.0', 'latest'] },
    ['1.4.2', '1.4', '1', 'sha-0123456'],
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
