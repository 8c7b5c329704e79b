import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../runner/errors.js';
import type { Target } from '../go/targets.js';
import { tarGz, zip, type ArchiveEntry } from '../archive/archive.js';
import type { BuiltBinary } from './build.js';

export type ArchiveFormat = 'tar.gz' | 'zip' | 'none';

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

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** GoReleaser's default archive name: project_version_os_arch (plus the variant). */
export function archiveBase(project: string, version: string, target: Target): string {
  return [project, version, target.goos, target.goarch, target.variant].filter(Boolean).join('_');
}

/**
 * The archives of one target: its binaries plus the extra files, tar.gz (zip for windows), written
 * in memory with fixed modes and times (see archive.ts). Returns the files to write.
 */
export async function packageTarget(
  binaries: BuiltBinary[],
  extras: { name: string; data: Buffer }[],
  format: ArchiveFormat,
  base: string,
  mtime: number,
): Promise<{ artifact: Artifact; files: { name: string; data: Buffer }[] }> {
  const target = binaries[0].target;
  const bins = binaries.map((b) => ({ name: b.name, sha256: b.sha256, size: b.size }));
  if (format === 'none') {
    // Bare binaries get the target in their name so targets do not collide in one directory.
    const files = binaries.map((b) => ({
      name: `${b.name.replace(/\.exe$/, '')}_${target.id}${target.goos === 'windows' ? '.exe' : ''}`,
      data: readFileSync(b.file),
    }));
    if (files.length !== 1)
      throw new UserError(
        'Input `archive` is `none`, which writes one bare binary per target; build one package, or use tar.gz.',
      );
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
  const entries: ArchiveEntry[] = [
    ...binaries.map((b) => ({ name: b.name, data: readFileSync(b.file), executable: true })),
    ...extras.map((e) => ({ ...e, executable: false })),
  ];
  const ext = format === 'zip' || target.goos === 'windows' ? 'zip' : 'tar.gz';
  const data = ext === 'zip' ? await zip(entries, mtime) : await tarGz(entries, mtime);
  const name = `${base}.${ext}`;
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

/** `sha256sum` format, sorted by file name: `sha256sum -c` checks it. */
export function checksumsText(artifacts: Artifact[]): string {
  return [...artifacts]
    .sort((a, b) => (a.path < b.path ? -1 : 1))
    .map((a) => `${a.sha256}  ${a.path}\n`)
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
  if (m.schema !== 'go-ship/build-manifest@1' || !Array.isArray(m.artifacts))
    throw new UserError(`${file} is not a build-matrix manifest (schema \`${String(m.schema)}\`).`);
  for (const a of m.artifacts) {
    const path = join(dir, basename(a.path));
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
