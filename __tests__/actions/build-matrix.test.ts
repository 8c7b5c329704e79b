import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { goShip, ROOT, tempDir, runAction } from '../helpers/cli.js';
import { testRepo } from '../helpers/git.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { freePort } from '../helpers/net.js';
import { runtimeToken, startArtifactService } from '../helpers/actions-artifacts.js';

const IDENTITY = {
  GIT_AUTHOR_NAME: 'Dev',
  GIT_AUTHOR_EMAIL: 'dev@example.com',
  GIT_COMMITTER_NAME: 'Dev',
  GIT_COMMITTER_EMAIL: 'dev@example.com',
  GIT_AUTHOR_DATE: '2026-11-01T10:00:00Z',
  GIT_COMMITTER_DATE: '2026-11-01T10:00:00Z',
};
const COMMIT_TIME = Date.parse('2026-11-01T10:00:00Z') / 1000;

/** A fixture copied into a fresh git repository with one commit (fixed dates) tagged `tag`. */
function gitCopy(fixture: string, tag = 'v1.2.3'): string {
  const { dir, git } = testRepo(join(tempDir('build'), 'src'), {
    from: fixture,
    files: { '.gitignore': '/dist/\n/shards/\n' },
    message: 'initial',
    env: IDENTITY,
  });
  git('tag', tag);
  return dir;
}

/** Another clone of `repo` in a different directory (different absolute paths, same commit). */
function cloneOf(repo: string): string {
  const dir = join(tempDir('build-clone'), 'elsewhere', 'src');
  execFileSync('git', ['clone', '-q', repo, dir]);
  return dir;
}

const buildMatrix = (dir: string, withs: string[]) =>
  runAction('build-matrix', { workspace: dir, with: withs });

const sh = (file: string, args: string[], cwd?: string) =>
  execFileSync(file, args, { cwd, encoding: 'utf8' });
const HELLO = join(ROOT, 'examples', 'hello-svc');
const MULTI = join(ROOT, '__tests__', 'fixtures', 'multibin');
const TARGETS = 'targets=linux/amd64,linux/arm64,darwin/arm64,windows/amd64';

describeWith(
  'go, git, tar and unzip',
  hasCommand('go', ['version']) && hasCommand('git') && hasCommand('tar') && hasCommand('unzip', ['-v']),
  'build-matrix',
  () => {
    const hello = gitCopy(HELLO);
    let single: Awaited<ReturnType<typeof buildMatrix>>;

    beforeAll(async () => {
      single = await buildMatrix(hello, [TARGETS]);
    }, 600_000);

    test('archives, checksums that sha256sum -c accepts, and binaries that go version -m describes', async () => {
      expect(single.code).toBe(0);
      expect(single.outputs.version).toBe('1.2.3');
      const dist = join(hello, 'dist');
      expect(readdirSync(dist).sort()).toEqual([
        'hello-svc_1.2.3_checksums.txt',
        'hello-svc_1.2.3_darwin_arm64.tar.gz',
        'hello-svc_1.2.3_linux_amd64.tar.gz',
        'hello-svc_1.2.3_linux_arm64.tar.gz',
        'hello-svc_1.2.3_windows_amd64.zip',
        'manifest.json',
      ]);
      expect(sh('sha256sum', ['-c', 'hello-svc_1.2.3_checksums.txt'], dist).match(/: OK$/gm)).toHaveLength(4);
      // Fixed owner, modes and times in the archives.
      const listing = sh('tar', ['-tvzf', 'hello-svc_1.2.3_linux_arm64.tar.gz', '--full-time'], dist);
      expect(listing).toContain('-rwxr-xr-x 0/0');
      expect(listing).toContain('2026-11-01 10:00:00 hello-svc');
      expect(sh('unzip', ['-l', 'hello-svc_1.2.3_windows_amd64.zip'], dist)).toContain('hello-svc.exe');
      const out = join(tempDir('extract'), 'x');
      for (const [target, archive, bin] of [
        ['linux/amd64', 'hello-svc_1.2.3_linux_amd64.tar.gz', 'hello-svc'],
        ['linux/arm64', 'hello-svc_1.2.3_linux_arm64.tar.gz', 'hello-svc'],
        ['darwin/arm64', 'hello-svc_1.2.3_darwin_arm64.tar.gz', 'hello-svc'],
        ['windows/amd64', 'hello-svc_1.2.3_windows_amd64.zip', 'hello-svc.exe'],
      ]) {
        const dir = join(out, target.replace('/', '_'));
        mkdirSync(dir, { recursive: true });
        if (archive.endsWith('.zip')) sh('unzip', ['-q', join(dist, archive), '-d', dir]);
        else sh('tar', ['-xzf', join(dist, archive), '-C', dir]);
        const info = sh('go', ['version', '-m', join(dir, bin)]);
        const [goos, goarch] = target.split('/');
        expect(info).toContain(`build\tGOOS=${goos}`);
        expect(info).toContain(`build\tGOARCH=${goarch}`);
        expect(info).toContain('build\t-trimpath=true');
        expect(info).toContain('build\tCGO_ENABLED=0');
        expect(info).toContain('path\texample.com/hello-svc');
      }
      // -trimpath keeps -ldflags out of the build info, so the injected values are checked by
      // running the linux/amd64 binary.
      const port = await freePort();
      const svc = spawn(join(out, 'linux_amd64', 'hello-svc'), ['-addr', `127.0.0.1:${port}`]);
      try {
        let body = '';
        for (let i = 0; i < 50 && !body; i++) {
          body = await fetch(`http://127.0.0.1:${port}/version`)
            .then((r) => r.text())
            .catch(() => '');
          if (!body) await new Promise((r) => setTimeout(r, 100));
        }
        const commit = sh('git', ['rev-parse', 'HEAD'], hello).trim();
        expect(JSON.parse(body)).toEqual({ version: '1.2.3', commit, date: '2026-11-01T10:00:00Z' });
      } finally {
        svc.kill('SIGTERM');
      }
      expect(single.summary).toContain('| linux/arm64 | hello-svc |');
      expect(single.summary).toContain('xychart-beta');
    }, 120_000);

    test('the same commit built in another directory gives byte-identical archives; verify-reproducible agrees', async () => {
      const other = cloneOf(hello);
      const again = await buildMatrix(other, [TARGETS, 'verify-reproducible=true']);
      expect(again.code).toBe(0);
      expect(again.stderr).toMatch(/verify-reproducible: identical/);
      expect(readFileSync(join(other, 'dist', 'hello-svc_1.2.3_checksums.txt'), 'utf8')).toBe(
        readFileSync(join(hello, 'dist', 'hello-svc_1.2.3_checksums.txt'), 'utf8'),
      );
      const manifest = JSON.parse(readFileSync(join(other, 'dist', 'manifest.json'), 'utf8'));
      expect(manifest.commitTime).toBe(COMMIT_TIME);
    }, 600_000);

    test("plan -> 3 shards built in separate clones -> merge gives the single build's checksums file", async () => {
      const planned = await buildMatrix(hello, [TARGETS, 'mode=plan', 'shards=3']);
      expect(planned.code).toBe(0);
      const matrix = JSON.parse(planned.outputs.matrix) as { include: { shard: string; targets: string }[] };
      expect(matrix.include).toHaveLength(3);
      expect(matrix.include.flatMap((s) => s.targets.split(',')).sort()).toEqual([
        'darwin/arm64',
        'linux/amd64',
        'linux/arm64',
        'windows/amd64',
      ]);
      const merger = cloneOf(hello);
      for (const s of matrix.include) {
        const shardDir = cloneOf(hello);
        const r = await buildMatrix(shardDir, [`targets=${s.targets}`, `shard=${s.shard}`]);
        expect(r.code).toBe(0);
        // What actions/upload-artifact + download-artifact would carry: the shard's output-dir.
        cpSync(join(shardDir, 'dist'), join(merger, 'shards', `build-${s.shard}`), { recursive: true });
      }
      const merged = await buildMatrix(merger, ['mode=merge', `matrix=${planned.outputs.matrix}`]);
      expect(merged.code).toBe(0);
      expect(readFileSync(join(merger, 'dist', 'hello-svc_1.2.3_checksums.txt'), 'utf8')).toBe(
        readFileSync(join(hello, 'dist', 'hello-svc_1.2.3_checksums.txt'), 'utf8'),
      );
      expect(
        sh('sha256sum', ['-c', 'hello-svc_1.2.3_checksums.txt'], join(merger, 'dist')).match(/: OK$/gm),
      ).toHaveLength(4);

      // A tampered shard and a missing shard are refused; nothing is written.
      const shard1 = join(merger, 'shards', 'build-1');
      const archive = readdirSync(shard1).find((f) => /\.(tar\.gz|zip)$/.test(f))!;
      const bytes = readFileSync(join(shard1, archive));
      bytes[bytes.length - 30] ^= 0xff;
      writeFileSync(join(shard1, archive), bytes);
      const tampered = await buildMatrix(merger, ['mode=merge', 'output-dir=merged2']);
      expect(tampered.code).toBe(1);
      expect(tampered.stderr).toContain(`Shard 1: ${archive} does not match its manifest`);
      const missing = await buildMatrix(merger, [
        'mode=merge',
        'merge-from=shards/build-2',
        `matrix=${planned.outputs.matrix}`,
        'output-dir=merged3',
      ]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/The merge is missing .*\(shard 1\)/);
      expect(readdirSync(merger)).not.toContain('merged2');
      expect(readdirSync(merger)).not.toContain('merged3');
    }, 600_000);

    // Untrusted input (#29 item 1): a shard's manifest is another job's data. Its paths and names
    // never lead outside the shard or the output folder, and a malformed field is a clear error.
    test('a shard manifest never steers the merge outside its folders: traversal, a planted project, null fields', async () => {
      const merger = cloneOf(hello);
      const outside = tempDir('merge-outside');
      writeFileSync(join(outside, 'secret.txt'), 'keep');
      const shard = join(merger, 'shards', 'build-1');
      cpSync(join(hello, 'dist'), shard, { recursive: true });
      const original = JSON.parse(readFileSync(join(shard, 'manifest.json'), 'utf8'));
      // A decoy with the name the traversal ends in, so a check by basename alone would pass.
      writeFileSync(join(shard, 'secret.txt'), 'decoy');
      const decoy = {
        ...original.artifacts[0],
        path: relative(shard, join(outside, 'secret.txt')),
        size: 5,
        sha256: createHash('sha256').update('decoy').digest('hex'),
      };
      const cases: [Record<string, unknown>, RegExp][] = [
        [
          { artifacts: [...original.artifacts, decoy] },
          /artifacts\[\d\]\.path is "\.\.\/.*secret\.txt"; it must be a file name/,
        ],
        [
          { project: relative(join(merger, 'dist'), join(outside, 'pwn')) },
          /`project` is "\.\.\/.*pwn"; it must be a file name/,
        ],
        [
          { artifacts: [{ ...original.artifacts[0], path: null }] },
          /artifacts\[0\]\.path is null; it must be a file name/,
        ],
        [{ targets: null }, /`targets` is null; it must be a list of target names/],
      ];
      for (const [i, [change, message]] of cases.entries()) {
        writeFileSync(join(shard, 'manifest.json'), JSON.stringify({ ...original, ...change }));
        const r = await buildMatrix(merger, ['mode=merge', `output-dir=merged-${i}`]);
        expect({ i, code: r.code, bug: /go-ship bug/.test(r.stderr) }).toEqual({ i, code: 1, bug: false });
        expect(r.stderr).toMatch(message);
        expect(readdirSync(merger)).not.toContain(`merged-${i}`);
      }
      expect(readdirSync(outside)).toEqual(['secret.txt']);
      expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('keep');
    }, 600_000);

    test("merge-artifacts: the shards' uploads come back through @actions/artifact, digest-checked, and merge to the single build's checksums", async () => {
      const service = await startArtifactService();
      const run = (dir: string, job: string, withs: string[]) =>
        goShip([
          'build-matrix',
          '--workspace',
          dir,
          '--json',
          '--env',
          `ACTIONS_RESULTS_URL=${service.url}/`,
          '--env',
          `ACTIONS_RUNTIME_TOKEN=${runtimeToken('run-7', job)}`,
          ...withs.flatMap((w) => ['--with', w]),
        ]);
      try {
        for (const [shard, targets] of [
          ['1', 'linux/amd64,linux/arm64'],
          ['2', 'darwin/arm64,windows/amd64'],
        ]) {
          const r = await run(cloneOf(hello), `job-${shard}`, [
            `targets=${targets}`,
            `shard=${shard}`,
            'upload-artifact=true',
          ]);
          expect(r.code).toBe(0);
        }
        const merger = cloneOf(hello);
        const merged = await run(merger, 'job-3', ['mode=merge', 'merge-artifacts=go-ship-build-*']);
        expect(merged.stderr).toContain('go-ship-build-1 (id 1)');
        expect(merged.stderr).toContain('go-ship-build-2 (id 2)');
        expect(merged.code).toBe(0);
        expect(readFileSync(join(merger, 'dist', 'hello-svc_1.2.3_checksums.txt'), 'utf8')).toBe(
          readFileSync(join(hello, 'dist', 'hello-svc_1.2.3_checksums.txt'), 'utf8'),
        );
        expect(service.calls.filter((c) => c.method === 'GetSignedArtifactURL')).toHaveLength(2);

        // An artifact changed in storage after its upload is refused by its recorded digest.
        const other = readFileSync(join(merger, 'dist', 'hello-svc_1.2.3_checksums.txt'));
        await service.storage.write('artifacts', '0.zip', other);
        const tampered = await run(cloneOf(hello), 'job-4', [
          'mode=merge',
          'merge-artifacts=go-ship-build-*',
        ]);
        expect(tampered.code).toBe(1);
        console.log('TAMPERED', tampered.stderr.slice(-1500));
        expect(tampered.stderr).toMatch(/go-ship-build-1|does not match the digest/);

        // Both sources at once is refused by name.
        const both = await run(cloneOf(hello), 'job-5', [
          'mode=merge',
          'merge-artifacts=x-*',
          'merge-from=shards/*',
        ]);
        expect(both.code).toBe(1);
        expect(both.stderr).toContain('Give one source of shards');
      } finally {
        await service.close();
      }
    }, 600_000);
  },
);

describeWith(
  'go and git',
  hasCommand('go', ['version']) && hasCommand('git'),
  'build-matrix on a multi-binary module',
  () => {
    const multi = gitCopy(MULTI, 'v0.4.0');

    test('two binaries per archive with README and LICENSE; template fields per target', async () => {
      // Field report: {{.ShortCommit}} was always 7 characters where git (and GoReleaser) gave 8. A
      // repository with 20,000 objects makes git's own abbreviation 8 characters long.
      const blobs = Array.from(
        { length: 20_000 },
        (_, i) => `blob\ndata ${`b${i}\n`.length}\nb${i}\n\n`,
      ).join('');
      execFileSync('git', ['fast-import', '--quiet'], { cwd: multi, input: blobs });
      const short = sh('git', ['rev-parse', '--short', 'HEAD'], multi).trim();
      expect(short).toHaveLength(8);
      const r = await buildMatrix(multi, [
        'targets=linux/amd64,windows/amd64',
        'packages=./cmd/alpha\n./cmd/beta',
        'ldflags=-X main.version={{.Version}} -X main.commit={{.ShortCommit}} -X main.target={{.Target}}',
      ]);
      expect(r.code).toBe(0);
      const dist = join(multi, 'dist');
      expect(
        sh('tar', ['-tzf', 'multibin_0.4.0_linux_amd64.tar.gz'], dist).split('\n').filter(Boolean),
      ).toEqual(['LICENSE', 'README.md', 'alpha', 'beta']);
      expect(
        sh('unzip', ['-Z1', 'multibin_0.4.0_windows_amd64.zip'], dist).split('\n').filter(Boolean),
      ).toEqual(['LICENSE', 'README.md', 'alpha.exe', 'beta.exe']);
      // Binaries 0755, documents 0644, owner 0:0, every mtime the commit time.
      const listing = sh('tar', ['-tvzf', 'multibin_0.4.0_linux_amd64.tar.gz', '--full-time'], dist);
      expect(listing).toMatch(/^-rw-r--r-- 0\/0 .* 2026-11-01 10:00:00 README\.md$/m);
      expect(listing).toMatch(/^-rwxr-xr-x 0\/0 .* 2026-11-01 10:00:00 alpha$/m);
      const x = tempDir('multi-x');
      sh('tar', ['-xzf', join(dist, 'multibin_0.4.0_linux_amd64.tar.gz'), '-C', x]);
      expect(sh(join(x, 'beta'), [])).toBe(
        `hello from beta\nversion=0.4.0 commit=${short} target=linux/amd64 goos=linux goarch=amd64\n`,
      );
    }, 600_000);

    // Field report: archive: none wrote 0644 binaries ("Permission denied"); merge-from only looked
    // inside the workspace and sent the user to download the artifacts they had downloaded.
    test('archive: none writes runnable binaries; a merge of shards outside the workspace keeps them runnable', async () => {
      const r = await buildMatrix(multi, [
        'targets=linux/amd64,linux/arm64',
        'packages=./cmd/beta',
        'archive=none',
        'output-dir=out-none',
      ]);
      expect(r.code).toBe(0);
      const bin = join(multi, 'out-none', 'beta_linux_amd64');
      expect(statSync(bin).mode & 0o777).toBe(0o755);
      expect(sh(bin, [])).toContain('hello from beta');

      // Shards downloaded next to the checkout, as actions/download-artifact leaves them: modes lost.
      const outside = tempDir('shards-outside');
      for (const [shard, target] of [
        ['1', 'linux/amd64'],
        ['2', 'linux/arm64'],
      ]) {
        const out = `out-shard-${shard}`;
        const b = await buildMatrix(multi, [
          `targets=${target}`,
          'packages=./cmd/beta',
          'archive=none',
          `shard=${shard}`,
          `output-dir=${out}`,
        ]);
        expect(b.code).toBe(0);
        cpSync(join(multi, out), join(outside, 'shards', shard), { recursive: true });
        for (const f of readdirSync(join(outside, 'shards', shard)))
          chmodSync(join(outside, 'shards', shard, f), 0o644);
      }
      const abs = await buildMatrix(multi, [
        'mode=merge',
        `merge-from=${join(outside, 'shards')}/*`,
        'output-dir=out-merged',
      ]);
      expect(abs.code).toBe(0);
      const merged = join(multi, 'out-merged', 'beta_linux_amd64');
      expect(statSync(merged).mode & 0o777).toBe(0o755);
      expect(sh(merged, [])).toContain('hello from beta');
      expect(statSync(join(multi, 'out-merged', 'manifest.json')).mode & 0o111).toBe(0);

      // The same shards by a `../` path from the workspace.
      const rel = relative(multi, join(outside, 'shards'));
      expect(rel.startsWith('..')).toBe(true);
      const up = await buildMatrix(multi, ['mode=merge', `merge-from=${rel}/*`, 'output-dir=out-merged-rel']);
      expect(up.code).toBe(0);
      expect(readdirSync(join(multi, 'out-merged-rel')).sort()).toEqual(
        readdirSync(join(multi, 'out-merged')).sort(),
      );

      // A path that does not exist is named as such, resolved.
      const none = await buildMatrix(multi, ['mode=merge', 'merge-from=../nowhere/*', 'output-dir=out-x']);
      expect(none.code).toBe(1);
      expect(none.stderr).toContain(`${join(dirname(multi), 'nowhere')} does not exist`);
    }, 600_000);

    test('upload-artifact: output-dir goes to the artifact service as one zip, hashed as uploaded', async () => {
      const service = await startArtifactService();
      try {
        const r = await goShip([
          'build-matrix',
          '--workspace',
          multi,
          '--json',
          '--env',
          `ACTIONS_RESULTS_URL=${service.url}/`,
          '--env',
          `ACTIONS_RUNTIME_TOKEN=${runtimeToken('run-9', 'job-3')}`,
          ...[
            'targets=linux/amd64',
            'packages=./cmd/beta',
            'shard=2',
            'upload-artifact=true',
            'output-dir=out-up',
          ].flatMap((w) => ['--with', w]),
        ]);
        expect(r.code).toBe(0);
        const [a] = service.artifacts;
        expect(a).toMatchObject({ name: 'go-ship-build-2', run: 'run-9', job: 'job-3', finalized: true });
        expect(a.hash).toBe(`sha256:${createHash('sha256').update(a.blob!).digest('hex')}`);
        expect(Number(a.size)).toBe(a.blob!.length);
        const zipFile = join(tempDir('artifact'), 'a.zip');
        writeFileSync(zipFile, a.blob!);
        expect(sh('unzip', ['-Z1', zipFile]).split('\n').filter(Boolean).sort()).toEqual(
          readdirSync(join(multi, 'out-up')).sort(),
        );
        expect(JSON.parse(r.stdout).outputs['artifact-id']).toBe('1');
      } finally {
        await service.close();
      }
    }, 300_000);

    test('a compile error in one target: the others finish, the failure names the target, nothing is written', async () => {
      const r = await buildMatrix(multi, [
        'targets=linux/amd64,windows/amd64',
        'packages=./cmd/alpha',
        'tags=broken',
        'output-dir=out-broken',
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/\[\d\/2\] ✓ linux\/amd64 alpha/);
      expect(r.stderr).toContain('1 of 2 builds failed: windows/amd64 (alpha). Nothing was written to');
      expect(r.stderr).toContain('cannot use "not an int" (untyped string constant) as int value');
      expect(readdirSync(multi)).not.toContain('out-broken');
    }, 600_000);

    test.each([
      [['targets=linux/amd65'], 'Input `targets` got `linux/amd65`', 'Did you mean `linux/amd64`'],
      [
        ['ldflags=-X main.version={{.Versoin}}'],
        'Input `ldflags` got `-X main.version={{.Versoin}}`',
        '`.Versoin` is not a template field',
      ],
      [
        ['packages=./lib'],
        'example.com/multibin/lib is package lib, not a main package',
        'List the command packages',
      ],
      [['mode=merge'], 'Input `merge-from` got `shards/*`', "download every shard's artifact there first"],
      [
        ['packages=./cmd/alpha\n./cmd/beta', 'binary-name=tool'],
        'Input `binary-name` is `tool`, but `packages` has 2 main packages',
        'Leave binary-name empty',
      ],
    ])(
      'bad input %j',
      async (withs, first, second) => {
        const r = await buildMatrix(multi, ['targets=linux/amd64', ...withs]);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(first);
        expect(r.stderr).toContain(second);
      },
      120_000,
    );

    test('a cold build cache: a progress line at least every few seconds while the first targets compile', async () => {
      const dir = gitCopy(HELLO);
      // A Go build cache of its own: every target compiles the standard library first (tens of seconds).
      const gocache = tempDir('build-cold-cache');
      const arrivals: { at: number; line: string }[] = [];
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            join(ROOT, 'bin', 'go-ship.js'),
            'build-matrix',
            '--workspace',
            dir,
            '--with',
            'targets=linux/arm64,windows/arm64',
          ],
          { env: { ...process.env, NO_COLOR: '1', GOCACHE: gocache } },
        );
        let pending = '';
        const take = (b: Buffer) => {
          pending += b.toString('utf8');
          const lines = pending.split('\n');
          pending = lines.pop()!;
          for (const line of lines) arrivals.push({ at: Date.now(), line });
        };
        child.stdout.on('data', take);
        child.stderr.on('data', take);
        child.on('error', reject);
        child.on('close', (c) => resolve(c ?? -1));
      });
      expect(code).toBe(0);
      const building = arrivals.findIndex((a) => a.line.startsWith('Building hello-svc'));
      const done = arrivals.findIndex((a) => a.line.startsWith('[2/2]'));
      expect(building).toBeGreaterThanOrEqual(0);
      expect(done).toBeGreaterThan(building);
      const during = arrivals.slice(building, done + 1);
      // The build itself took long enough for the check to mean something.
      expect(during.at(-1)!.at - during[0].at).toBeGreaterThan(6_000);
      // The heartbeat's own clock, not this test's: each line reports more time than the one before
      // (a gap between lines on a loaded machine says nothing about go-ship).
      const soFar = during
        .map((a) => /built, (\d+\.\d)s so far/.exec(a.line)?.[1])
        .filter((x): x is string => x !== undefined)
        .map(Number);
      expect(soFar.length).toBeGreaterThan(0);
      expect(soFar).toEqual([...soFar].sort((a, b) => a - b));
      expect(during.map((a) => a.line)).toContainEqual(
        expect.stringMatching(
          /^ {2}… 0 of 2 built, \d+\.\ds so far \(a cold build cache compiles the standard library for each target first\)$/,
        ),
      );
    }, 600_000);

    test('an output directory that cannot be written is refused before building', async () => {
      if (process.getuid?.() === 0) {
        // root writes anywhere; a path under a file cannot be created by anyone.
        writeFileSync(join(multi, 'a-file'), 'x');
        const r = await buildMatrix(multi, [
          'targets=linux/amd64',
          'packages=./cmd/beta',
          'output-dir=a-file/out',
        ]);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain('a-file is a file');
        return;
      }
      const ro = join(multi, 'ro');
      mkdirSync(ro);
      chmodSync(ro, 0o555);
      const r = await buildMatrix(multi, ['targets=linux/amd64', 'packages=./cmd/beta', 'output-dir=ro/out']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('is not writable');
    }, 120_000);
  },
);
