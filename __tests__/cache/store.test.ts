import { readFileSync, writeFileSync, utimesSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ActionsCacheStore,
  cacheVersion,
  DirectoryCacheStore,
  noStoreReason,
  selectStore,
} from '../../src/cache/store.js';
import { tempDir } from '../helpers/cli.js';
import { startActionsCacheService } from '../helpers/actions-cache.js';
import { startServer } from '../helpers/server.js';
import { jest } from '@jest/globals';

describe('cache stores', () => {
  test('the version fingerprints paths and compression like @actions/cache', () => {
    const v = cacheVersion(['/home/runner/go/pkg/mod'], 'zstd');
    expect(v).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheVersion(['/home/runner/go/pkg/mod'], 'gzip')).not.toBe(v);
  });

  test('selectStore: the Actions service when the runtime provides it, else GO_SHIP_CACHE_DIR, else none', () => {
    // It masks the runtime token (a workflow command on stdout): keep that out of the test log.
    jest.spyOn(process.stdout, 'write').mockImplementationOnce(() => true);
    expect(selectStore({ ACTIONS_RESULTS_URL: 'http://x/', ACTIONS_RUNTIME_TOKEN: 't' })).toBeInstanceOf(
      ActionsCacheStore,
    );
    expect(selectStore({ GO_SHIP_CACHE_DIR: '/tmp/x' })).toBeInstanceOf(DirectoryCacheStore);
    expect(selectStore({})).toBeUndefined();
  });

  test('directory store: exact key first, then restore-key prefixes newest first; keys are immutable', async () => {
    const store = new DirectoryCacheStore(tempDir('store'));
    const src = join(tempDir('src'), 'a.tar');
    const save = async (key: string, body: string, ageS: number) => {
      writeFileSync(src, body);
      const saved = await store.save(key, 'v1', src);
      const entry = join(store.dir, 'v1', encodeURIComponent(key));
      const t = new Date(Date.now() - ageS * 1000);
      utimesSync(entry, t, t);
      return saved;
    };
    expect(await save('build-linux-aaa-1', 'old', 100)).toBe(true);
    expect(await save('build-linux-aaa-2', 'new', 10)).toBe(true);
    expect(await save('build-linux-aaa-2', 'again', 0)).toBe(false);
    const out = join(tempDir('out'), 'x.tar');
    expect(await store.restore('build-linux-aaa-1', ['build-linux-'], 'v1', out)).toBe('build-linux-aaa-1');
    expect(readFileSync(out, 'utf8')).toBe('old');
    expect(await store.restore('build-linux-aaa-3', ['build-linux-aaa-'], 'v1', out)).toBe(
      'build-linux-aaa-2',
    );
    expect(readFileSync(out, 'utf8')).toBe('new');
    expect(await store.restore('build-linux-aaa-3', ['build-darwin-'], 'v1', out)).toBeUndefined();
    expect(await store.restore('build-linux-aaa-1', [], 'v2', out)).toBeUndefined();
    expect(readdirSync(join(store.dir, 'v1')).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  describe('Actions cache service (v2 Twirp protocol, loopback)', () => {
    // Signed URLs are masked with `::add-mask::` on stdout, meant for the runner: keep them out of the
    // test log (the test about masking watches stdout itself).
    const write = process.stdout.write;
    beforeEach(() => {
      process.stdout.write = (() => true) as typeof process.stdout.write;
    });
    afterEach(() => {
      process.stdout.write = write;
    });

    test('save creates, uploads and finalizes; restore finds exact and prefix matches; a taken key is not saved', async () => {
      const service = await startActionsCacheService();
      try {
        const store = new ActionsCacheStore(service.url, 'runtime-token');
        const src = join(tempDir('gh'), 'a.tar');
        writeFileSync(src, 'entry-bytes');
        expect(await store.save('mod-linux-abc', 'v1', src)).toBe(true);
        expect(await store.save('mod-linux-abc', 'v1', src)).toBe(false);
        const out = join(tempDir('gh-out'), 'b.tar');
        expect(await store.restore('mod-linux-zzz', ['mod-linux-'], 'v1', out)).toBe('mod-linux-abc');
        expect(readFileSync(out, 'utf8')).toBe('entry-bytes');
        expect(await store.restore('mod-linux-abc', [], 'other-version', out)).toBeUndefined();
        const calls = service.calls.map((c) => c.method);
        expect(calls).toEqual([
          'CreateCacheEntry',
          'FinalizeCacheEntryUpload',
          'CreateCacheEntry',
          'GetCacheEntryDownloadURL',
          'GetCacheEntryDownloadURL',
        ]);
        expect(service.calls.every((c) => c.authorization === 'Bearer runtime-token')).toBe(true);
        expect(service.calls[1].body).toEqual({ key: 'mod-linux-abc', version: 'v1', size_bytes: '11' });
      } finally {
        await service.close();
      }
    });

    // Secrets: a failed cache download printed the signed URL with its `sig=`.
    test('a failed download names the blob without its signature, and the signature is masked', async () => {
      const SIG = 'c2VjcmV0LXNpZ25hdHVyZQ%3D%3D';
      const server = await startServer((req, res) => {
        if (req.url?.startsWith('/twirp/')) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              ok: true,
              matched_key: 'k',
              signed_download_url: `http://127.0.0.1:${port()}/blob/7?sv=2020-10-02&se=2026-12-01&sig=${SIG}`,
            }),
          );
        } else {
          res.writeHead(403);
          res.end('AuthenticationFailed');
        }
      });
      const port = () => new URL(server.url).port;
      const out: string[] = [];
      const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        out.push(String(chunk));
        return true;
      });
      let message = '';
      try {
        await new ActionsCacheStore(server.url, 't').restore('k', [], 'v', join(tempDir('gh-sig'), 'x'));
      } catch (e) {
        message = (e as Error).message;
      } finally {
        spy.mockRestore();
        await server.close();
      }
      expect(message).toContain(`GET http://127.0.0.1:${port()}/blob/7?… answered 403`);
      expect(message).not.toContain(SIG);
      expect(message).not.toContain('sig=');
      expect(out.join('')).toContain(`::add-mask::${decodeURIComponent(SIG)}`);
    });

    test('a service error is reported with its Twirp message', async () => {
      const service = await startActionsCacheService({ fail: 'GetCacheEntryDownloadURL', storage: 'none' });
      try {
        const store = new ActionsCacheStore(service.url, 't');
        await expect(store.restore('k', [], 'v', join(tempDir('gh-err'), 'x'))).rejects.toThrow(
          'cache service GetCacheEntryDownloadURL answered 500: cache backend unavailable',
        );
      } finally {
        await service.close();
      }
    });
  });
});

test('on a runner that offers only the older cache service (GHES), the reason says so and names GO_SHIP_CACHE_DIR', () => {
  const env = {
    ACTIONS_CACHE_URL: 'https://ghes.example/_services/artifactcache/',
    ACTIONS_RUNTIME_TOKEN: 't',
  };
  expect(selectStore(env)).toBeUndefined();
  expect(noStoreReason(env)).toContain('older cache service (ACTIONS_CACHE_URL');
  expect(noStoreReason(env)).toContain('GO_SHIP_CACHE_DIR');
  expect(noStoreReason({})).toContain('not on GitHub Actions');
});
