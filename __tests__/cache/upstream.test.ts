import * as cache from '@actions/cache';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { extractArchive } from '../../src/archive/system-tar.js';
import { ActionsCacheStore, cacheVersion } from '../../src/cache/store.js';
import { startActionsCacheService } from '../helpers/actions-cache.js';
import { hasAzurite } from '../helpers/azurite.js';
import { tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { muteStdout } from '../helpers/quiet.js';

/**
 * GitHub's own cache client (@actions/cache) against the tests' cache service and a real blob store
 * (azurite): the stand-in go-ship's client is tested against answers GitHub's client the way the
 * real service does, so the two are not checked only against each other's reading of the protocol.
 * The last test is why go-ship keeps its own restore: the package's only restore entry point
 * extracts the downloaded archive itself, with `tar -P`, before anything can check it.
 */
describeWith(
  'azurite, zstd and tar',
  hasAzurite() && hasCommand('zstd') && hasCommand('tar'),
  "@actions/cache against the tests' cache service",
  () => {
    let service: Awaited<ReturnType<typeof startActionsCacheService>>;
    let ws: string;
    const saved = { ...process.env };
    beforeAll(async () => {
      service = await startActionsCacheService();
    }, 60_000);
    beforeEach(() => {
      ws = join(tempDir('upstream'), 'ws');
      mkdirSync(ws, { recursive: true });
      Object.assign(process.env, {
        ACTIONS_RESULTS_URL: `${service.url}/`,
        ACTIONS_RUNTIME_TOKEN: 'runtime-token',
        ACTIONS_CACHE_SERVICE_V2: 'true',
        GITHUB_WORKSPACE: ws,
        RUNNER_TEMP: tempDir('upstream-temp'),
      });
    });
    // @actions/cache reports its progress as ::debug:: lines (and go-ship masks tokens) on stdout.
    let unmute = () => {};
    beforeAll(() => {
      unmute = muteStdout();
    });
    afterAll(async () => {
      unmute();
      process.env = saved;
      await service?.close();
    });

    test('saveCache and restoreCache round-trip through the stand-in service and azurite', async () => {
      mkdirSync(join(ws, 'data'));
      writeFileSync(join(ws, 'data', 'a.txt'), 'cached bytes');
      expect(await cache.saveCache([join(ws, 'data')], 'upstream-linux-1')).toBeGreaterThan(0);
      rmSync(join(ws, 'data'), { recursive: true });
      expect(await cache.restoreCache([join(ws, 'data')], 'upstream-linux-2', ['upstream-linux-'])).toBe(
        'upstream-linux-1',
      );
      expect(readFileSync(join(ws, 'data', 'a.txt'), 'utf8')).toBe('cached bytes');
      expect(service.calls.slice(-3).map((c) => c.method)).toEqual([
        'CreateCacheEntry',
        'FinalizeCacheEntryUpload',
        'GetCacheEntryDownloadURL',
      ]);
      expect(service.calls.at(-1)!.body).toMatchObject({
        key: 'upstream-linux-2',
        restore_keys: ['upstream-linux-'],
      });
    }, 60_000);

    test("go-ship's key and version are GitHub's: its entry is what @actions/cache looks up for the same paths", async () => {
      const file = join(tempDir('upstream-gs'), 'entry.tar');
      writeFileSync(file, 'go-ship entry');
      // The package names its zstd method `zstd-without-long`; go-ship's archives are its own, so its
      // entries use `zstd` and never meet the package's. The rule that makes the version is the same.
      const version = cacheVersion(['go-ship-mod'], 'zstd-without-long');
      expect(
        await new ActionsCacheStore(`${service.url}/`, 'runtime-token').save('go-ship-mod-k', version, file),
      ).toBe(true);
      expect(await cache.restoreCache(['go-ship-mod'], 'go-ship-mod-k', [], { lookupOnly: true })).toBe(
        'go-ship-mod-k',
      );
    }, 60_000);

    test('why go-ship restores with its own client: a crafted entry makes restoreCache write outside the workspace', async () => {
      // An entry as a poisoned run could save it: one member named ../<name>, zstd as the client expects.
      const name = `escaped-${Date.now()}.txt`;
      const src = tempDir('upstream-crafted');
      writeFileSync(join(src, name), 'planted');
      const tarFile = join(src, 'crafted.tar');
      execFileSync('tar', ['-P', '-cf', tarFile, '--transform', `s,^,../,`, '-C', src, name]);
      execFileSync('zstd', ['-q', '-f', tarFile, '-o', `${tarFile}.zst`]);
      const key = `crafted-${Date.now()}`;
      const store = new ActionsCacheStore(`${service.url}/`, 'runtime-token');
      expect(await store.save(key, cacheVersion(['data'], 'zstd-without-long'), `${tarFile}.zst`)).toBe(true);

      const outside = join(dirname(ws), name);
      expect(await cache.restoreCache(['data'], key)).toBe(key);
      expect(readFileSync(outside, 'utf8')).toBe('planted');
      rmSync(outside);

      // The same entry through go-ship: downloaded, looked at, refused; nothing lands anywhere.
      const file = join(tempDir('upstream-gs-restore'), 'entry.tar');
      expect(await store.restore(key, [], cacheVersion(['data'], 'zstd-without-long'), file)).toBe(key);
      const into = join(ws, 'gs');
      mkdirSync(into);
      await expect(extractArchive(into, file, 'zstd')).rejects.toThrow(`holds an unsafe path \`../${name}\``);
      expect(existsSync(outside)).toBe(false);
    }, 60_000);
  },
);
