import { type ShippedBinary, shippedBinaries } from '../crossbuild/binaries.js';
import { buildBinaries } from '../crossbuild/in-memory.js';
import { UserError, inputError } from '../runner/errors.js';
import { type AppImage, caBundle, platformOf, readBaseImage } from './image.js';
import { type ImageRef, Registry } from './registry.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** A linux binary build-matrix built, taken out of its archive and checked. */
export type BuiltBinary = ShippedBinary;

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
  const { manifest, binaries: available } = shippedBinaries(from, {
    binary: opts.binary,
    wanted: (t) => t.startsWith('linux/'),
  });
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
 * mode: go: the image's binaries built in this step, as ko builds them (`buildBinaries`: build-matrix's
 * flags, in memory, no archives), for linux platforms only (default linux/amd64 and linux/arm64).
 */
export function goBuildBinaries(
  workspace: string,
  opts: Omit<Parameters<typeof buildBinaries>[1], 'targets'> & { platforms: string[] },
): ReturnType<typeof buildBinaries> {
  const platforms = opts.platforms.length ? opts.platforms : ['linux/amd64', 'linux/arm64'];
  const notLinux = platforms.filter((p) => !p.startsWith('linux/'));
  if (notLinux.length)
    throw inputError(
      'platforms',
      notLinux.join(', '),
      'linux platforms (e.g. linux/amd64,linux/arm64)',
      'An image runs a Linux binary; build other systems with build-matrix.',
    );
  return buildBinaries(workspace, { ...opts, targets: platforms, targetsInput: 'platforms' });
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
