import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { downloadFile, maskSignedUrl } from '../runner/http.js';
import { log } from '../runner/log.js';
import { putBlob, ResultsService, ResultsServiceError } from '../github/results-service.js';

/**
 * Where cache entries live. Entries are immutable and addressed by (key, version): `key` is what
 * users see, `version` fingerprints what the entry holds (paths, compression), as the Actions cache
 * service does. Restore tries the exact key, then each restore key as a prefix, newest first.
 */
export interface CacheStore {
  readonly description: string;
  /** Downloads the best match into `file`; undefined on a miss. */
  restore(key: string, restoreKeys: string[], version: string, file: string): Promise<string | undefined>;
  /** Uploads `file` as `key`; false when an entry with that key already exists. */
  save(key: string, version: string, file: string): Promise<boolean>;
}

/** The Actions cache version string, made as @actions/cache makes it: sha256 over parts, compression, a salt. */
export function cacheVersion(paths: string[], compression: string): string {
  const parts = [...paths, compression, ...(process.platform === 'win32' ? ['windows-only'] : []), '1.0'];
  return createHash('sha256').update(parts.join('|')).digest('hex');
}

/**
 * Picks the store: the Actions cache service when the runner provides it (JavaScript actions get
 * ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN), else a directory (GO_SHIP_CACHE_DIR, for the
 * CLI and other CI systems). Undefined when neither is available.
 */
export function selectStore(env: NodeJS.ProcessEnv = process.env): CacheStore | undefined {
  if (env.ACTIONS_RESULTS_URL && env.ACTIONS_RUNTIME_TOKEN) {
    log.mask(env.ACTIONS_RUNTIME_TOKEN);
    return new ActionsCacheStore(env.ACTIONS_RESULTS_URL, env.ACTIONS_RUNTIME_TOKEN);
  }
  if (env.GO_SHIP_CACHE_DIR)
    return new DirectoryCacheStore(env.GO_SHIP_CACHE_DIR.replace(/^~(?=\/|$)/, homedir()));
  return undefined;
}

/** Why selectStore found no store, in words for the log. */
export function noStoreReason(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ACTIONS_CACHE_URL && !env.ACTIONS_RESULTS_URL)
    return "this runner offers only the older cache service (ACTIONS_CACHE_URL, as GitHub Enterprise Server does), which go-ship's cache client does not speak; set GO_SHIP_CACHE_DIR to cache in a directory";
  return 'no cache store here (not on GitHub Actions, and GO_SHIP_CACHE_DIR is not set)';
}

/** Entries as files `<dir>/<version>/<encoded key>`; writes go through a temporary name and a rename. */
export class DirectoryCacheStore implements CacheStore {
  readonly description: string;

  constructor(readonly dir: string) {
    this.description = `directory ${dir}`;
  }

  async restore(key: string, restoreKeys: string[], version: string, file: string) {
    const base = join(this.dir, version);
    if (!existsSync(base)) return undefined;
    const entries = readdirSync(base)
      .filter((n) => !n.startsWith('.'))
      .map((n) => ({
        key: decodeURIComponent(n),
        path: join(base, n),
        mtime: statSync(join(base, n)).mtimeMs,
      }))
      .sort((a, b) => b.mtime - a.mtime);
    const hit =
      entries.find((e) => e.key === key) ??
      restoreKeys.map((p) => entries.find((e) => e.key.startsWith(p))).find(Boolean);
    if (!hit) return undefined;
    await copyFile(hit.path, file);
    return hit.key;
  }

  async save(key: string, version: string, file: string) {
    const base = join(this.dir, version);
    mkdirSync(base, { recursive: true });
    const target = join(base, encodeURIComponent(key));
    if (existsSync(target)) return false;
    const tmp = join(base, `.tmp-${randomBytes(6).toString('hex')}`);
    try {
      await copyFile(file, tmp);
      renameSync(tmp, target);
    } finally {
      rmSync(tmp, { force: true });
    }
    return true;
  }
}

const SERVICE = 'github.actions.results.api.v1.CacheService';

/**
 * The Actions cache service (v2): Twirp JSON calls to ACTIONS_RESULTS_URL, entry bodies moved with
 * plain HTTP to the signed blob URLs it returns. Field names are the proto names, as
 * @actions/cache sends them.
 */
export class ActionsCacheStore implements CacheStore {
  readonly description = 'the GitHub Actions cache service';
  private readonly service: ResultsService;

  constructor(baseUrl: string, token: string) {
    this.service = new ResultsService(baseUrl, token);
  }

  private async call(method: string, body: object): Promise<Record<string, unknown>> {
    try {
      return await this.service.call(SERVICE, method, body);
    } catch (e) {
      if (e instanceof ResultsServiceError) throw new Error(`cache service ${e.message}`);
      throw e;
    }
  }

  async restore(key: string, restoreKeys: string[], version: string, file: string) {
    const r = await this.call('GetCacheEntryDownloadURL', { key, restore_keys: restoreKeys, version });
    const url = (r.signed_download_url ?? r.signedDownloadUrl) as string | undefined;
    if (!r.ok || !url) return undefined;
    maskSignedUrl(url);
    await downloadFile(url, file, { label: 'cache entry' });
    return ((r.matched_key ?? r.matchedKey) as string | undefined) ?? key;
  }

  async save(key: string, version: string, file: string) {
    let created: Record<string, unknown>;
    try {
      created = await this.call('CreateCacheEntry', { key, version });
    } catch (e) {
      // The service answers 409 when the key exists (another job saved it first).
      if (/answered 409/.test((e as Error).message)) return false;
      throw e;
    }
    const url = (created.signed_upload_url ?? created.signedUploadUrl) as string | undefined;
    if (!created.ok || !url) return false;
    maskSignedUrl(url);
    const size = statSync(file).size;
    await putBlob(url, file, 'the cache entry');
    const done = await this.call('FinalizeCacheEntryUpload', { key, version, size_bytes: String(size) });
    if (!done.ok) throw new Error('the cache service did not finalize the entry');
    return true;
  }
}
