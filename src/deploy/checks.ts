import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { proxyFor, request as httpRequest } from '../runner/http.js';
import { formatDuration, log } from '../runner/log.js';

/** One HTTP answer, or why there was none (`status` 0). */
export interface Probe {
  status: number;
  headers: Record<string, string>;
  body: string;
  error?: string;
  ms: number;
}

/**
 * GET on a fresh connection (no keep-alive): after an nginx reload every probe must reach the
 * current workers, not an old worker through a pooled connection, or the switch looks slower than it is.
 */
export function probe(url: string, timeoutMs: number): Promise<Probe> {
  const started = Date.now();
  // A colour behind the runner's proxy (not loopback, not in NO_PROXY) is probed through it.
  if (proxyFor(url)) return probeThroughProxy(url, timeoutMs, started);
  return new Promise((resolve) => {
    const u = new URL(url);
    const send = u.protocol === 'https:' ? httpsRequest : request;
    const req = send(
      u,
      { method: 'GET', agent: false, headers: { Connection: 'close', 'User-Agent': 'go-ship-deploy' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (b: Buffer) => {
          if (chunks.reduce((n, c) => n + c.length, 0) < 64 * 1024) chunks.push(b);
        });
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({
            status: res.statusCode ?? 0,
            headers,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: Date.now() - started,
          });
        });
        res.on('error', (e) => resolve(failed(e, started)));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${formatDuration(timeoutMs)}`)));
    req.on('error', (e) => resolve(failed(e, started)));
    req.end();
  });
}

async function probeThroughProxy(url: string, timeoutMs: number, started: number): Promise<Probe> {
  try {
    const res = await httpRequest(url, {
      headers: { Connection: 'close', 'User-Agent': 'go-ship-deploy' },
      timeoutMs,
      attempts: 1,
    });
    const body = Buffer.from(await res.arrayBuffer())
      .subarray(0, 64 * 1024)
      .toString('utf8');
    return { status: res.status, headers: Object.fromEntries(res.headers), body, ms: Date.now() - started };
  } catch (e) {
    return failed(e as Error, started);
  }
}

function failed(e: Error, started: number): Probe {
  const code = (e as NodeJS.ErrnoException).code;
  return { status: 0, headers: {}, body: '', error: code ? `${code}` : e.message, ms: Date.now() - started };
}

export interface HealthCheck {
  path: string;
  status: number;
  /** A regular expression the body must match. */
  body?: RegExp;
  successes: number;
  intervalMs: number;
  timeoutMs: number;
}

export interface VersionCheck {
  version: string;
  path: string;
  header: string;
}

/**
 * A service that does not report its version at all: no answer carries the version header, and the
 * version path is not there (404, 405, 501) or answers 2xx with nothing that names a version
 * (go-httpbin's /version is `{"service": "go-httpbin"}` unless started with -use-full-version). Many
 * services have no version endpoint; for them the version check cannot apply, which is said, not
 * failed on. A version path that names another version is still a failure.
 */
export function unreported(p: Probe, header: string): boolean {
  if (p.headers[header.toLowerCase()]) return false;
  return [404, 405, 501].includes(p.status) || (p.status >= 200 && p.status <= 299 && !versionOf(p, header));
}

/** Why one answer does not pass the health check, or undefined when it does. */
export function healthFailure(p: Probe, check: HealthCheck): string | undefined {
  if (p.status === 0) return p.error ?? 'no answer';
  if (p.status !== check.status) return `HTTP ${p.status} (want ${check.status})${snippet(p.body)}`;
  if (check.body && !check.body.test(p.body))
    return `body does not match /${check.body.source}/${snippet(p.body)}`;
  return undefined;
}

/**
 * The version an answer comes from: the version header (hello-svc's X-Version), else a JSON body's
 * `version`, else the whole body when it is one short line that is not a JSON object or list. Only
 * a 2xx body counts: a `404 page not found` is not a version.
 */
export function versionOf(p: Probe, header: string): string | undefined {
  const h = p.headers[header.toLowerCase()];
  if (h) return h.trim();
  if (p.status < 200 || p.status > 299) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(p.body);
  } catch {
    // not JSON
  }
  if (json !== null && typeof json === 'object') {
    const v = (json as { version?: unknown }).version;
    return typeof v === 'string' && v.trim() ? v.trim() : undefined;
  }
  const line = p.body.trim();
  return line && !line.includes('\n') && line.length <= 128 ? line : undefined;
}

/** `1.2.3` and `v1.2.3` name the same release. */
export function sameVersion(a: string | undefined, b: string): boolean {
  return a !== undefined && a.replace(/^v/, '') === b.replace(/^v/, '');
}

function snippet(body: string): string {
  const s = body.trim().replace(/\s+/g, ' ').slice(0, 120);
  return s ? `: ${s}` : '';
}

export interface CheckRecord {
  phase: string;
  what: string;
  url: string;
  attempts: number;
  passed: boolean;
  detail: string;
  ms: number;
  /** The gate passed on health alone: the service does not report its version. */
  versionUnreported?: boolean;
}

/** The longest a single Node timer can wait; a longer delay fires after 1 ms instead. */
const TIMER_MAX_MS = 2 ** 31 - 1;

/**
 * setTimeout for any delay: a deadline summed from long inputs (`2 × drain + 90 s` with drain 596h)
 * passes Node's 24.8-day timer limit and would fire at once; it is waited in pieces. Returns a cancel.
 */
export function afterMs(ms: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = (left: number) => {
    timer = setTimeout(
      () => (left > TIMER_MAX_MS ? arm(left - TIMER_MAX_MS) : fn()),
      Math.min(left, TIMER_MAX_MS),
    );
  };
  arm(Math.max(0, ms));
  return () => clearTimeout(timer);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => afterMs(ms, r));

/**
 * Polls until `check.successes` answers in a row pass (and, with `version`, come from that version),
 * or `deadlineMs` passes. `fatal` is asked between attempts (e.g. "did the container exit?") so a
 * crashed version fails at once instead of at the deadline.
 */
export async function waitHealthy(opts: {
  phase: string;
  base: string;
  check: HealthCheck;
  version?: VersionCheck;
  deadlineMs: number;
  fatal?: () => Promise<string | undefined>;
}): Promise<CheckRecord> {
  const { check } = opts;
  let version = opts.version;
  const url = opts.base + check.path;
  const started = Date.now();
  let attempts = 0;
  let streak = 0;
  let last = '';
  let unreportedNote = '';
  for (;;) {
    attempts++;
    const answer = await probe(url, check.timeoutMs);
    let why = healthFailure(answer, check);
    if (!why && version) {
      const v = await probe(opts.base + version.path, check.timeoutMs);
      const got = versionOf(v, version.header);
      if (!got && unreported(v, version.header) && !answer.headers[version.header.toLowerCase()]) {
        // Healthy, and the service has no version endpoint: the check cannot apply to it.
        const answered = `${version.path} answers ${v.status}${v.status >= 200 && v.status <= 299 ? ` with no version in it${snippet(v.body)}` : ''}`;
        unreportedNote = ` (${answered} and no answer has ${version.header}: the service does not report its version, so it was checked by health only; set version-path or version-header to where it does)`;
        log.warning(
          `${opts.phase}: ${opts.base + answered} and no answer carries ${version.header}: the service does not report its version, so the gate and the switch are checked by health only. Set version-path (or version-header) to where it reports its version.`,
        );
        version = undefined;
      } else if (!sameVersion(got, version.version))
        why = `${version.path} reports ${got ? `version ${got}` : 'no version'} (want ${version.version})`;
    }
    if (why) {
      if (why !== last) log.info(`  ${opts.phase}: ${url} → ${why}`);
      streak = 0;
      last = why;
    } else {
      streak++;
      last = `${streak}/${check.successes} in a row`;
      if (streak >= check.successes) {
        log.info(
          `  ${opts.phase}: ${url} passed${check.successes === 1 ? '' : ` ${check.successes} times in a row`}`,
        );
        return record(
          opts.phase,
          'health',
          url,
          attempts,
          true,
          `passed ${check.successes}× in a row${unreportedNote}`,
          started,
          { versionUnreported: !!unreportedNote },
        );
      }
    }
    const dead = opts.fatal ? await opts.fatal() : undefined;
    if (dead) return record(opts.phase, 'health', url, attempts, false, dead, started);
    if (Date.now() + check.intervalMs > opts.deadlineMs)
      return record(
        opts.phase,
        'health',
        url,
        attempts,
        false,
        `not healthy within ${formatDuration(Date.now() - started)} (last: ${last})`,
        started,
      );
    await sleep(check.intervalMs);
  }
}

export function record(
  phase: string,
  what: string,
  url: string,
  attempts: number,
  passed: boolean,
  detail: string,
  started: number,
  extra: Pick<CheckRecord, 'versionUnreported'> = {},
): CheckRecord {
  return { phase, what, url, attempts, passed, detail, ms: Date.now() - started, ...extra };
}
