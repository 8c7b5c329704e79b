import { joinInside } from '../runner/paths.js';
import { runCommand } from '../runner/command.js';
import { UserError, inputError } from '../runner/errors.js';
import type { BuildFlags } from './build.js';
import { type ChecksumSpec, type Manifest, checksumsText, releaseFiles } from './manifest.js';
import { provenanceName, provenanceStatement } from './provenance.js';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** A file of the output: an archive, or a bare binary (`archive: none`). */
export interface OutputFile {
  name: string;
  data: Buffer;
}

/**
 * The output directory (`output-dir`) must be writable, and either new or a previous go-ship
 * output (which is replaced), and outside the directories a merge reads from.
 */
export function checkOutputDir(dir: string, readsFrom: string[] = []): void {
  if (existsSync(dir) && readsFrom.some((d) => resolve(d).startsWith(resolve(dir) + '/')))
    throw inputError('output-dir', dir, 'a directory outside the shard directories');
  if (existsSync(dir)) {
    const entries = readdirSync(dir);
    if (entries.length && !entries.includes('manifest.json'))
      throw inputError(
        'output-dir',
        dir,
        'a new directory or one that build-matrix wrote before',
        'It is not empty; choose another directory or empty it.',
      );
    accessSync(dir, constants.W_OK);
    return;
  }
  let parent = dirname(dir);
  while (!existsSync(parent)) parent = dirname(parent);
  if (!statSync(parent).isDirectory())
    throw inputError('output-dir', dir, 'a directory this job can write', `${parent} is a file.`);
  try {
    accessSync(parent, constants.W_OK);
  } catch {
    throw inputError('output-dir', dir, 'a directory this job can write', `${parent} is not writable.`);
  }
}

/** GoReleaser's default checksums file: `{{ .ProjectName }}_{{ .Version }}_checksums.txt`, sha256. */
export const defaultChecksums = (m: Pick<Manifest, 'project' | 'version'>): ChecksumSpec => ({
  name: `${m.project}_${m.version}_checksums.txt`,
  algorithm: 'sha256',
});

/**
 * Replaces the output directory's contents in one go: files, checksums (when asked), manifest.
 * Returns the checksums file's path. After a failure nothing is left there.
 */
export function writeOutput(
  dir: string,
  manifest: Manifest,
  files: OutputFile[],
  checksums: ChecksumSpec | false,
): string | undefined {
  try {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    // Bare binaries (archive: none) must run as they are; a shard's artifact download loses modes.
    const executable = new Set(manifest.artifacts.filter((a) => a.kind === 'binary').map((a) => a.path));
    for (const f of files)
      writeFileSync(joinInside(dir, f.name, 'An output file name'), f.data, {
        mode: executable.has(f.name) ? 0o755 : 0o644,
      });
    let checksumsFile: string | undefined;
    if (checksums) {
      checksumsFile = joinInside(dir, checksums.name, 'The checksums file name');
      const bytes = new Map(files.map((f) => [f.name, f.data]));
      writeFileSync(checksumsFile, checksumsText(manifest.artifacts, checksums.algorithm, bytes));
    }
    writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    return checksumsFile;
  } catch (e) {
    // A full disk or a vanished directory: leave no half-written output behind.
    rmSync(dir, { recursive: true, force: true });
    if (e instanceof UserError) throw e;
    throw new UserError(
      `Writing ${dir} failed (${(e as Error).message}); nothing was left there. Free disk space or choose another output-dir.`,
    );
  }
}

/**
 * A warning when the output directory sits untracked in the checkout: the next build's binaries
 * would record `vcs.modified=true`.
 */
export async function dirtyingWarning(workspace: string, outputDir: string): Promise<string | undefined> {
  const top = await runCommand('git', ['rev-parse', '--show-toplevel'], { cwd: workspace, check: false });
  if (top.code !== 0) return undefined;
  // git's top is a real path; the workspace may be reached through a symlink.
  const real = join(realpathSync(workspace), relative(workspace, outputDir));
  const rel = relative(top.stdout.trim(), real);
  if (rel.startsWith('..')) return undefined;
  const ignored = await runCommand('git', ['check-ignore', '-q', `${rel}/`], {
    cwd: top.stdout.trim(),
    check: false,
  });
  if (ignored.code === 0) return undefined;
  return `output-dir ${rel} is inside the checkout and not in .gitignore: after this run, the next build's binaries record vcs.modified=true. Add \`/${rel}/\` to .gitignore.`;
}

/** build-matrix's outputs for a written output directory: archives, SBOMs, checksums, version, manifest. */
export function outputsOf(
  dir: string,
  manifest: Manifest,
  checksumsFile: string | undefined,
): Record<string, string> {
  return {
    artifacts: JSON.stringify(
      releaseFiles(manifest.artifacts).map((a) => ({
        target: a.target,
        path: joinInside(dir, a.path, 'A manifest artifact path'),
        sha256: a.sha256,
        size: a.size,
      })),
    ),
    sboms: JSON.stringify(
      manifest.artifacts
        .filter((a) => a.kind === 'sbom')
        .map((a) => ({
          describes: a.describes,
          path: joinInside(dir, a.path, 'A manifest artifact path'),
          sha256: a.sha256,
        })),
    ),
    'checksums-file': checksumsFile ?? '',
    version: manifest.version,
    manifest: join(dir, 'manifest.json'),
  };
}

/**
 * `provenance`: the SLSA provenance statement of the release files (archives and SBOMs) beside them.
 * Returns its name in `dir`, as a one-element list to add to the files signed and attached.
 */
export async function writeProvenance(
  dir: string,
  manifest: Manifest,
  build: BuildFlags & { targets: string[]; workspace: string; startedAt: Date },
): Promise<string[]> {
  const name = provenanceName(manifest.project, manifest.version);
  const data = await provenanceStatement(
    manifest.artifacts.map((a) => ({ name: a.path, sha256: a.sha256 })),
    { ...build, targets: manifest.targets, version: manifest.version, commit: manifest.commit },
    build.startedAt,
  );
  writeFileSync(join(dir, name), data);
  return [name];
}
