import { joinInside } from '../runner/paths.js';
import { readTarGz } from '../archive/archive.js';
import { type Artifact, readVerifiedManifest, releaseFiles } from '../crossbuild/manifest.js';
import { sha256 } from '../runner/digest.js';
import { UserError, inputError } from '../runner/errors.js';
import { type AppImage, caBundle, platformOf, readBaseImage } from './image.js';
import { type ImageRef, Registry } from './registry.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A linux binary build-matrix built, taken out of its archive and checked. */
export interface BuiltBinary {
  target: string;
  artifact: Artifact;
  binaryName: string;
  binary: Buffer;
}

/**
 * The binaries an image is made of: build-matrix's linux binaries in `from` (its output-dir), taken
 * out of their archives and checked against its manifest (the archive's sha256, then the binary's
 * own), for the `platforms` asked (all linux targets when empty). `binary` picks one when the
 * archives hold several.
 */
export function imageBinaries(
  from: string,
  opts: { binary?: string; platforms: string[] },
): { commit: string; commitTime: number; version: string; chosen: BuiltBinary[] } {
  if (!existsSync(join(from, 'manifest.json')))
    throw inputError(
      'from',
      from,
      "build-matrix's output-dir (with manifest.json)",
      'Run build-matrix with linux targets before this step, or point `from` at its output-dir.',
    );
  const manifest = readVerifiedManifest(from);
  const available: BuiltBinary[] = [];
  for (const a of releaseFiles(manifest.artifacts).filter((x) => x.target.startsWith('linux/'))) {
    const names = a.binaries.map((b) => b.name);
    const name = opts.binary ?? names[0];
    const entry = a.binaries.find((b) => b.name === name);
    if (!entry)
      throw inputError('binary', name, `one of the binaries build-matrix built: ${names.join(', ')}`);
    if (a.binaries.length > 1 && !opts.binary)
      throw inputError(
        'binary',
        '',
        `one of ${names.join(', ')}`,
        'The archives hold several binaries; name the one this image runs.',
      );
    if (a.kind === 'archive' && !/\.(tar\.gz|tgz)$/.test(a.path))
      throw new UserError(
        `${a.path} is not a tar.gz; docker-multistage takes binaries out of build-matrix's tar.gz archives (or bare binaries). Build the linux targets as tar.gz (in a .goreleaser.yaml: a format_overrides entry for linux).`,
      );
    const data = readFileSync(joinInside(from, a.path, `${from}/manifest.json artifact path`));
    const binary = a.kind === 'binary' ? data : readTarGz(data).find((f) => f.name === name)?.data;
    if (!binary || sha256(binary) !== entry.sha256)
      throw new UserError(
        `${a.path} does not hold the ${name} that build-matrix recorded (sha256 ${entry.sha256.slice(0, 12)}…); rebuild.`,
      );
    available.push({ target: a.target, artifact: a, binaryName: name, binary });
  }
  const wanted = opts.platforms.length ? opts.platforms : available.map((c) => c.target);
  if (!wanted.length)
    throw new UserError(
      `${from} holds no linux binaries; build-matrix needs linux targets (e.g. linux/amd64,linux/arm64) for images.`,
    );
  const missing = wanted.filter((p) => !available.some((c) => c.target === p));
  if (missing.length)
    throw inputError(
      'platforms',
      missing.join(', '),
      `platforms build-matrix built: ${available.map((c) => c.target).join(', ') || 'none'}`,
      'Add the targets to build-matrix, or drop them here.',
    );
  return {
    commit: manifest.commit,
    commitTime: manifest.commitTime,
    version: manifest.version,
    chosen: wanted.map((p) => available.find((c) => c.target === p)!),
  };
}

/**
 * The images to assemble, one per binary: on scratch (with a CA bundle), or on `base` read from its
 * registry for each platform (`registry` when it is the same host, so its credentials apply).
 */
export async function appImages(
  chosen: BuiltBinary[],
  created: number,
  labels: Record<string, string>,
  base: { ref?: ImageRef; registry: Registry },
): Promise<AppImage[]> {
  const ref = base.ref;
  const baseRegistry =
    ref && (ref.registry === base.registry.host ? base.registry : new Registry(ref.registry));
  const ca = caBundle();
  const images: AppImage[] = [];
  for (const c of chosen) {
    const platform = platformOf(c.target);
    images.push({
      binaryName: c.binaryName,
      binary: c.binary,
      platform,
      created,
      labels,
      caCertificates: ca,
      base: ref
        ? await readBaseImage(baseRegistry!, ref.repository, ref.tag ?? 'latest', platform)
        : undefined,
    });
  }
  return images;
}
