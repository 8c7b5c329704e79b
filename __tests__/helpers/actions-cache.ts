import { startAzurite, type BlobStorage } from './azurite.js';
import { readBody, startServer, type LoopbackServer } from './server.js';

export interface CacheCall {
  method: string;
  body: Record<string, unknown>;
  authorization?: string;
}

interface Entry {
  key: string;
  version: string;
  blob: string;
  finalized: boolean;
  created: number;
}

/**
 * A loopback stand-in for the Actions cache service v2, answering as @actions/cache expects:
 * Twirp JSON under /twirp/github.actions.results.api.v1.CacheService/<Method> with proto field
 * names, and signed URLs into a real blob store (azurite), where GitHub's client uploads with the
 * Azure SDK and downloads with its HTTP client. `host`: the name the URLs use instead of 127.0.0.1.
 */
export async function startActionsCacheService(
  opts: { fail?: string; host?: string; storage?: 'none' } = {},
): Promise<LoopbackServer & { calls: CacheCall[]; entries: Entry[]; storage: BlobStorage }> {
  const entries: Entry[] = [];
  const calls: CacheCall[] = [];
  // `storage: 'none'` for a test that never reaches the blobs (a failing call first): azurite takes
  // about two seconds to start.
  const storage = opts.storage === 'none' ? noStorage() : await startAzurite(['cache'], opts.host);
  const twirpError = (code: string, msg: string) => JSON.stringify({ code, msg });
  const server = await startServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const body = await readBody(req);
    const m = /^\/twirp\/github\.actions\.results\.api\.v1\.CacheService\/(\w+)$/.exec(path);
    if (!m || req.method !== 'POST') return void res.writeHead(404).end(twirpError('bad_route', path));
    const input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    calls.push({ method: m[1], body: input, authorization: req.headers.authorization });
    res.setHeader('Content-Type', 'application/json');
    // A failing service that says when to try again (Retry-After: 0): the client retries as it
    // would, without the test waiting out its backoff.
    if (opts.fail === m[1])
      return void res
        .writeHead(500, { 'Retry-After': '0' })
        .end(twirpError('internal', 'cache backend unavailable'));
    switch (m[1]) {
      case 'CreateCacheEntry': {
        if (entries.some((e) => e.key === input.key && e.version === input.version))
          return void res.writeHead(409).end(twirpError('already_exists', 'cache entry already exists'));
        const blob = `entry-${entries.length}`;
        entries.push({
          key: String(input.key),
          version: String(input.version),
          blob,
          finalized: false,
          created: Date.now() + entries.length,
        });
        return void res.end(
          JSON.stringify({ ok: true, signed_upload_url: storage.signedUrl('cache', blob, 'cw') }),
        );
      }
      case 'FinalizeCacheEntryUpload': {
        const e = entries.find((x) => x.key === input.key && x.version === input.version);
        const stored = e && (await storage.read('cache', e.blob));
        if (!e || !stored || stored.length !== Number(input.size_bytes))
          return void res.end(JSON.stringify({ ok: false }));
        e.finalized = true;
        return void res.end(JSON.stringify({ ok: true, entry_id: String(entries.indexOf(e) + 1) }));
      }
      case 'GetCacheEntryDownloadURL': {
        const ready = entries
          .filter((e) => e.finalized && e.version === input.version)
          .sort((a, b) => b.created - a.created);
        const hit =
          ready.find((e) => e.key === input.key) ??
          ((input.restore_keys as string[]) ?? [])
            .map((p) => ready.find((e) => e.key.startsWith(p)))
            .find(Boolean);
        if (!hit) return void res.end(JSON.stringify({ ok: false }));
        return void res.end(
          JSON.stringify({
            ok: true,
            signed_download_url: storage.signedUrl('cache', hit.blob, 'r'),
            matched_key: hit.key,
          }),
        );
      }
      default:
        return void res.writeHead(404).end(twirpError('bad_route', m[1]));
    }
  });
  const close = server.close;
  return Object.assign(server, {
    calls,
    entries,
    storage,
    close: async () => {
      await close();
      await storage.stop();
    },
  });
}

function noStorage(): BlobStorage {
  const none = (): never => {
    throw new Error('this cache service stand-in was started with storage: none');
  };
  return { url: 'http://127.0.0.1:1/none', signedUrl: none, read: none, write: none, stop: async () => {} };
}
