import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { compression, createArchive } from '../../src/archive/system-tar.js';
import { join, relative } from 'node:path';
import { runCommand } from '../../src/runner/command.js';
import { goShip, tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { startActionsCacheService } from '../helpers/actions-cache.js';
import { startMirror } from '../helpers/mirror.js';
import type { LoopbackServer } from '../helpers/server.js';
import { TEST_GO, toolchainFixture } from '../helpers/toolchain.js';

const SEMVER = TEST_GO.slice(2);

/**
 * setup-go-cross's caches end to end through the bundle: the CLI runs main, then a build (the
 * command after `--`, as a later workflow step), then post, against a loopback Actions cache
 * service. Every run starts with empty GOCACHE and GOMODCACHE, as a fresh runner does.
 * (Without -trimpath, Go's cache keys include source paths, so the paths must stay put, as
 * they do on a runner image.)
 */
describeWith('go (and its module proxy)', hasCommand('go', ['version']), 'setup-go-cross caches', () => {
  let mirror: LoopbackServer;
  let service: Awaited<ReturnType<typeof startActionsCacheService>>;
  const toolCache = tempDir('cache-tc');
  const ws = tempDir('cache-ws');

  beforeAll(async () => {
    const fx = await toolchainFixture();
    mirror = await startMirror(fx);
    service = await startActionsCacheService();
    // A module with one real dependency from the proxy, so there is a module cache to keep.
    writeFileSync(
      join(ws, 'go.mod'),
      'module example.com/cached\n\ngo 1.22\n\nrequire github.com/google/uuid v1.6.0\n',
    );
    writeFileSync(
      join(ws, 'main.go'),
      'package main\n\nimport (\n\t"fmt"\n\n\t"github.com/google/uuid"\n)\n\nfunc main() { fmt.Println(uuid.NewString()) }\n',
    );
    const modcache = tempDir('cache-tidy');
    await runCommand('go', ['mod', 'tidy'], { cwd: ws, env: { GOMODCACHE: modcache, GOTOOLCHAIN: 'local' } });
    await runCommand('chmod', ['-R', 'u+w', modcache]);
  }, 600_000);
  afterAll(async () => {
    await mirror?.close();
    await service?.close();
  });

  // One home, emptied before each run: a fresh runner has the same paths and empty caches.
  const home = tempDir('cache-home');
  async function ciRun(
    sha: string,
    buildFlags: string[] = [],
    env: Record<string, string> = {},
    extra: string[] = [],
  ) {
    await runCommand('chmod', ['-R', 'u+w', home]);
    rmSync(home, { recursive: true, force: true });
    mkdirSync(home);
    const run = await goShip(
      [
        'setup-go-cross',
        '--json',
        '--workspace',
        ws,
        '--with',
        `go-version=${SEMVER}`,
        '--with',
        `go-download-base-url=${mirror.url}/dl`,
        '--with',
        'targets=linux/amd64',
        '--env',
        `GITHUB_SHA=${sha}`,
        ...extra,
        '--',
        'go',
        'build',
        '-x',
        ...buildFlags,
        '-o',
        join(home, 'app'),
        '.',
      ],
      {
        env: {
          RUNNER_TOOL_CACHE: toolCache,
          ACTIONS_RESULTS_URL: `${service.url}/`,
          ACTIONS_RUNTIME_TOKEN: 'runtime-token-for-test',
          GOCACHE: join(home, 'gocache'),
          GOMODCACHE: join(home, 'gomodcache'),
          GOTOOLCHAIN: 'local',
          GOFLAGS: '-buildvcs=false',
          ...env,
        },
      },
    );
    const result = JSON.parse(run.stdout);
    const compiles = run.stderr.split('\n').filter((l) => /\/compile /.test(l)).length;
    return { ...run, result, compiles, log: run.stderr };
  }

  let first: Awaited<ReturnType<typeof ciRun>>;
  let buildKey: string;

  test('a cold run misses, builds, and the post step saves both caches', async () => {
    first = await ciRun('a'.repeat(40));
    expect(first.code).toBe(0);
    expect(first.result.phases.map((p: { phase: string }) => p.phase)).toEqual(['main', 'then', 'post']);
    expect(first.result.outputs).toMatchObject({ 'cache-hit': 'false', 'build-cache-key': '' });
    expect(first.compiles).toBeGreaterThan(0);
    const saved = service.entries.filter((e) => e.finalized).map((e) => e.key);
    expect(saved).toHaveLength(2);
    expect(saved[0]).toMatch(/^go-ship-mod-linux-amd64-[0-9a-f]{16}$/);
    expect(saved[1]).toMatch(
      new RegExp(
        `^go-ship-build-linux-amd64-go${SEMVER.replace(/\./g, '\\.')}-[0-9a-f]{8}-cgodefault-[0-9a-f]{16}-aaaaaaaaaaaa$`,
      ),
    );
    buildKey = saved[1];
    expect(first.log).toMatch(/modules cache go-ship-mod-\S+: saved \(\d/);
    expect(first.result.summary).toContain('setup-go-cross: caches saved');
    expect(first.log).not.toContain('runtime-token-for-test');
  }, 600_000);

  test('a re-run of the commit restores both by exact key: no downloads (GOPROXY=off), no compiles, nothing saved', async () => {
    const again = await ciRun('a'.repeat(40), [], {
      GOPROXY: 'off',
      GOFLAGS: '-buildvcs=false -mod=readonly',
    });
    expect(again.code).toBe(0);
    expect(again.result.outputs).toMatchObject({ 'cache-hit': 'true', 'build-cache-key': buildKey });
    expect(again.compiles).toBe(0);
    expect(again.log).toContain('restored from this exact key; entries are immutable');
    expect(service.entries.filter((e) => e.finalized)).toHaveLength(2);
    expect(again.result.summary).toMatch(/\| build \| `go-ship-build-\S+` \| exact key \|/);
  }, 600_000);

  test('the next commit restores through a restore key; once steady, an unchanged cache is not saved again', async () => {
    const next = await ciRun('b'.repeat(40));
    expect(next.code).toBe(0);
    expect(next.result.outputs['build-cache-key']).toBe(buildKey);
    expect(next.compiles).toBe(0);
    // A fully cached build does not read every entry the cold build wrote (file lists used only
    // when compiling), so the first warm run trims those and saves the steady state...
    expect(next.log).toMatch(/build cache \S+bbbbbbbbbbbb: saved .*; trimmed \d+ unused entries/);
    // ...which the run after restores, uses whole, and does not save again.
    const steady = await ciRun('f'.repeat(40));
    expect(steady.result.outputs['build-cache-key']).toMatch(/bbbbbbbbbbbb$/);
    expect(steady.compiles).toBe(0);
    expect(steady.log).toMatch(
      /build cache \S+ffffffffffff: unchanged since it was restored from \S+bbbbbbbbbbbb/,
    );
    expect(service.entries.filter((e) => e.finalized)).toHaveLength(3);
  }, 600_000);

  test('entries the run did not use are trimmed before saving, so the cache does not grow', async () => {
    // -trimpath changes every package's action ID: this run uses none of the restored entries.
    const changed = await ciRun('c'.repeat(40), ['-trimpath']);
    expect(changed.code).toBe(0);
    expect(changed.compiles).toBeGreaterThan(0);
    const trimmed =
      /build cache \S+cccccccccccc: saved \(([\d.]+ [kM]?B) in [^)]+\); trimmed (\d+) unused entries \(([^)]+)\), kept (\d+)/.exec(
        changed.log,
      );
    expect(trimmed).not.toBeNull();
    expect(Number(trimmed![2])).toBeGreaterThan(0);

    // The following commit gets that newest entry: the -trimpath build is cached, the old one is gone.
    const after = await ciRun('d'.repeat(40), ['-trimpath']);
    expect(after.result.outputs['build-cache-key']).toMatch(/cccccccccccc$/);
    expect(after.compiles).toBe(0);
    const old = await ciRun('e'.repeat(40));
    expect(old.compiles).toBeGreaterThan(0);
  }, 900_000);

  // Field report: with the commit in the build cache key, every run on every branch saved an entry
  // and the repository's cache budget evicted the default branch's. Only the default branch saves.
  test('cache-save default-branch: pull requests and other branches restore and save nothing; the default branch saves', async () => {
    const event = join(tempDir('cache-event'), 'event.json');
    writeFileSync(event, JSON.stringify({ repository: { default_branch: 'main' } }));
    const on = (name: string, ref: string, more: string[] = []) => [
      '--env',
      `GITHUB_EVENT_NAME=${name}`,
      '--env',
      `GITHUB_REF=${ref}`,
      '--env',
      `GITHUB_EVENT_PATH=${event}`,
      ...more,
    ];
    const entries = () => service.entries.filter((e) => e.finalized).length;
    const before = entries();
    const pr = await ciRun('1'.repeat(40), [], {}, on('pull_request', 'refs/pull/7/merge'));
    expect(pr.code).toBe(0);
    expect(pr.result.outputs['build-cache-key']).not.toBe(''); // restored from the default branch's
    expect(pr.log).toMatch(
      /build cache \S+111111111111: not saved: cache-save: default-branch, and this run \(pull_request on refs\/pull\/7\/merge\) is not on main/,
    );
    const branch = await ciRun(
      '2'.repeat(40),
      ['-trimpath', '-ldflags=-s'],
      {},
      on('push', 'refs/heads/feature/x'),
    );
    expect(branch.compiles).toBeGreaterThan(0); // its build changed the cache, and still nothing is saved
    expect(entries()).toBe(before);
    const main = await ciRun('3'.repeat(40), ['-trimpath', '-ldflags=-s'], {}, on('push', 'refs/heads/main'));
    expect(main.log).toMatch(/build cache \S+333333333333: saved/);
    expect(entries()).toBe(before + 1);
    const always = await ciRun(
      '4'.repeat(40),
      ['-ldflags=-w'],
      {},
      on('pull_request', 'refs/pull/8/merge', ['--with', 'cache-save=always']),
    );
    expect(always.log).toMatch(/build cache \S+444444444444: saved/);
    expect(entries()).toBe(before + 2);
  }, 900_000);

  // Untrusted input: a crafted entry with `./cache -> /elsewhere` left the link in GOMODCACHE, and
  // the next `go mod download` wrote through it. Any branch's run can write a cache entry. Round two
  // (#29): a chain, `mod/up -> ..` then `mod/escape -> up/../<elsewhere>`, passed a check that
  // resolved each target as text.
  test.each([
    [
      'an absolute link',
      (crafted: string, elsewhere: string) => {
        symlinkSync(elsewhere, join(crafted, 'cache'));
        return /holds a link `cache` -> `[^`]+` that points outside the cache/;
      },
    ],
    [
      'a chain of links',
      (crafted: string, elsewhere: string) => {
        mkdirSync(join(crafted, 'mod'));
        symlinkSync('..', join(crafted, 'mod', 'up'));
        // From the restored folder: `up` is the folder itself, `up/..` the folder above it.
        const climb = relative(home, elsewhere);
        symlinkSync(`up/../${climb}`, join(crafted, 'mod', 'escape'));
        return /holds a link `mod\/escape` -> `up\/\.\.\/[^`]+` that points outside the cache/;
      },
    ],
  ])(
    'a poisoned modules cache entry (%s) is refused whole: no link lands, nothing is written through it',
    async (_name, plant) => {
      const crafted = tempDir('cache-crafted');
      const elsewhere = tempDir('cache-elsewhere');
      mkdirSync(join(crafted, 'github.com'), { recursive: true });
      writeFileSync(join(crafted, 'github.com', 'planted.txt'), 'x');
      const why = plant(crafted, elsewhere);
      const file = join(tempDir('cache-crafted-tar'), 'entry.tar');
      await createArchive(crafted, file, { compression: await compression() });
      const poisoned = service.entries.filter((e) => e.finalized && e.key.startsWith('go-ship-mod-'));
      expect(poisoned.length).toBeGreaterThan(0);
      for (const e of poisoned) await service.storage.write('cache', e.blob, readFileSync(file));
      const r = await ciRun('a'.repeat(40));
      expect(r.code).toBe(0);
      expect(r.log).toMatch(/The modules cache was not restored: The cache archive \S+ /);
      expect(r.log).toMatch(why);
      const modcache = join(home, 'gomodcache');
      expect(existsSync(join(modcache, 'github.com', 'planted.txt'))).toBe(false);
      for (const link of ['cache', 'mod'])
        expect(lstatSync(join(modcache, link), { throwIfNoEntry: false })?.isSymbolicLink() ?? false).toBe(
          false,
        );
      expect(existsSync(join(modcache, 'mod', 'escape'))).toBe(false);
      expect(readdirSync(elsewhere)).toEqual([]);
    },
    600_000,
  );

  test('a cache service failure is a warning; the step and the build still succeed', async () => {
    const broken = await startActionsCacheService({ fail: 'GetCacheEntryDownloadURL' });
    try {
      const home = tempDir('cache-broken');
      mkdirSync(home, { recursive: true });
      const r = await goShip(
        ['setup-go-cross', '--workspace', ws, '--with', `go-version=${SEMVER}`, '--', 'go', 'version'],
        {
          env: {
            RUNNER_TOOL_CACHE: toolCache,
            ACTIONS_RESULTS_URL: broken.url,
            ACTIONS_RUNTIME_TOKEN: 't0ken-xyz',
            GOCACHE: join(home, 'c'),
            GOMODCACHE: join(home, 'm'),
          },
        },
      );
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(
        'The modules cache was not restored: cache service GetCacheEntryDownloadURL answered 500: cache backend unavailable',
      );
      expect(r.stdout).toContain(`go version ${TEST_GO} linux/amd64`);
    } finally {
      await broken.close();
    }
  }, 600_000);

  test('cache-dependency-path that matches nothing is a clear input error', async () => {
    const r = await goShip(
      [
        'setup-go-cross',
        '--workspace',
        ws,
        '--with',
        `go-version=${SEMVER}`,
        '--with',
        'cache-dependency-path=services/*/go.sum',
      ],
      { env: { RUNNER_TOOL_CACHE: toolCache, GO_SHIP_CACHE_DIR: tempDir('cache-dir') } },
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `Input \`cache-dependency-path\` got \`services/*/go.sum\`; no file under ${ws} matches. It accepts globs relative to the workspace`,
    );
  }, 600_000);
});
