import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readVersionFile } from '../../src/go/version-file.js';
import { tempDir } from '../helpers/cli.js';

function file(name: string, text: string): string {
  const p = join(tempDir('vf'), name);
  writeFileSync(p, text);
  return p;
}

describe('go-version-file', () => {
  test.each([
    [
      'go.mod',
      'module x\n\ngo 1.21\n\ntoolchain go1.22.5\n',
      { kind: 'exact', text: 'go1.22.5' },
      "go.mod's toolchain line asks for go1.22.5 (its go line is 1.21, the minimum)",
    ],
    [
      'go.mod',
      'module x\n\ngo 1.22 // comment\n',
      { kind: 'range', range: '~1.22.0' },
      "go.mod's go line is 1.22 (no toolchain line)",
    ],
    [
      'go.mod',
      'module x\ngo 1.22.3\n',
      { kind: 'exact', text: '1.22.3' },
      "go.mod's go line is 1.22.3 (no toolchain line)",
    ],
    [
      'go.mod',
      'module x\ngo 1.22.0\ntoolchain default\n',
      { kind: 'exact', text: '1.22.0' },
      "go.mod's go line is 1.22.0 (no toolchain line)",
    ],
    [
      'go.work',
      'go 1.23rc1\n\nuse ./a\n',
      { kind: 'exact', text: '1.23rc1' },
      "go.work's go line is 1.23rc1 (no toolchain line)",
    ],
    ['.go-version', '# pinned\n1.22.5\n', { kind: 'exact', text: '1.22.5' }, '.go-version says 1.22.5'],
    [
      '.tool-versions',
      'nodejs 20.1.0\ngolang 1.22.5\n',
      { kind: 'exact', text: '1.22.5' },
      '.tool-versions asks for golang 1.22.5',
    ],
  ])('%s %j', (name, text, spec, reason) => {
    const r = readVersionFile(file(name, text));
    expect(r.spec).toMatchObject(spec);
    expect(r.reason).toBe(reason);
  });

  test.each([
    ['go.mod', 'module x\n', 'no `go` line'],
    ['go.mod', 'module x\ngo banana\n', 'its go line `banana` is not a Go version'],
    [
      'go.mod',
      'module x\ngo 1.21\ntoolchain 1.22.5\n',
      'its toolchain line `1.22.5` is not a Go release name',
    ],
    ['.tool-versions', 'nodejs 20\n', 'no `golang <version>` line'],
    ['.go-version', '\n\n', 'it is empty'],
  ])('%s %j is refused: %s', (name, text, what) => {
    expect(() => readVersionFile(file(name, text))).toThrow(what);
  });

  test('a missing file names the input and the fix', () => {
    expect(() => readVersionFile('/nonexistent/go.mod')).toThrow(
      'Input `go-version-file` points at /nonexistent/go.mod, which cannot be read (ENOENT)',
    );
  });
});
