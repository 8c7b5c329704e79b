import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { createArchive, extractArchive } from '../../src/archive/system-tar.js';
import { tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';

/** A gzip tar of `dir`'s contents, made by the real tar (as a crafted cache entry would be). */
function tarOf(dir: string): string {
  const file = join(tempDir('cache-tar'), 'entry.tar.gz');
  execFileSync('tar', ['-czf', file, '-C', dir, '.']);
  return file;
}

/** Every path under `dir` (siblings included: nothing may be left beside it either). */
const around = (dir: string) => readdirSync(dirname(dir)).sort();

/**
 * Runs the suite with GNU tar, and again with libarchive's bsdtar first on PATH as `tar` (it behaves
 * like macOS's tar: no --skip-old-files, for one), so restores work on every runner OS's tar.
 */
const TARS: [string, string | undefined][] = [
  ['GNU tar', undefined],
  ['bsdtar as tar (macOS-like)', '/usr/bin/bsdtar'],
];

for (const [tarName, tarBinary] of TARS)
  describeWith(
    tarBinary ? 'bsdtar (Debian libarchive-tools)' : 'tar',
    hasCommand(tarBinary ?? 'tar', ['--version']),
    `cache restore is all or nothing (${tarName})`,
    () => {
      const savedPath = process.env.PATH;
      beforeAll(() => {
        if (!tarBinary) return;
        const bin = tempDir('bsdtar-path');
        symlinkSync(tarBinary, join(bin, 'tar'));
        process.env.PATH = `${bin}:${process.env.PATH}`;
        // (jest gives tests their own process.env: pass it on, as go-ship's runCommand does)
        expect(execFileSync('tar', ['--version'], { encoding: 'utf8', env: process.env })).toMatch(/^bsdtar/);
      });
      afterAll(() => {
        process.env.PATH = savedPath;
      });

      // Untrusted input: a crafted entry with `./cache -> /elsewhere` made tar fail, the failure was a
      // warning, the link stayed in GOMODCACHE, and the next `go mod download` wrote through it.
      test.each([
        ['an absolute symlink', (d: string) => symlinkSync('/tmp', join(d, 'cache'))],
        ['a symlink that climbs out', (d: string) => symlinkSync('../../..', join(d, 'up'))],
        [
          // Each target looks inside as text; followed as the kernel does, the second climbs out.
          'a chain of symlinks',
          (d: string) => {
            mkdirSync(join(d, 'mod'));
            symlinkSync('..', join(d, 'mod', 'up'));
            symlinkSync('up/../etc', join(d, 'mod', 'escape'));
          },
        ],
        [
          'a hard link',
          (d: string) => {
            writeFileSync(join(d, 'a'), 'x');
            linkSync(join(d, 'a'), join(d, 'b'));
          },
        ],
      ])('%s is refused and nothing is left behind', async (_name, plant) => {
        const src = tempDir('cache-src');
        writeFileSync(join(src, 'good.txt'), 'good');
        plant(src);
        const file = tarOf(src);
        const dest = join(tempDir('cache-dest'), 'pkg', 'mod');
        await expect(extractArchive(dest, file, 'gzip')).rejects.toThrow(
          /it was not restored, and nothing of it was kept/,
        );
        expect(existsSync(dest)).toBe(false);
        expect(around(dest)).toEqual([]);
      });

      test('into a warm cache: new files arrive, existing ones are kept, read-only module directories included', async () => {
        const src = tempDir('cache-src');
        mkdirSync(join(src, 'm@v1.0.0'), { recursive: true });
        writeFileSync(join(src, 'm@v1.0.0', 'go.mod'), 'from the cache');
        writeFileSync(join(src, 'new.txt'), 'new');
        mkdirSync(join(src, 'inner'));
        symlinkSync('../new.txt', join(src, 'inner', 'ok-link'));
        chmodSync(join(src, 'm@v1.0.0'), 0o555); // as the go command leaves module directories
        const file = join(tempDir('cache-tar'), 'entry.tar');
        await createArchive(src, file, { compression: 'zstd' });
        const dest = join(tempDir('cache-dest'), 'mod');
        mkdirSync(join(dest, 'm@v1.0.0'), { recursive: true });
        writeFileSync(join(dest, 'm@v1.0.0', 'go.mod'), 'already here');
        await extractArchive(dest, file, 'zstd');
        expect(readFileSync(join(dest, 'm@v1.0.0', 'go.mod'), 'utf8')).toBe('already here');
        expect(readFileSync(join(dest, 'new.txt'), 'utf8')).toBe('new');
        expect(lstatSync(join(dest, 'inner', 'ok-link')).isSymbolicLink()).toBe(true);
        expect(around(dest)).toEqual(['mod']);
        // Into an empty place: the staging directory becomes the cache, read-only directories and all.
        const fresh = join(tempDir('cache-dest'), 'mod');
        await extractArchive(fresh, file, 'zstd');
        expect(readFileSync(join(fresh, 'm@v1.0.0', 'go.mod'), 'utf8')).toBe('from the cache');
        expect(around(fresh)).toEqual(['mod']);
        chmodSync(join(fresh, 'm@v1.0.0'), 0o755);
      });
    },
  );
