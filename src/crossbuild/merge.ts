import { joinInside } from '../runner/paths.js';
import { downloadArtifacts, uploadArtifact } from '../github/artifacts.js';
import { UserError, inputError } from '../runner/errors.js';
import { findDirsHolding } from '../runner/glob.js';
import { formatBytes, log } from '../runner/log.js';
import { type Manifest, readVerifiedManifest } from './manifest.js';
import type { OutputFile } from './output.js';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Shard {
  dir: string;
  manifest: Manifest;
}

/**
 * Reads every shard's manifest (each file checked against it), refuses shards of different builds,
 * overlapping targets, and, given the plan job's `matrix`, a missing shard. The merged manifest
 * lists targets by name, so it is the same whatever order the shards arrive in.
 */
export function mergeShards(
  dirs: string[],
  plannedMatrix?: string,
): { shards: Shard[]; manifest: Manifest; files: OutputFile[] } {
  const shards = dirs.map((dir) => ({ dir, manifest: readVerifiedManifest(dir) }));
  const first = shards[0].manifest;
  const nameOf = (s: Shard) => s.manifest.shard ?? s.dir;
  for (const s of shards) {
    const m = s.manifest;
    if (m.version !== first.version || m.commit !== first.commit || m.project !== first.project)
      throw new UserError(
        `Shard ${nameOf(s)} is ${m.project} ${m.version} at ${m.commit.slice(0, 7)}, but shard ${nameOf(shards[0])} is ${first.project} ${first.version} at ${first.commit.slice(0, 7)}: the shards come from different builds. Re-run the whole matrix.`,
      );
  }
  const builtBy = new Map<string, string>();
  for (const s of shards)
    for (const t of s.manifest.targets) {
      if (builtBy.has(t))
        throw new UserError(
          `Target ${t} was built by two shards (${builtBy.get(t)} and ${nameOf(s)}); the matrix overlaps.`,
        );
      builtBy.set(t, nameOf(s));
    }
  if (plannedMatrix) {
    const missing = plannedShards(plannedMatrix).flatMap((s) =>
      s.targets
        .split(',')
        .filter((t) => !builtBy.has(t))
        .map((t) => `${t} (shard ${s.shard})`),
    );
    if (missing.length)
      throw new UserError(
        `The merge is missing ${missing.join(', ')}: that shard's output was not downloaded or the shard failed. Nothing was merged.`,
      );
  }
  const order = [...builtBy.keys()].sort();
  const artifacts = shards
    .flatMap((s) => s.manifest.artifacts)
    .sort((a, b) => order.indexOf(a.target) - order.indexOf(b.target));
  const files = shards.flatMap(({ dir, manifest }) =>
    manifest.artifacts.map((a) => ({
      name: a.path,
      data: readFileSync(joinInside(dir, a.path, `shard ${dir} artifact`)),
    })),
  );
  const manifest: Manifest = {
    schema: 'go-ship/build-manifest@1',
    project: first.project,
    version: first.version,
    commit: first.commit,
    commitTime: first.commitTime,
    targets: order,
    artifacts,
  };
  return { shards, manifest, files };
}

function plannedShards(matrix: string): { shard: string; targets: string }[] {
  try {
    return (JSON.parse(matrix) as { include?: { shard: string; targets: string }[] }).include ?? [];
  } catch {
    throw inputError('matrix', matrix.slice(0, 80), "the plan job's `matrix` output (JSON)");
  }
}

/** The shards' folders: this run's artifacts downloaded (`merge-artifacts`), or folders already there (`merge-from`). */
export async function findShards(
  workspace: string,
  given: { mergeArtifacts: string[]; mergeFrom: string[] },
): Promise<string[]> {
  if (given.mergeArtifacts.length) {
    const globs = given.mergeArtifacts.join(', ');
    if (given.mergeFrom.length)
      throw inputError(
        'merge-artifacts',
        globs,
        'artifact name globs, without merge-from',
        'Give one source of shards: merge-artifacts downloads them, merge-from reads folders already downloaded.',
      );
    if (!(process.env.ACTIONS_RESULTS_URL && process.env.ACTIONS_RUNTIME_TOKEN))
      throw inputError(
        'merge-artifacts',
        globs,
        'artifact name globs on a GitHub Actions runner (ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN are not set here)',
        'Outside GitHub Actions, put the shard folders in place and use merge-from.',
      );
    const into = mkdtempSync(join(process.env.RUNNER_TEMP ?? tmpdir(), 'go-ship-shards-'));
    const got = await log.group('Download shard artifacts', () =>
      downloadArtifacts(given.mergeArtifacts, into),
    );
    for (const a of got) log.info(`  ${a.name} (id ${a.id})`);
    if (!got.length)
      throw inputError(
        'merge-artifacts',
        globs,
        "globs matching this run's artifact names",
        "No artifact of this run matches. Check the shards' upload-artifact names (`true` names them go-ship-build-<shard>).",
      );
    return got.map((a) => a.dir);
  }
  const patterns = given.mergeFrom.length ? given.mergeFrom : ['shards/*'];
  // Relative to the workspace, or absolute, or `../`: shards may be downloaded anywhere.
  const { dirs, missing } = findDirsHolding(workspace, patterns, 'manifest.json');
  if (!dirs.length)
    throw inputError(
      'merge-from',
      patterns.join(', '),
      'globs of directories holding shard outputs (each with manifest.json), relative to working-directory or absolute',
      missing.length
        ? `${missing.map((m) => m.base).join(', ')} does not exist: download every shard's artifact there first (actions/download-artifact with a path per shard), or point merge-from at where they are.`
        : "No directory there holds a manifest.json: download every shard's artifact whole (actions/download-artifact with a path per shard), or let merge-artifacts download them.",
    );
  return dirs;
}

/** Uploads a shard's output-dir (archives, checksums, manifest) as one artifact for the merge job; its id. */
export async function uploadShard(name: string, dir: string): Promise<string> {
  const files = readdirSync(dir).sort();
  const a = await uploadArtifact(name, dir, files);
  log.info(
    `Uploaded artifact ${name} (${files.length} files, ${formatBytes(a.size)}, id ${a.id}, ${a.digest})`,
  );
  return a.id;
}
