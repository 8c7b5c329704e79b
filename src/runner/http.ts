import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { formatBytes, log } from './log.js';

/**
 * A URL as it may be shown: without its query and credentials. Signed blob URLs carry their
 * signature in the query (`...&sig=...`), and a log line or an error must never hold one.
 */
export function displayUrl(url: string): string {
  const u = URL.parse(url);
  if (!u) return url.replace(/\?.*$/, '?…');
  return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
}

/** Registers a signed URL's signature (`sig=`) and the URL as secrets, so no log line can show them. */
export function maskSignedUrl(url: string): void {
  const sig = URL.parse(url)?.searchParams.get('sig');
  if (sig) log.mask(sig);
  log.mask(url);
}

/** An HTTP answer that was not 2xx. `status` 0 means no answer at all (DNS, refused, timeout). */
export class HttpError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
    detail: string,
  ) {
    super(`GET ${displayUrl(url)} ${status ? `answered ${status}` : 'failed'}${detail ? `: ${detail}` : ''}`);
    this.name = 'HttpError';
  }
}

export interface GetOptions {
  timeoutMs?: number;
  headers?: Record<string, string>;
}

/** GET with a deadline; a non-2xx answer or a network failure becomes an HttpError. */
export async function httpGet(url: string, opts: GetOptions = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, {
      headers: opts.headers,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
      redirect: 'follow',
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new HttpError(url, 0, cause?.code ?? cause?.message ?? (e as Error).message);
  }
  if (!res.ok) {
    const body = (await res.text().catch(() => '')).trim().slice(0, 300);
    throw new HttpError(url, res.status, body);
  }
  return res;
}

export async function httpGetText(url: string, opts: GetOptions = {}): Promise<string> {
  return (await httpGet(url, opts)).text();
}

export interface Download {
  bytes: number;
  sha256: string;
  durationMs: number;
}

/**
 * Streams a URL into a file while hashing it, printing a progress line every few seconds.
 * A body shorter than its Content-Length is an error (a truncated archive never looks complete).
 */
export async function downloadFile(
  url: string,
  file: string,
  opts: GetOptions & { label?: string } = {},
): Promise<Download> {
  const started = Date.now();
  const res = await httpGet(url, { timeoutMs: opts.timeoutMs ?? 30 * 60_000, headers: opts.headers });
  const total = Number(res.headers.get('content-length') ?? 0);
  const hash = createHash('sha256');
  const out = createWriteStream(file);
  let bytes = 0;
  let lastReport = Date.now();
  const label = opts.label ?? url;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      bytes += chunk.length;
      if (!out.write(chunk)) await once(out, 'drain');
      if (Date.now() - lastReport > 2000) {
        lastReport = Date.now();
        log.info(
          `  ${label}: ${formatBytes(bytes)}${total ? ` of ${formatBytes(total)} (${Math.floor((bytes / total) * 100)}%)` : ''}`,
        );
      }
    }
  } catch (e) {
    out.destroy();
    throw new HttpError(
      url,
      res.status,
      `the download broke off after ${formatBytes(bytes)}: ${(e as Error).message}`,
    );
  }
  out.end();
  await once(out, 'close');
  if (total && bytes !== total) {
    throw new HttpError(
      url,
      res.status,
      `got ${bytes} bytes but Content-Length said ${total}: the download is truncated`,
    );
  }
  return { bytes, sha256: hash.digest('hex'), durationMs: Date.now() - started };
}
