import { readdirSync, statSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { compression, createArchive, extractArchive } from '../../src/archive/system-tar.js';
import { planCaches, trimBuildCache } from '../../src/go/caches.js';
import { runCommand } from '../../src/runner/command.js';
import { tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';

function entryFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((d) => /^[0-9a-f]{2}$/.test(d))
    .flatMap((d) => readdirSync(join(dir, d)).map((f) => `${d}/${f}`));
}

function ageAll(dir: string, ms: number): void {
  const t = new Date(Date.now() - ms);
  for (const f of entryFiles(dir)) utimesSync(join(dir, f), t, t);
}

describe('cache keys', () => {
  const dirs = { GOMODCACHE: '/m', GOCACHE: '/b' };
  const base = { goos: 'linux', goarch: 'amd64', goVersion: '1.22.12', cgo: '0', depsHash: 'ab'.repeat(32) };

  test('module cache on go.sum; build cache on version, targets, CGO, go.sum and commit with fallbacks', () => {
    const [mod, build] = planCaches({ ...base, targets: ['linux/arm64'], commit: 'c0ffee'.repeat(6) }, dirs);
    expect(mod).toEqual({
      kind: 'modules',
      dir: '/m',
      key: `go-ship-mod-linux-amd64-${'ab'.repeat(8)}`,
      restoreKeys: ['go-ship-mod-linux-amd64-'],
    });
    expect(build.key).toMatch(
      /^go-ship-build-linux-amd64-go1\.22\.12-[0-9a-f]{8}-cgo0-(ab){8}-c0ffeec0ffee$/,
    );
    expect(build.restoreKeys).toEqual([
      build.key.replace(/c0ffeec0ffee$/, ''),
      build.key.replace(/(ab){8}-c0ffeec0ffee$/, ''),
    ]);
  });

  test('different targets or CGO never share a build cache; target order does not matter', () => {
    const key = (targets: string[], cgo = '0') => planCaches({ ...base, targets, cgo }, dirs)[1].key;
    expect(key(['linux/amd64', 'linux/arm64'])).toBe(key(['linux/arm64', 'linux/amd64']));
    expect(key(['linux/amd64'])).not.toBe(key(['linux/arm64']));
    expect(key(['linux/amd64'], '1')).not.toBe(key(['linux/amd64'], '0'));
    expect(key([])).toContain('-host-');
  });

  test('no go.sum: no module cache, and the build key says so', () => {
    const plans = planCaches({ ...base, depsHash: undefined, targets: [] }, dirs);
    expect(plans.map((p) => p.kind)).toEqual(['build']);
    expect(plans[0].key).toContain('-nodeps-local');
  });
});

describeWith('go', hasCommand('go', ['version']), 'build cache trimming with the real go command', () => {
  const mod = tempDir('trim-mod');
  const gocache = tempDir('trim-gocache');
  writeFileSync(join(mod, 'go.mod'), 'module example.com/trim\n\ngo 1.22\n');
  writeFileSync(
    join(mod, 'main.go'),
    'package main\n\nimport (\n\t"fmt"\n\t"strings"\n)\n\nfunc main() { fmt.Println(strings.ToUpper("hi")) }\n',
  );
  const build = (goarch: string) =>
    runCommand('go', ['build', '-x', '-o', join(mod, `app-${goarch}`), '.'], {
      cwd: mod,
      env: { GOCACHE: gocache, GOOS: 'linux', GOARCH: goarch, CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false' },
    });
  const compiles = (stderr: string) => stderr.split('\n').filter((l) => /\/compile /.test(l)).length;

  test('entries the run did not use are deleted; what it used stays and still builds without compiling', async () => {
    expect(compiles((await build('amd64')).stderr)).toBeGreaterThan(0);
    expect(compiles((await build('arm64')).stderr)).toBeGreaterThan(0);
    const before = entryFiles(gocache).length;
    // As restored from a cache: every entry older than Go's one-hour refresh interval.
    ageAll(gocache, 3 * 3600_000);
    const startedAt = Date.now();
    // This run builds amd64 only; go refreshes the mtime of each entry it uses.
    expect(compiles((await build('amd64')).stderr)).toBe(0);

    const trim = trimBuildCache(gocache, startedAt);
    expect(trim.removed).toBeGreaterThan(0);
    expect(trim.kept + trim.removed).toBe(before);
    expect(entryFiles(gocache).length).toBe(trim.kept);
    // Kept entries are aged so the next run's use shows up again.
    for (const f of entryFiles(gocache))
      expect(statSync(join(gocache, f)).mtimeMs).toBeLessThan(startedAt - 3600_000);

    expect(compiles((await build('amd64')).stderr)).toBe(0);
    expect(compiles((await build('arm64')).stderr)).toBeGreaterThan(0);
  }, 300_000);

  test('archive round trip restores over existing files without `File exists` and refuses unsafe names', async () => {
    const c = await compression();
    const file = join(tempDir('arch'), 'c.tar');
    const size = await createArchive(gocache, file, { compression: c, exclude: ['trim.txt'] });
    expect(size).toBeGreaterThan(0);
    const out = tempDir('arch-out');
    await extractArchive(out, file, c);
    await extractArchive(out, file, c); // again, over the same files
    expect(entryFiles(out).sort()).toEqual(entryFiles(gocache).sort());
    expect(existsSync(join(out, 'trim.txt'))).toBe(false);

    // GNU tar strips `../` when creating, so the hostile archive is written with Python's tarfile.
    const evilTar = join(tempDir('evil-tar'), 'e.tar.gz');
    await runCommand('python3', [
      '-c',
      'import io,sys,tarfile\nt=tarfile.open(sys.argv[1],"w:gz")\ni=tarfile.TarInfo("../x")\ni.size=1\nt.addfile(i,io.BytesIO(b"x"))\nt.close()',
      evilTar,
    ]);
    await expect(extractArchive(tempDir('evil-out'), evilTar, 'gzip')).rejects.toThrow(
      /unsafe path `\.\.\/x`/,
    );
  }, 120_000);
});
