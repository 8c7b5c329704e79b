import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../runner/digest.js';
import { fileNameOf, joinInside } from '../runner/paths.js';
import { UserError } from '../runner/errors.js';
import type { Target } from '../go/targets.js';
import { compressTar, gzipBytes, tar, tarParts, zip, type ArchiveEntry } from '../archive/archive.js';
import type { BuiltBinary } from './build.js';

/** GoReleaser's archive formats (its `binary` is go-ship's `none`: the bare binary). */
export const ARCHIVE_FORMATS = [
  'tar.gz',
  'tgz',
  'tar.xz',
  'txz',
  'tar.zst',
  'tzst',
  'tar',
  'zip',
  'none',
] as const;
export type ArchiveFormat = (typeof ARCHIVE_FORMATS)[number];

/** Which format each target is archived in and the archive's name without its extension. */
export interface ArchiveNaming {
  format(target: Target): ArchiveFormat;
  /** `binary` is the one binary's name (without .exe), for bare binaries. */
  base(target: Target, binary: string): string;
  /** The top directory every entry goes under (GoReleaser's wrap_in_directory), '' or absent for none. */
  directory?(target: Target, base: string): string;
}

/**
 * go-ship's own naming: `archive` for every target but windows, which gets zip (what Windows opens);
 * GoReleaser's default name; bare binaries as binary_os_arch.
 */
export function defaultNaming(format: ArchiveFormat, project: string, version: string): ArchiveNaming {
  return {
    format: (t) => (format !== 'none' && t.goos === 'windows' ? 'zip' : format),
    base: (t, binary) => (format === 'none' ? `${binary}_${t.id}` : archiveBase(project, version, t)),
  };
}

/** One file go-ship produced, as the `artifacts` output and the manifest list it. */
export interface Artifact {
  target: string;
  /** `archive`, `binary` (with archive: none), or `sbom` (of the artifact named in `describes`). */
  kind: 'archive' | 'binary' | 'sbom';
  /** For an SBOM: the archive or binary it describes. */
  describes?: string;
  /** File name inside the output directory. */
  path: string;
  sha256: string;
  size: number;
  binaries: { name: string; sha256: string; size: number }[];
}

/** What a build (or a shard of one) leaves next to its files, so a merge can check them. */
export interface Manifest {
  schema: 'go-ship/build-manifest@1';
  project: string;
  version: string;
  commit: string;
  commitTime: number;
  shard?: string;
  targets: string[];
  artifacts: Artifact[];
}

/** GoReleaser's default archive name: project_version_os_arch (plus the variant). */
function archiveBase(project: string, version: string, target: Target): string {
  return [project, version, target.goos, target.goarch, target.variant].filter(Boolean).join('_');
}

/**
 * The archive of one target: its binaries plus the extra files, written in memory with fixed modes
 * and times (see archive.ts). Returns the files to write. `read` gives a binary's bytes: the build
 * has them in hand already (it hashed them), so they are not read from disk a second time.
 */
export async function packageTarget(
  binaries: BuiltBinary[],
  extras: { name: string; data: Buffer }[],
  naming: ArchiveNaming,
  mtime: number,
  read: (b: BuiltBinary) => Buffer,
): Promise<{ artifact: Artifact; files: { name: string; data: Buffer }[] }> {
  const target = binaries[0].target;
  const format = naming.format(target);
  const base = naming.base(target, binaries[0].name.replace(/\.exe$/, ''));
  const bins = binaries.map((b) => ({ name: b.name, sha256: b.sha256, size: b.size }));
  if (format === 'none') {
    if (binaries.length !== 1)
      throw new UserError(
        'The archive format is `none` (GoReleaser: `binary`), which writes one bare binary per target; build one package, or use tar.gz.',
      );
    // Bare binaries get the target in their name so targets do not collide in one directory.
    const files = [{ name: `${base}${target.goos === 'windows' ? '.exe' : ''}`, data: read(binaries[0]) }];
    return {
      artifact: {
        target: target.name,
        kind: 'binary',
        path: files[0].name,
        sha256: binaries[0].sha256,
        size: binaries[0].size,
        binaries: bins,
      },
      files,
    };
  }
  const top = naming.directory?.(target, base) ?? '';
  if (top && (top.startsWith('/') || top.split('/').includes('..')))
    throw new UserError(
      `The archive directory (wrap_in_directory) renders to \`${top}\`; it must be a relative name without \`..\`.`,
    );
  const inside = (name: string) => (top ? `${top.replace(/\/+$/, '')}/${name}` : name);
  const entries: ArchiveEntry[] = [
    ...binaries.map((b) => ({ name: inside(b.name), data: read(b), executable: true })),
    ...extras.map((e) => ({ ...e, name: inside(e.name), executable: false })),
  ];
  const data = await archiveBytes(format, entries, mtime);
  const name = `${base}.${format}`;
  return {
    artifact: {
      target: target.name,
      kind: 'archive',
      path: name,
      sha256: sha256(data),
      size: data.length,
      binaries: bins,
    },
    files: [{ name, data }],
  };
}

async function archiveBytes(format: Exclude<ArchiveFormat, 'none'>, entries: ArchiveEntry[], mtime: number) {
  if (format === 'zip') return zip(entries, mtime);
  if (format === 'tar.gz' || format === 'tgz') return gzipBytes(tarParts(entries, mtime));
  const plain = tar(entries, mtime);
  if (format === 'tar') return plain;
  return compressTar(plain, format === 'tar.xz' || format === 'txz' ? 'xz' : 'zstd');
}

/** The checksums file: its name and the algorithm of its digests (GoReleaser's `checksum`). */
export interface ChecksumSpec {
  name: string;
  /** A node:crypto hash name. */
  algorithm: string;
}

/**
 * `sha256sum` format (`sha512sum` & co. for other algorithms), sorted by file name: `sha256sum -c`
 * checks it. `bytes` gives the files' contents when the algorithm is not the manifest's sha256.
 */
export function checksumsText(
  artifacts: Artifact[],
  algorithm = 'sha256',
  bytes?: Map<string, Buffer>,
): string {
  const digest = (a: Artifact) => {
    if (algorithm === 'sha256') return a.sha256;
    const data = bytes?.get(a.path);
    if (!data) throw new Error(`checksums: no bytes for ${a.path}`);
    return createHash(algorithm).update(data).digest('hex');
  };
  return [...artifacts]
    .sort((a, b) => (a.path < b.path ? -1 : 1))
    .map((a) => `${digest(a)}  ${a.path}\n`)
    .join('');
}

/**
 * Reads a shard's manifest and checks every file it lists: present, the same size and sha256. A
 * missing or altered file is an error naming the shard and the file.
 */
export function readVerifiedManifest(dir: string): Manifest {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file))
    throw new UserError(
      `${dir} has no manifest.json: it is not the output-dir of a build-matrix build shard (or its artifact was not downloaded whole).`,
    );
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  } catch (e) {
    throw new UserError(`${file} is not JSON (${(e as Error).message}).`);
  }
  if (!m || typeof m !== 'object' || m.schema !== 'go-ship/build-manifest@1' || !Array.isArray(m.artifacts))
    throw new UserError(`${file} is not a build-matrix manifest (schema \`${String(m?.schema)}\`).`);
  // Every field that names a file or goes into one is data from another job: checked here, once.
  const bad = (field: string, wants: string) =>
    new UserError(
      `${file}: \`${field}\` is ${JSON.stringify((m as unknown as Record<string, unknown>)[field] ?? null)?.slice(0, 120)}; ${wants}. The shard's artifact was not written by build-matrix; rebuild the shard.`,
    );
  fileNameOf(m.project, `${file}: \`project\``);
  fileNameOf(m.version, `${file}: \`version\``);
  if (typeof m.commit !== 'string') throw bad('commit', 'it must be a commit hash');
  if (typeof m.commitTime !== 'number') throw bad('commitTime', 'it must be a Unix time');
  if (!Array.isArray(m.targets) || !m.targets.every((t) => typeof t === 'string'))
    throw bad('targets', 'it must be a list of target names');
  for (const [i, a] of m.artifacts.entries()) {
    if (!a || typeof a !== 'object' || typeof a.sha256 !== 'string' || typeof a.size !== 'number')
      throw new UserError(
        `${file}: artifacts[${i}] is not a build-matrix artifact (path, sha256, size). Rebuild the shard.`,
      );
    const path = joinInside(
      dir,
      fileNameOf(a.path, `${file}: artifacts[${i}].path`),
      `${file}: artifacts[${i}].path`,
    );
    if (!existsSync(path))
      throw new UserError(
        `Shard ${m.shard ?? dir}: ${a.path} is listed in its manifest but missing from ${dir}.`,
      );
    const data = readFileSync(path);
    if (data.length !== a.size || sha256(data) !== a.sha256)
      throw new UserError(
        `Shard ${m.shard ?? dir}: ${a.path} does not match its manifest (sha256 ${sha256(data).slice(0, 12)}…, ${data.length} bytes; the manifest says ${a.sha256.slice(0, 12)}…, ${a.size} bytes). The artifact was altered or damaged in transit; rebuild the shard.`,
      );
  }
  return m;
}

/**
 * Splits targets into `shards` groups of similar estimated cost (longest first onto the lightest
 * shard). Costs are relative: cgo targets and darwin/windows (bigger std builds) weigh more.
 */
export function planShards(
  targets: Target[],
  shards: number,
  cgo: boolean,
): { shard: string; targets: string }[] {
  const cost = (t: Target) => (cgo ? 2 : 1) * (t.goos === 'darwin' || t.goos === 'windows' ? 1.2 : 1);
  const n = Math.max(1, Math.min(shards, targets.length));
  const bins = Array.from({ length: n }, () => ({ cost: 0, targets: [] as Target[] }));
  for (const t of [...targets].sort((a, b) => cost(b) - cost(a))) {
    const lightest = bins.reduce((a, b) => (b.cost < a.cost ? b : a));
    lightest.cost += cost(t);
    lightest.targets.push(t);
  }
  return bins.map((b, i) => ({
    shard: String(i + 1),
    targets: targets
      .filter((t) => b.targets.includes(t))
      .map((t) => t.name)
      .join(','),
  }));
}

/** The archives or bare binaries, without the SBOMs that describe them. */
export const releaseFiles = (artifacts: Artifact[]) => artifacts.filter((a) => a.kind !== 'sbom');
