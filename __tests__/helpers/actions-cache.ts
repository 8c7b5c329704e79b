import type { IncomingMessage } from 'node:http';
import { startServer, type LoopbackServer } from './server.js';

export interface CacheCall {
  method: string;
  body: Record<string, unknown>;
  authorization?: string;
}

interface Entry {
  key: string;
  version: string;
  blob?: Buffer;
  finalized: boolean;
  created: number;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A loopback stand-in for the Actions cache service v2, answering as @actions/cache expects:
 * Twirp JSON under /twirp/github.actions.results.api.v1.CacheService/<Method> with proto field
 * names, and signed blob URLs that take an Azure-style PUT (x-ms-blob-type: BlockBlob) and a GET.
 */
export async function startActionsCacheService(
  /** `host`: the name blob URLs use instead of 127.0.0.1 (for the proxy test). */
  opts: { fail?: string; host?: string } = {},
): Promise<LoopbackServer & { calls: CacheCall[]; entries: Entry[] }> {
  const entries: Entry[] = [];
  const calls: CacheCall[] = [];
  let url = '';
  const twirpError = (code: string, msg: string) => JSON.stringify({ code, msg });
  const server = await startServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const body = await readBody(req);
    const blob = /^\/blob\/(\d+)$/.exec(path);
    if (blob) {
      const entry = entries[Number(blob[1])];
      if (req.method === 'PUT') {
        if (req.headers['x-ms-blob-type'] !== 'BlockBlob')
          return void res.writeHead(400).end('x-ms-blob-type');
        entry.blob = body;
        return void res.writeHead(201).end();
      }
      if (!entry?.blob) return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Length': entry.blob.length });
      return void res.end(entry.blob);
    }
    const m = /^\/twirp\/github\.actions\.results\.api\.v1\.CacheService\/(\w+)$/.exec(path);
    if (!m || req.method !== 'POST') return void res.writeHead(404).end(twirpError('bad_route', path));
    const input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    calls.push({ method: m[1], body: input, authorization: req.headers.authorization });
    res.setHeader('Content-Type', 'application/json');
    if (opts.fail === m[1])
      return void res.writeHead(500).end(twirpError('internal', 'cache backend unavailable'));
    switch (m[1]) {
      case 'CreateCacheEntry': {
        if (entries.some((e) => e.key === input.key && e.version === input.version))
          return void res.writeHead(409).end(twirpError('already_exists', 'cache entry already exists'));
        entries.push({
          key: String(input.key),
          version: String(input.version),
          finalized: false,
          created: Date.now() + entries.length,
        });
        return void res.end(
          JSON.stringify({ ok: true, signed_upload_url: `${url}/blob/${entries.length - 1}` }),
        );
      }
      case 'FinalizeCacheEntryUpload': {
        const e = entries.find((x) => x.key === input.key && x.version === input.version);
        if (!e?.blob || e.blob.length !== Number(input.size_bytes))
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
            signed_download_url: `${url}/blob/${entries.indexOf(hit)}`,
            matched_key: hit.key,
          }),
        );
      }
      default:
        return void res.writeHead(404).end(twirpError('bad_route', m[1]));
    }
  });
  url = opts.host ? server.url.replace('127.0.0.1', opts.host) : server.url;
  return Object.assign(server, { calls, entries });
}
