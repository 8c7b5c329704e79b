import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findFiles, GlobSet, globToRegExp } from '../../src/runner/glob.js';
import { tempDir } from '../helpers/cli.js';

describe('globs', () => {
  test.each([
    ['go.sum', 'go.sum', true],
    ['go.sum', 'a/go.sum', false],
    ['**/go.sum', 'go.sum', true],
    ['**/go.sum', 'a/b/go.sum', true],
    ['*.go', 'a/x.go', false],
    ['internal/**', 'internal/a/b.go', true],
    ['**/*_test.go', 'x_test.go', true],
    ['**/*.{pb,gen}.go', 'api/v1/x.pb.go', true],
    ['**/*.{pb,gen}.go', 'api/v1/x.go', false],
    ['cmd/?/main.go', 'cmd/a/main.go', true],
    ['a.b', 'aXb', false],
  ])('%s against %s is %s', (pattern, path, expected) => {
    expect(globToRegExp(pattern).test(path)).toBe(expected);
  });

  test('a leading ! excludes; ./ prefixes are ignored', () => {
    const set = new GlobSet(['./**/go.sum', '!tools/**']);
    expect(set.matches('go.sum')).toBe(true);
    expect(set.matches('svc/go.sum')).toBe(true);
    expect(set.matches('tools/go.sum')).toBe(false);
  });

  test('findFiles walks the tree, skipping .git and node_modules, sorted', () => {
    const root = tempDir('glob');
    for (const f of ['go.sum', 'b/go.sum', 'a/go.sum', '.git/go.sum', 'node_modules/x/go.sum', 'a/go.mod']) {
      mkdirSync(join(root, f, '..'), { recursive: true });
      writeFileSync(join(root, f), f);
    }
    expect(findFiles(root, ['**/go.sum'])).toEqual(['a/go.sum', 'b/go.sum', 'go.sum']);
  });
});
