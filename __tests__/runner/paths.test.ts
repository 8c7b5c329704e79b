import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileNameOf, joinInside, resolveWithin } from '../../src/runner/paths.js';
import { tempDir } from '../helpers/cli.js';

test('joinInside: paths from data stay in their folder, links included', () => {
  const base = tempDir('paths');
  const outside = tempDir('paths-outside');
  mkdirSync(join(base, 'sub'));
  writeFileSync(join(base, 'sub', 'ok.txt'), 'x');
  symlinkSync(outside, join(base, 'escape'));
  symlinkSync(join(base, 'sub'), join(base, 'inner'));
  symlinkSync('..', join(base, 'sub', 'up'));
  symlinkSync('up/../..', join(base, 'sub', 'chain'));
  symlinkSync('nowhere/../../..', join(base, 'dangling'));
  expect(joinInside(base, 'sub/ok.txt', 'a path')).toBe(join(base, 'sub', 'ok.txt'));
  expect(joinInside(base, 'new/file.txt', 'a path')).toBe(join(base, 'new', 'file.txt'));
  expect(joinInside(base, 'inner/ok.txt', 'a path')).toBe(join(base, 'inner', 'ok.txt'));
  expect(joinInside(base, 'sub/up/sub/ok.txt', 'a path')).toBe(join(base, 'sub', 'up', 'sub', 'ok.txt'));
  expect(resolveWithin(base, 'sub/up/sub/up/inner/ok.txt')).toBe(join(realpathSync(base), 'sub', 'ok.txt'));
  const refused: [string, RegExp][] = [
    ['../x', /leaves that folder/],
    ['sub/../../x', /leaves that folder/],
    ['/etc/passwd', /is absolute/],
    ['escape/passwd', /leads out of that folder through a link/],
    ['escape/new/deeper', /leads out of that folder through a link/],
    ['a\0b', /NUL byte/],
    // As text `sub/x`; the kernel takes `up` to base, then `..` above it.
    ['sub/up/../x', /leads out of that folder through a link/],
    ['sub/chain/x', /leads out of that folder through a link/],
    ['dangling/x', /leads out of that folder through a link/],
    ['', /is empty/],
  ];
  for (const [path, why] of refused) expect(() => joinInside(base, path, 'The entry')).toThrow(why);
  expect(() => joinInside(base, '../x', 'The entry')).toThrow(
    /^The entry is `\.\.\/x`, which leaves that folder; it must be a path inside /,
  );
});

test.each([null, 3, '', '.', '..', 'a/b', 'a\\b', '../x'])('fileNameOf refuses %j', (name) => {
  expect(() => fileNameOf(name, 'artifacts[0].path')).toThrow(
    /artifacts\[0\]\.path is .*; it must be a file name/,
  );
});
