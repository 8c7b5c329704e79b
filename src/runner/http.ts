import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { getProxyUrl } from '@actions/http-client/lib/proxy';
import { formatBytes, formatDuration, log } from './log.js';

/**
 * go-ship's one HTTP client for everything that is not a GitHub service with a package of its own:
 * Go downloads, GOPROXY and the checksum database, OCI registries, Prometheus, the cache and
 * artifact blobs. Requests go through @actions/http-client, so HTTPS_PROXY / HTTP_PROXY / NO_PROXY
 * apply as on every GitHub action (loopback addresses are never proxied). On top of it: retries that
 * honour Retry-After, redirects resolved relative to the URL (the package's own need absolute ones),
 * errors that never show a URL's query, and answers as WHATWG `Response` objects.
 */

/**
 * A URL as it may be shown: without its query and credentials. Signed blob URLs carry their
 * signature in the query (`...&sig=...`), and a log line or an error must never hold one.
 */
function displayUrl(url: string): string {
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

/** The proxy a request to `url` goes through, as @actions/http-client decides it; undefined for none. */
export function proxyFor(url: string): string | undefined {
  const proxy = getProxyUrl(new URL(url));
  return proxy ? `${proxy.protocol}//${proxy.host}` : undefined;
}

/** An HTTP answer that was not 2xx. `status` 0 means no answer at all (DNS, refused, timeout). */
export class HttpError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
    detail: string,
    readonly method = 'GET',
  ) {
    super(
      `${method} ${displayUrl(url)} ${status ? `answered ${status}` : 'failed'}${detail ? `: ${detail}` : ''}`,
    );
    this.name = 'HttpError';
  }
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** A body; a function is called again for every attempt (a stream can be read only once). */
  body?: string | Buffer | (() => Readable);
  /** How long the connection may stay silent (not the whole transfer). */
  timeoutMs?: number;
  /** Attempts in all; default 4 for idempotent methods (GET, HEAD, PUT, DELETE), else 1. */
  attempts?: number;
  /** 'manual' returns a 3xx answer as it is. */
  redirect?: 'follow' | 'manual';
}

/** Statuses worth another attempt: timeouts, throttling and the server-side failures that pass. */
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);
/** The longest Retry-After go-ship waits out; a server that asks for more gets its answer back. */
const MAX_RETRY_AFTER_MS = 120_000;
const BACKOFF_MS = 1000;
/** Methods that may be sent twice (RFC 9110 §9.2.2); a POST is tried again only when its caller says so. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

type HttpClientModule = typeof import('@actions/http-client');
let httpClient: Promise<HttpClientModule> | undefined;

/**
 * One request with retries: network failures and RETRYABLE answers are tried again, after
 * Retry-After when the server sends one (up to MAX_RETRY_AFTER_MS), else after 1 s, 2 s, 4 s.
 * Returns the last answer whatever its status; throws an HttpError (status 0) when there was none.
 */
export async function request(url: string, opts: RequestOptions = {}): Promise<Response> {
  const { message, verb } = await requestMessage(url, opts);
  return toResponse(message, verb);
}

/** `request` answering with Node's own stream: what a large download reads fastest. */
async function requestMessage(
  url: string,
  opts: RequestOptions,
): Promise<{ message: IncomingMessage; verb: string }> {
  const method = opts.method ?? 'GET';
  const attempts = opts.attempts ?? (IDEMPOTENT.has(method) ? 4 : 1);
  for (let attempt = 1; ; attempt++) {
    let res: { message: IncomingMessage; verb: string } | undefined;
    let failure = '';
    let final = false;
    try {
      res = await send(url, method, opts);
    } catch (e) {
      failure = errorText(e, url);
      final = isFinal(e);
    }
    const status = res?.message.statusCode ?? 0;
    const last = attempt >= attempts || final;
    if (res && (!RETRYABLE.has(status) || last)) return res;
    if (!res && last)
      throw new HttpError(url, 0, `${failure}${attempt > 1 ? ` after ${attempt} attempts` : ''}`, method);
    const header = res?.message.headers['retry-after'];
    const asked = retryAfterMs(typeof header === 'string' ? header : null);
    if (asked !== undefined && asked > MAX_RETRY_AFTER_MS) return res!;
    const wait = asked ?? BACKOFF_MS * 2 ** (attempt - 1) * (0.8 + Math.random() * 0.4);
    log.info(
      `  ${method} ${displayUrl(url)} ${res ? `answered ${status}` : `failed (${failure})`}; attempt ${attempt + 1} of ${attempts} in ${formatDuration(wait)}${asked !== undefined ? ' (Retry-After)' : ''}`,
    );
    res?.message.resume();
    await new Promise((r) => setTimeout(r, wait));
  }
}

/** Failures another attempt cannot mend: a name that does not resolve, a certificate that does not verify. */
function isFinal(e: unknown): boolean {
  const code = String((e as NodeJS.ErrnoException).code ?? '');
  return code === 'ENOTFOUND' || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** One attempt, following redirects itself: a relative Location works, credentials stay on their host. */
async function send(
  url: string,
  method: string,
  opts: RequestOptions,
): Promise<{ message: IncomingMessage; verb: string }> {
  const { HttpClient } = await (httpClient ??= import('@actions/http-client'));
  const client = new HttpClient('go-ship', undefined, {
    socketTimeout: opts.timeoutMs ?? 60_000,
    allowRetries: false,
    allowRedirects: false,
  });
  let headers = { ...opts.headers };
  let current = url;
  let verb = method;
  let body = opts.body;
  for (let redirects = 0; ; redirects++) {
    const data = typeof body === 'function' ? body() : Buffer.isBuffer(body) ? Readable.from([body]) : body;
    if (Buffer.isBuffer(body)) headers['content-length'] = String(body.length);
    const { message } = await client.request(verb, current, (data ?? null) as string | null, headers);
    const status = message.statusCode ?? 0;
    const location = message.headers.location;
    if (opts.redirect === 'manual' || ![301, 302, 303, 307, 308].includes(status) || !location)
      return { message, verb };
    message.resume();
    if (redirects >= 10) throw new Error('more than 10 redirects');
    const next = new URL(location, current);
    if (new URL(current).protocol === 'https:' && next.protocol !== 'https:')
      throw new Error(`a redirect from https to ${next.protocol} (refused)`);
    if (next.host !== new URL(current).host)
      headers = Object.fromEntries(
        Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'),
      );
    if (status === 303 || ((status === 301 || status === 302) && verb === 'POST')) {
      verb = 'GET';
      body = undefined;
      headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !/^content-/i.test(k)));
    }
    current = next.toString();
  }
}

function toResponse(message: IncomingMessage, method: string): Response {
  const headers = new Headers();
  for (const [k, v] of Object.entries(message.headers)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
  }
  const status = message.statusCode ?? 0;
  const empty = method === 'HEAD' || status === 204 || status === 205 || status === 304;
  if (empty) message.resume();
  const body = empty ? null : (Readable.toWeb(message) as unknown as ReadableStream<Uint8Array>);
  return new Response(body, { status, statusText: message.statusMessage ?? '', headers });
}

/** A network failure in words, without the URL's query (the package's timeout names the path). */
function errorText(e: unknown, url: string): string {
  const code = (e as NodeJS.ErrnoException).code;
  const message = (e as Error).message ?? String(e);
  if (/^Request timeout/.test(message)) return 'no answer in time';
  const u = URL.parse(url);
  const scrubbed = u?.search ? message.split(u.search.slice(1)).join('…') : message;
  return code ?? scrubbed;
}

export interface GetOptions {
  timeoutMs?: number;
  headers?: Record<string, string>;
}

/** GET with retries; a non-2xx final answer or a network failure becomes an HttpError. */
export async function httpGet(url: string, opts: GetOptions = {}): Promise<Response> {
  const res = await request(url, { headers: opts.headers, timeoutMs: opts.timeoutMs });
  if (!res.ok) throw await errorOf(url, res);
  return res;
}

/** The HttpError for a final non-2xx answer: GitHub's or the server's own words, and any wait it asked for. */
async function errorOf(url: string, res: Response, method = 'GET'): Promise<HttpError> {
  const body = (await res.text().catch(() => '')).trim().slice(0, 300);
  const asked = retryAfterMs(res.headers.get('retry-after'));
  const wait =
    asked !== undefined && RETRYABLE.has(res.status)
      ? ` (it asked to retry after ${formatDuration(asked)}${asked > MAX_RETRY_AFTER_MS ? `, longer than go-ship waits (${formatDuration(MAX_RETRY_AFTER_MS)})` : ''})`
      : '';
  return new HttpError(url, res.status, `${body}${wait}`, method);
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
 * A body shorter than its Content-Length is an error (a truncated archive never looks complete);
 * a transfer that breaks off is started again, like a failed request (4 attempts in all).
 */
export async function downloadFile(
  url: string,
  file: string,
  opts: GetOptions & { label?: string } = {},
): Promise<Download> {
  const attempts = 4;
  for (let attempt = 1; ; attempt++) {
    try {
      return await downloadOnce(url, file, opts);
    } catch (e) {
      if (!(e instanceof BrokenTransfer) || attempt >= attempts) throw e;
      log.info(`  ${e.message}; attempt ${attempt + 1} of ${attempts}`);
      await new Promise((r) => setTimeout(r, BACKOFF_MS * 2 ** (attempt - 1)));
    }
  }
}

class BrokenTransfer extends HttpError {}

async function downloadOnce(url: string, file: string, opts: GetOptions & { label?: string }) {
  const started = Date.now();
  const { message } = await requestMessage(url, {
    headers: opts.headers,
    timeoutMs: opts.timeoutMs ?? 5 * 60_000,
  });
  const status = message.statusCode ?? 0;
  if (status < 200 || status >= 300) throw await errorOf(url, toResponse(message, 'GET'));
  const total = Number(message.headers['content-length'] ?? 0);
  const hash = createHash('sha256');
  let bytes = 0;
  let lastReport = Date.now();
  const label = opts.label ?? displayUrl(url);
  const progress = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      if (Date.now() - lastReport > 2000) {
        lastReport = Date.now();
        log.info(
          `  ${label}: ${formatBytes(bytes)}${total ? ` of ${formatBytes(total)} (${Math.floor((bytes / total) * 100)}%)` : ''}`,
        );
      }
      done(null, chunk);
    },
  });
  try {
    // Node's own streams end to end: the bytes are hashed and written as they arrive.
    await pipeline(message, progress, createWriteStream(file));
  } catch (e) {
    throw new BrokenTransfer(
      url,
      status,
      `the download broke off after ${formatBytes(bytes)}: ${errorText(e, url)}`,
    );
  }
  if (total && bytes !== total) {
    throw new BrokenTransfer(
      url,
      status,
      `got ${bytes} bytes but Content-Length said ${total}: the download is truncated`,
    );
  }
  return { bytes, sha256: hash.digest('hex'), durationMs: Date.now() - started };
}
