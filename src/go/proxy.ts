import { runCommand } from '../runner/command.js';
import { UserError } from '../runner/errors.js';
import { HttpError, httpGet, httpGetText } from '../runner/http.js';
import { log } from '../runner/log.js';
import {
  leafHash,
  parseLookup,
  parseVerifierKey,
  proveInclusion,
  SUM_GOLANG_ORG_KEY,
  verifyTreeNote,
} from './sumdb.js';

/** One GOPROXY entry and how to move on when it fails, as the go command reads the list. */
export interface ProxyEntry {
  url: string;
  /** ',' falls through only on 404/410; '|' falls through on any error. */
  fallback: 'notfound' | 'anyerror';
}

export interface ProxyConfig {
  entries: ProxyEntry[];
  /** `off` anywhere stops the walk at that point. */
  offAfter: boolean;
  raw: string;
}

/** Parses GOPROXY: `https://a,https://b|https://c,direct`. `direct` cannot serve toolchain zips here. */
export function parseGoproxy(raw: string): ProxyConfig {
  const entries: ProxyEntry[] = [];
  let offAfter = false;
  const re = /([^,|]+)([,|]?)/g;
  for (const m of raw.matchAll(re)) {
    const item = m[1].trim();
    if (item === 'off') {
      offAfter = true;
      break;
    }
    if (item === 'direct' || item === 'noproxy' || item === '') continue;
    entries.push({ url: item.replace(/\/+$/, ''), fallback: m[2] === '|' ? 'anyerror' : 'notfound' });
  }
  return { entries, offAfter, raw };
}

/** GOPROXY and GOSUMDB from the environment, else from `go env` (never a hard-coded host). */
export async function goEnv(name: 'GOPROXY' | 'GOSUMDB'): Promise<string | undefined> {
  if (process.env[name] !== undefined && process.env[name] !== '') return process.env[name];
  try {
    return (await runCommand('go', ['env', name], { timeoutMs: 30_000 })).stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * GETs `path` from each proxy in turn with the go command's fallback rules, returning the first
 * answer. A 404/410 moves on after ','; any failure moves on after '|'; other errors stop the walk.
 */
export async function proxyGet<T>(
  config: ProxyConfig,
  path: string,
  get: (url: string) => Promise<T>,
): Promise<{ value: T; proxy: string }> {
  if (config.entries.length === 0) {
    throw new UserError(
      `GOPROXY is \`${config.raw}\`, which names no module proxy go-ship can download from. Set GOPROXY to your proxy's URL (Athens, Artifactory, a mirror) or use go-download-source: dl.`,
    );
  }
  const failures: string[] = [];
  for (const entry of config.entries) {
    try {
      return { value: await get(`${entry.url}/${path}`), proxy: entry.url };
    } catch (e) {
      const notFound = e instanceof HttpError && (e.status === 404 || e.status === 410);
      failures.push(`${entry.url}: ${(e as Error).message}`);
      log.debug(`proxy ${entry.url} failed for ${path}: ${(e as Error).message}`);
      if (!notFound && entry.fallback !== 'anyerror') break;
    }
  }
  throw new ProxyError(path, failures);
}

export class ProxyError extends Error {
  constructor(
    readonly path: string,
    readonly failures: string[],
  ) {
    super(`No module proxy served ${path}:\n  ${failures.join('\n  ')}`);
    this.name = 'ProxyError';
  }
}

export const TOOLCHAIN_MODULE = 'golang.org/toolchain';

/** Toolchain module version for a Go release and platform: v0.0.1-go1.22.5.linux-amd64. */
export function toolchainModuleVersion(goName: string, goos: string, goarch: string): string {
  return `v0.0.1-${goName}.${goos}-${goarch}`;
}

/** Go releases the proxy has a toolchain module for, on one platform. */
export async function listProxyToolchains(
  config: ProxyConfig,
  goos: string,
  goarch: string,
): Promise<{ names: string[]; proxy: string }> {
  const { value, proxy } = await proxyGet(config, `${TOOLCHAIN_MODULE}/@v/list`, (u) =>
    httpGetText(u, { timeoutMs: 60_000 }),
  );
  const suffix = `.${goos}-${goarch}`;
  const names = value
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('v0.0.1-go') && l.endsWith(suffix))
    .map((l) => l.slice('v0.0.1-'.length, -suffix.length));
  return { names, proxy };
}

export interface SumdbConfig {
  name: string;
  /** The verifier key (`name+hash+key`) its tree heads must be signed with. */
  vkey: string;
  /** Direct URL of the database, used when no proxy serves it. */
  url: string;
}

/**
 * GOSUMDB: `name`, `name+hash+key` or `name+hash+key url`; `off` means unverifiable, which go-ship
 * refuses. A bare name has a key only for the default database, as in the go command.
 */
export function parseGosumdb(raw: string | undefined): SumdbConfig | 'off' | undefined {
  if (!raw) return undefined;
  if (raw.trim() === 'off') return 'off';
  const [nameKey, url] = raw.trim().split(/\s+/);
  const name = nameKey.split('+')[0];
  const vkey = nameKey.includes('+') ? nameKey : name === 'sum.golang.org' ? SUM_GOLANG_ORG_KEY : '';
  if (!vkey)
    throw new UserError(
      `GOSUMDB is \`${raw}\`: a checksum database other than sum.golang.org needs its key (\`name+hash+key [url]\`), as the go command requires.`,
    );
  return { name, vkey, url: (url ?? `https://${name}`).replace(/\/+$/, '') };
}

/**
 * The module's `h1:` hash as the checksum database records it, looked up through the proxies (which
 * proxy the database at `<proxy>/sumdb/<name>/`) and then directly, as the go command does.
 */
export async function lookupModuleHash(
  config: ProxyConfig,
  sumdb: SumdbConfig,
  module: string,
  version: string,
): Promise<{ hash: string; from: string }> {
  const path = `sumdb/${sumdb.name}/lookup/${module}@${version}`;
  let text: string;
  let from: string;
  try {
    const r = await proxyGet(config, path, (u) => httpGetText(u, { timeoutMs: 60_000 }));
    text = r.value;
    from = `${r.proxy}/sumdb/${sumdb.name}`;
  } catch (proxyFailure) {
    try {
      text = await httpGetText(`${sumdb.url}/lookup/${module}@${version}`, { timeoutMs: 60_000 });
      from = sumdb.url;
    } catch (e) {
      throw new UserError(
        `Cannot verify ${module}@${version}: the checksum database ${sumdb.name} was not reachable through GOPROXY (${(proxyFailure as Error).message.split('\n')[0]}) nor directly (${(e as Error).message}). Use a GOPROXY that proxies the checksum database, or go-download-source: dl.`,
      );
    }
  }
  // The answer is trusted only when its tree head is signed with the database's key and the record
  // is proven to be in that tree; a proxy cannot make up either.
  let answer;
  try {
    answer = parseLookup(text);
    const tree = verifyTreeNote(answer.note, parseVerifierKey(sumdb.vkey));
    await proveInclusion(tree, answer.id, leafHash(Buffer.from(answer.record)), async (tile) =>
      Buffer.from(await (await httpGet(`${from}/${tile}`, { timeoutMs: 60_000 })).arrayBuffer()),
    );
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(
      `The checksum database answer for ${module}@${version} from ${from} does not verify: ${(e as Error).message}. Nothing was installed; check GOPROXY and GOSUMDB.`,
    );
  }
  const line = answer.record.split('\n').find((l) => l.startsWith(`${module} ${version} h1:`));
  if (!line)
    throw new UserError(`The checksum database ${sumdb.name} has no h1: record for ${module}@${version}.`);
  return { hash: line.split(' ')[2], from };
}
