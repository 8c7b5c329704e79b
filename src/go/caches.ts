import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { join } from 'node:path';
import { compression, createArchive, extractArchive, type Compression } from '../archive/system-tar.js';
import { cacheVersion, noStoreReason, selectStore, type CacheStore } from '../cache/store.js';
import { UserError } from '../runner/errors.js';
import { findFiles } from '../runner/glob.js';
import { runCommand } from '../runner/command.js';
import { log } from '../runner/log.js';

/**
 * Two caches, keyed for what they hold (setup-go keeps one, keyed on go.mod only, so
 * cross-compile jobs overwrite each other: setup-go#298, #395, #672):
 * - modules (GOMODCACHE): keyed on the go.sum files; any older module cache is a useful start.
 * - build (GOCACHE): keyed on Go version, targets and CGO, then go.sum and the commit. Before it is
 *   saved, entries this run did not use are deleted, so it never grows without bound (#447).
 */
export type CacheKind = 'modules' | 'build';

export interface CachePlan {
  kind: CacheKind;
  dir: string;
  key: string;
  restoreKeys: string[];
}

export interface KeyInputs {
  goos: string;
  goarch: string;
  /** The runner image (ImageOS on GitHub), so caches never cross images with different libc. */
  image?: string;
  goVersion: string;
  targets: string[];
  cgo: string;
  /** sha256 over the go.sum files; undefined when there are none. */
  depsHash?: string;
  commit?: string;
}

export function planCaches(k: KeyInputs, dirs: { GOMODCACHE: string; GOCACHE: string }): CachePlan[] {
  const host = [k.image ?? k.goos, k.goarch].join('-');
  const plans: CachePlan[] = [];
  if (k.depsHash) {
    const prefix = `go-ship-mod-${host}-`;
    plans.push({
      kind: 'modules',
      dir: dirs.GOMODCACHE,
      key: prefix + k.depsHash.slice(0, 16),
      restoreKeys: [prefix],
    });
  }
  const targets = k.targets.length ? shortHash([...k.targets].sort().join(',')) : 'host';
  const base = `go-ship-build-${host}-go${k.goVersion}-${targets}-cgo${k.cgo}-`;
  const deps = `${base}${(k.depsHash ?? 'nodeps').slice(0, 16)}-`;
  plans.push({
    kind: 'build',
    dir: dirs.GOCACHE,
    key: `${deps}${(k.commit || 'local').slice(0, 12)}`,
    restoreKeys: [deps, base],
  });
  return plans;
}

function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 8);
}

/** sha256 over each file's own sha256 and path, in path order (like hashFiles()). */
function hashFiles(root: string, files: string[]): string {
  const h = createHash('sha256');
  for (const f of files)
    h.update(
      `${createHash('sha256')
        .update(readFileSync(join(root, f)))
        .digest('hex')}  ${f}\n`,
    );
  return h.digest('hex');
}

async function goCacheDirs(go: string, env: Record<string, string | undefined>) {
  const r = await runCommand(go, ['env', '-json', 'GOMODCACHE', 'GOCACHE'], { env });
  return JSON.parse(r.stdout) as { GOMODCACHE: string; GOCACHE: string };
}

/** What main hands to post (through the runner's state) for each cache. */
export interface CacheState extends CachePlan {
  version: string;
  compression: Compression;
  matchedKey?: string;
  /** The directory held files before the restore (a developer's own cache: never trimmed). */
  preexisting: boolean;
  /** Signature of the content right after restore, to save only when it changed. */
  signature: string;
  restoreMs: number;
  restoreBytes: number;
  error?: string;
}

export interface RestoreReport {
  startedAt: number;
  caches: CacheState[];
  /** Why this run restores but does not save (`cache-save`), when it does not. */
  restoreOnly?: string;
}

/** When the post step saves: `default-branch` (the default), `always`, or `never`. */
export const CACHE_SAVE = ['default-branch', 'always', 'never'] as const;
export type CacheSave = (typeof CACHE_SAVE)[number];

/**
 * Why a run only restores, or undefined when it saves. The build cache's key carries the commit, so
 * a save from every pull request and branch fills the repository's cache budget (10 GB on GitHub)
 * with entries nobody restores, and evicts the default branch's, which every run restores from.
 * With `default-branch`, runs on the default branch save and every other run restores from them.
 * Without a known default branch (outside GitHub: the CLI, GitLab with GO_SHIP_CACHE_DIR) it saves.
 */
export function restoreOnlyReason(
  mode: CacheSave,
  run: { event?: string; ref?: string; defaultBranch?: string },
): string | undefined {
  if (mode === 'always') return undefined;
  if (mode === 'never') return 'cache-save: never';
  if (!run.defaultBranch) return undefined;
  if (run.ref === `refs/heads/${run.defaultBranch}` && !run.event?.startsWith('pull_request'))
    return undefined;
  return `cache-save: default-branch, and this run (${run.event ?? 'an event'} on ${run.ref || 'no ref'}) is not on ${run.defaultBranch}: it restores the default branch's caches and saves none`;
}

/** Restores each cache; a cache failure is a warning, never a failed step (as with actions/cache). */
async function restoreCaches(store: CacheStore, plans: CachePlan[]): Promise<RestoreReport> {
  const startedAt = Date.now();
  const c = await compression();
  const tmp = mkdtempSync(join(process.env.RUNNER_TEMP ?? '/tmp', 'go-ship-cache-'));
  const caches: CacheState[] = [];
  try {
    for (const plan of plans) {
      const preexisting = existsSync(plan.dir) && readdirSync(plan.dir).length > 0;
      const state: CacheState = {
        ...plan,
        // Entries are stored relative to their directory, so the version names the content, not a path:
        // a cache restores into whatever GOCACHE or GOMODCACHE this runner uses.
        version: cacheVersion([`go-ship-${plan.kind}`], c),
        compression: c,
        preexisting,
        signature: '',
        restoreMs: 0,
        restoreBytes: 0,
      };
      const t0 = Date.now();
      try {
        const file = join(tmp, `${plan.kind}.tar`);
        const matched = await store.restore(plan.key, plan.restoreKeys, state.version, file);
        if (matched) {
          state.restoreBytes = statSync(file).size;
          mkdirSync(plan.dir, { recursive: true });
          await extractArchive(plan.dir, file, c);
          state.matchedKey = matched;
          rmSync(file, { force: true });
        }
      } catch (e) {
        state.error = (e as Error).message;
        log.warning(`The ${plan.kind} cache was not restored: ${state.error}`);
      }
      state.restoreMs = Date.now() - t0;
      state.signature = signature(plan.kind, plan.dir);
      log.info(
        state.matchedKey
          ? `${plan.kind} cache restored from ${state.matchedKey}${state.matchedKey === plan.key ? ' (exact key)' : ''}`
          : `${plan.kind} cache: no entry for ${plan.key} or its restore keys`,
      );
      caches.push(state);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { startedAt, caches };
}

/**
 * The module cache changes only when something is downloaded, which always writes under
 * cache/download; the build cache is judged by its entry files alone (Go rewrites trim.txt on
 * every run). Counting those is cheap.
 */
function signature(kind: CacheKind, dir: string): string {
  const root = kind === 'modules' ? join(dir, 'cache', 'download') : dir;
  if (!existsSync(root)) return '0:0';
  let files = 0;
  let bytes = 0;
  const walk = (d: string, depth: number): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (kind === 'modules' || (depth === 0 && /^[0-9a-f]{2}$/.test(e.name))) walk(p, depth + 1);
      } else if (e.isFile() && (kind === 'modules' || depth === 1)) {
        files++;
        bytes += statSync(p).size;
      }
    }
  };
  walk(root, 0);
  return `${files}:${bytes}`;
}

export interface TrimResult {
  kept: number;
  removed: number;
  removedBytes: number;
}

// Go refreshes an entry's mtime when it uses it, but at most once an hour (cmd/go/internal/cache).
const GO_MTIME_INTERVAL_MS = 60 * 60_000;

/**
 * Deletes build-cache entries that this run did not use: those whose mtime is still older than the
 * restore. Then ages every kept entry by more than Go's refresh interval, so the next run's use of
 * it shows up as a fresh mtime. Only the `xx/<hash>-a|-d` entry files are touched.
 */
export function trimBuildCache(dir: string, startedAt: number, now = Date.now()): TrimResult {
  const result: TrimResult = { kept: 0, removed: 0, removedBytes: 0 };
  if (!existsSync(dir)) return result;
  const aged = new Date(now - 2 * GO_MTIME_INTERVAL_MS);
  for (const sub of readdirSync(dir)) {
    if (!/^[0-9a-f]{2}$/.test(sub)) continue;
    const d = join(dir, sub);
    for (const name of readdirSync(d)) {
      if (!/-[ad]$/.test(name)) continue;
      const p = join(d, name);
      const st = statSync(p);
      if (st.mtimeMs < startedAt) {
        rmSync(p, { force: true });
        result.removed++;
        result.removedBytes += st.size;
      } else {
        utimesSync(p, aged, aged);
        result.kept++;
      }
    }
  }
  return result;
}

export interface SaveResult {
  kind: CacheKind;
  key: string;
  saved: boolean;
  reason: string;
  bytes: number;
  ms: number;
  trim?: TrimResult;
}

/** The post step: trim, then save each cache whose content changed under a key not yet taken. */
export async function saveCaches(store: CacheStore, report: RestoreReport): Promise<SaveResult[]> {
  const results: SaveResult[] = [];
  const tmp = mkdtempSync(join(process.env.RUNNER_TEMP ?? '/tmp', 'go-ship-cache-'));
  try {
    for (const c of report.caches) {
      const t0 = Date.now();
      const r: SaveResult = { kind: c.kind, key: c.key, saved: false, reason: '', bytes: 0, ms: 0 };
      results.push(r);
      try {
        if (report.restoreOnly) {
          r.reason = `not saved: ${report.restoreOnly}`;
          continue;
        }
        if (c.matchedKey === c.key) {
          r.reason = 'restored from this exact key; entries are immutable';
          continue;
        }
        if (!existsSync(c.dir) || readdirSync(c.dir).length === 0) {
          r.reason = 'nothing to save (the directory is empty)';
          continue;
        }
        if (c.kind === 'build') {
          if (c.preexisting && !c.matchedKey) {
            log.info(`${c.dir} held a build cache before this run; it is saved as is, not trimmed.`);
          } else {
            r.trim = trimBuildCache(c.dir, report.startedAt);
          }
        }
        const changed = (r.trim?.removed ?? 0) > 0 || signature(c.kind, c.dir) !== c.signature;
        if (c.matchedKey && !changed) {
          r.reason = `unchanged since it was restored from ${c.matchedKey}`;
          continue;
        }
        const file = join(tmp, `${c.kind}.tar`);
        // trim.txt is left out: restored, it told Go a trim had just happened, forever (setup-go#447).
        r.bytes = await createArchive(c.dir, file, {
          compression: c.compression,
          exclude: c.kind === 'build' ? ['trim.txt'] : [],
        });
        r.saved = await store.save(c.key, c.version, file);
        r.reason = r.saved ? 'saved' : 'another job saved this key first';
        rmSync(file, { force: true });
      } catch (e) {
        r.reason = `not saved: ${(e as Error).message}`;
        log.warning(`The ${c.kind} cache was not saved: ${(e as Error).message}`);
      } finally {
        r.ms = Date.now() - t0;
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return results;
}

/** What main did about caches: the restore report, or why caching was skipped. */
export interface CacheOutcome {
  report?: RestoreReport;
  skipped?: string;
}

/**
 * Restores the module and build caches of a Go install: keyed on the host, the Go version, the
 * targets and the go.sum files (`dependencyPath` globs; when given explicitly, matching nothing is
 * the user's error). No store here (not on a runner, no GO_SHIP_CACHE_DIR) skips with the reason.
 */
export async function restoreGoCaches(
  workspace: string,
  dependencyPath: { patterns: string[]; explicit: boolean },
  install: { goroot: string; goVersion: string; goos: string; goarch: string },
  targets: string[],
  restoreOnly?: string,
): Promise<CacheOutcome> {
  const store = selectStore();
  if (!store) {
    const why = noStoreReason();
    log.info(`Caching skipped: ${why}.`);
    return { skipped: why };
  }
  const files = findFiles(workspace, dependencyPath.patterns);
  if (dependencyPath.explicit && files.length === 0)
    throw new UserError(
      `Input \`cache-dependency-path\` got \`${dependencyPath.patterns.join(', ')}\`; no file under ${workspace} matches. It accepts globs relative to the workspace, such as \`go.sum\` or \`services/**/go.sum\`. Fix the pattern, or remove the input to hash every go.sum.`,
    );
  if (!files.length)
    log.info('No go.sum in the workspace: no module cache (there are no dependencies to keep).');
  else log.info(`Module cache keyed on ${files.join(', ')}`);
  const plans = planCaches(
    {
      goos: install.goos,
      goarch: install.goarch,
      image: process.env.ImageOS,
      goVersion: install.goVersion,
      targets,
      cgo: process.env.CGO_ENABLED ?? 'default',
      depsHash: files.length ? hashFiles(workspace, files) : undefined,
      commit: process.env.GITHUB_SHA,
    },
    await goCacheDirs(join(install.goroot, 'bin', 'go'), { GOTOOLCHAIN: 'local', GOROOT: install.goroot }),
  );
  const report = await restoreCaches(store, plans);
  if (restoreOnly) log.info(`Caches are restored, not saved: ${restoreOnly}.`);
  return { report: restoreOnly ? { ...report, restoreOnly } : report };
}
