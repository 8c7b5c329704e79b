import { readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import semver from 'semver';
import { runCommand } from '../runner/command.js';
import { UserError } from '../runner/errors.js';
import { downloadFile, HttpError } from '../runner/http.js';
import { formatBytes, formatDuration, log } from '../runner/log.js';
import { hash1 } from './dirhash.js';
import { fetchListing, findArchive, listingUrl, type GoFile } from './listing.js';
import { proxyGoarch, type HostPlatform } from './platform.js';
import {
  goEnv,
  listProxyToolchains,
  lookupModuleHash,
  parseGoproxy,
  parseGosumdb,
  ProxyError,
  proxyGet,
  TOOLCHAIN_MODULE,
  toolchainModuleVersion,
  type ProxyConfig,
} from './proxy.js';
import type { ToolCache } from './toolcache.js';
import { describeSpec, parseGoVersion, selectVersion, type GoVersion, type VersionSpec } from './version.js';
import { extractZip, readZip } from '../archive/zip-reader.js';

export type DownloadSource = 'auto' | 'dl' | 'proxy';
export type InstalledFrom = 'tool-cache' | 'dl' | 'proxy';

export interface InstallRequest {
  spec: VersionSpec;
  source: DownloadSource;
  baseUrl: string;
  checkLatest: boolean;
  platform: HostPlatform;
  toolCache: ToolCache;
  tempDir: string;
}

export interface InstallResult {
  version: GoVersion;
  goroot: string;
  from: InstalledFrom;
  /** How the bytes were checked, for the log and the summary. */
  verification: string;
  bytes: number;
  timings: { resolveMs: number; downloadMs: number; extractMs: number };
  /** What happened on the way that a user should know (fallbacks, sources skipped). */
  notes: string[];
}

/** What to install and from where, decided before any download. */
type Resolution =
  | { version: GoVersion; from: 'dl'; file: GoFile; url: string }
  | { version: GoVersion; from: 'proxy'; proxy: ProxyConfig };

const GO = 'go';

export async function installGo(req: InstallRequest): Promise<InstallResult> {
  const started = Date.now();
  const notes: string[] = [];
  const arch = req.platform.cacheArch;

  // Ranges and exact versions are answered by the tool cache unless check-latest asks the network.
  if (!req.checkLatest && (req.spec.kind === 'exact' || req.spec.kind === 'range')) {
    const cached = req.toolCache.versions(GO, arch).flatMap((v) => fromSemver(v) ?? []);
    const hit = selectVersion(req.spec, cached);
    if (hit) return cacheHit(req, hit, started, notes);
  }

  const resolution = await resolve(req, notes);
  const already = req.toolCache.find(GO, resolution.version.semver, arch);
  if (already) return cacheHit(req, resolution.version, started, notes);
  const resolveMs = Date.now() - started;
  return resolution.from === 'dl'
    ? installFromDownloadSite(req, resolution, resolveMs, notes)
    : installFromProxy(req, resolution, resolveMs, notes);
}

function cacheHit(req: InstallRequest, version: GoVersion, started: number, notes: string[]): InstallResult {
  const goroot = req.toolCache.find(GO, version.semver, req.platform.cacheArch)!;
  return {
    version,
    goroot,
    from: 'tool-cache',
    verification: 'verified when it was installed',
    bytes: 0,
    timings: { resolveMs: Date.now() - started, downloadMs: 0, extractMs: 0 },
    notes,
  };
}

async function resolve(req: InstallRequest, notes: string[]): Promise<Resolution> {
  if (req.source !== 'proxy') {
    try {
      return await resolveFromDownloadSite(req);
    } catch (e) {
      if (req.source === 'dl') throw e;
      const why = ((e as Error).cause as Error | undefined)?.message ?? (e as Error).message;
      notes.push(
        `The download site ${req.baseUrl} did not provide it (${why.split('\n')[0]}); installed from the module proxy instead.`,
      );
      log.info(`download site: ${why.split('\n')[0]}; trying the module proxy`);
    }
  }
  return resolveFromProxy(req);
}

async function resolveFromDownloadSite(req: InstallRequest): Promise<Resolution> {
  const { goos, goarch } = req.platform;
  let releases;
  try {
    releases = await fetchListing(req.baseUrl, req.source === 'auto' ? 15_000 : 60_000);
  } catch (e) {
    if (e instanceof HttpError) {
      throw new UserError(
        `Cannot read the Go download listing: ${e.message}. Check go-download-base-url (or GO_DOWNLOAD_BASE_URL), or use go-download-source: proxy.`,
        {
          cause: e,
        },
      );
    }
    throw e;
  }
  const withArchive = releases.filter((r) => findArchive(r, goos, goarch));
  const versions = withArchive.flatMap((r) => parseGoVersion(r.version) ?? []);
  const stable = new Set(withArchive.filter((r) => r.stable).map((r) => r.version));
  const version = selectVersion(req.spec, versions, stable);
  if (!version) {
    throw noSuchVersion(
      req.spec,
      versions,
      `the download listing at ${listingUrl(req.baseUrl)} for ${goos}/${goarch}`,
      new Error(`no ${describeSpec(req.spec)} for ${goos}/${goarch} in its listing`),
    );
  }
  const file = findArchive(
    withArchive.find((r) => r.version === version.name)!,
    goos,
    goarch,
  )!;
  return { version, from: 'dl', file, url: `${req.baseUrl.replace(/\/+$/, '')}/${file.filename}` };
}

async function resolveFromProxy(req: InstallRequest): Promise<Resolution> {
  const raw = await goEnv('GOPROXY');
  if (!raw)
    throw new UserError(
      'GOPROXY is not set and `go env GOPROXY` is not available. Set GOPROXY to your module proxy URL to install Go from it.',
    );
  const proxy = parseGoproxy(raw);
  if (req.spec.kind === 'exact') return { version: req.spec.version, from: 'proxy', proxy };
  const goarch = proxyGoarch(req.platform);
  let names: string[];
  try {
    names = (await listProxyToolchains(proxy, req.platform.goos, goarch)).names;
  } catch (e) {
    if (e instanceof ProxyError)
      throw new UserError(`Cannot list Go toolchains on GOPROXY=${raw}: ${e.message}`);
    throw e;
  }
  const versions = names.flatMap((n) => parseGoVersion(n) ?? []);
  const version = selectVersion(req.spec, versions);
  if (!version)
    throw noSuchVersion(
      req.spec,
      versions,
      `the toolchain modules on GOPROXY=${raw} for ${req.platform.goos}/${goarch}`,
    );
  return { version, from: 'proxy', proxy };
}

function noSuchVersion(spec: VersionSpec, versions: GoVersion[], where: string, cause?: Error): UserError {
  const newest = [...versions]
    .sort((a, b) => semver.rcompare(a.semver, b.semver))
    .slice(0, 5)
    .map((v) => v.name);
  return new UserError(
    `No Go release matches ${describeSpec(spec)} in ${where}. Newest there: ${newest.join(', ') || '(none)'}. Fix go-version (or go-version-file), or use another go-download-source.`,
    { cause },
  );
}

async function installFromDownloadSite(
  req: InstallRequest,
  r: Extract<Resolution, { from: 'dl' }>,
  resolveMs: number,
  notes: string[],
): Promise<InstallResult> {
  const archive = join(req.tempDir, basename(r.file.filename));
  try {
    log.info(`Downloading ${r.url} (${formatBytes(r.file.size)})`);
    const dl = await downloadFile(r.url, archive, { label: r.file.filename });
    if (dl.sha256 !== r.file.sha256.toLowerCase()) {
      throw new UserError(
        `Checksum mismatch for ${r.file.filename}: the listing at ${listingUrl(req.baseUrl)} says sha256 ${r.file.sha256}, the downloaded file has ${dl.sha256} (${formatBytes(dl.bytes)}). Nothing was installed. The mirror is serving a corrupted or tampered file; fix the mirror or use go-download-source: proxy.`,
      );
    }
    log.info(
      `sha256 ${dl.sha256} matches the listing (${formatBytes(dl.bytes)} in ${formatDuration(dl.durationMs)})`,
    );
    const extractStarted = Date.now();
    const goroot = await req.toolCache.install(
      GO,
      r.version.semver,
      req.platform.cacheArch,
      async (staging) => {
        if (r.file.filename.endsWith('.zip')) {
          extractZip(readZip(readFileSync(archive), r.file.filename), staging, { prefix: '' });
        } else {
          // GNU tar refuses absolute and `..` member names; the archive's hash was checked above.
          await runCommand('tar', ['-xzf', archive, '-C', staging, '--no-same-owner'], {
            timeoutMs: 10 * 60_000,
          });
        }
        await checkGoVersion(join(staging, 'go'), r.version);
        return join(staging, 'go');
      },
    );
    return {
      version: r.version,
      goroot,
      from: 'dl',
      verification: `sha256 ${dl.sha256} (from the download listing)`,
      bytes: dl.bytes,
      timings: { resolveMs, downloadMs: dl.durationMs, extractMs: Date.now() - extractStarted },
      notes,
    };
  } finally {
    rmSync(archive, { force: true });
  }
}

async function installFromProxy(
  req: InstallRequest,
  r: Extract<Resolution, { from: 'proxy' }>,
  resolveMs: number,
  notes: string[],
): Promise<InstallResult> {
  const sumdb = parseGosumdb(await goEnv('GOSUMDB'));
  if (sumdb === 'off' || sumdb === undefined) {
    throw new UserError(
      'GOSUMDB is off (or unknown), so a toolchain from the module proxy cannot be verified; go-ship refuses it, as the go command does. Unset GOSUMDB=off or use go-download-source: dl.',
    );
  }
  const modVersion = toolchainModuleVersion(r.version.name, req.platform.goos, proxyGoarch(req.platform));
  const expected = await lookupModuleHash(r.proxy, sumdb, TOOLCHAIN_MODULE, modVersion);
  log.info(
    `checksum database: ${TOOLCHAIN_MODULE}@${modVersion} ${expected.hash} (tree head signed by ${sumdb.name}, inclusion proven)`,
  );
  const zipPath = join(req.tempDir, `${modVersion}.zip`);
  try {
    let dl;
    try {
      ({ value: dl } = await proxyGet(r.proxy, `${TOOLCHAIN_MODULE}/@v/${modVersion}.zip`, (url) => {
        log.info(`Downloading ${url}`);
        return downloadFile(url, zipPath, { label: `${modVersion}.zip` });
      }));
    } catch (e) {
      if (e instanceof ProxyError)
        throw new UserError(
          `${r.version.name} for ${req.platform.goos}/${proxyGoarch(req.platform)} is not on GOPROXY=${r.proxy.raw}: ${e.message}`,
        );
      throw e;
    }
    const extractStarted = Date.now();
    const prefix = `${TOOLCHAIN_MODULE}@${modVersion}/`;
    const goroot = await req.toolCache.install(
      GO,
      r.version.semver,
      req.platform.cacheArch,
      async (staging) => {
        const root = join(staging, 'go');
        let hashes;
        try {
          hashes = extractZip(readZip(readFileSync(zipPath), `${modVersion}.zip`), root, {
            prefix,
            // The go command's own rules (cmd/go/internal/toolchain): _go.mod becomes go.mod; bin/ and pkg/tool/ are executable.
            rename: (rel) => rel.replace(/(^|\/)_go\.mod$/, '$1go.mod'),
            mode: (rel) => (rel.startsWith('bin/') || rel.startsWith('pkg/tool/') ? 0o755 : 0o644),
          });
        } catch (e) {
          throw new UserError(
            `The toolchain zip from the proxy is damaged: ${(e as Error).message}. Nothing was installed.`,
          );
        }
        const actual = hash1(hashes);
        if (actual !== expected.hash) {
          throw new UserError(
            `Checksum mismatch for ${TOOLCHAIN_MODULE}@${modVersion}: the checksum database (${expected.from}) records ${expected.hash}, the zip from the proxy hashes to ${actual}. Nothing was installed; the proxy is serving a corrupted or tampered module.`,
          );
        }
        await checkGoVersion(root, r.version);
        return root;
      },
    );
    log.info(`h1 hash ${expected.hash} matches the checksum database`);
    return {
      version: r.version,
      goroot,
      from: 'proxy',
      verification: `${expected.hash} (checksum database ${sumdb.name}: signed tree head, inclusion proof)`,
      bytes: dl.bytes,
      timings: { resolveMs, downloadMs: dl.durationMs, extractMs: Date.now() - extractStarted },
      notes,
    };
  } finally {
    rmSync(zipPath, { force: true });
  }
}

/** The installed go binary must call itself the version we meant to install. */
async function checkGoVersion(goroot: string, version: GoVersion): Promise<void> {
  const r = await runCommand(join(goroot, 'bin', 'go'), ['version'], {
    env: { GOTOOLCHAIN: 'local', GOROOT: undefined },
    timeoutMs: 60_000,
    check: false,
  });
  if (r.code !== 0 || !r.stdout.startsWith(`go version ${version.name} `)) {
    throw new UserError(
      `The unpacked toolchain does not run as ${version.name}: \`go version\` printed ${JSON.stringify((r.stdout + r.stderr).trim())}. Nothing was installed.`,
    );
  }
}

/** Tool-cache folder names are semver (`1.22.5`, `1.21.0-rc.2`); map them back to Go's names. */
export function fromSemver(v: string): GoVersion | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-(rc|beta)\.(\d+))?$/.exec(v);
  if (!m) return undefined;
  const [, major, minor, patch, pre, n] = m;
  if (pre) return parseGoVersion(`${major}.${minor}${pre}${n}`);
  return parseGoVersion(
    patch === '0' && Number(major) === 1 && Number(minor) < 21
      ? `${major}.${minor}`
      : `${major}.${minor}.${patch}`,
  );
}
