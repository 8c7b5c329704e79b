import { type ShippedBinary, shippedBinaries } from '../crossbuild/binaries.js';
import { type BuildSpec, buildAll, resolvePackages } from '../crossbuild/build.js';
import { readSource } from '../crossbuild/source.js';
import { distList, parseTargets } from '../go/targets.js';
import { UserError, inputError } from '../runner/errors.js';
import { formatBytes, formatDuration, log } from '../runner/log.js';
import { type AppImage, caBundle, platformOf, readBaseImage } from './image.js';
import { type ImageRef, Registry } from './registry.js';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
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
 * mode: go: the image's binaries built in this step, as ko builds them: `go build` of one main
 * package per linux platform with build-matrix's flags (-trimpath, -s -w, CGO off, its -X ldflags by
 * default), kept in memory. No archive, checksums file or manifest is written: those are a
 * release's, and build-matrix writes them when a release needs them.
 */
export async function goBuildBinaries(
  workspace: string,
  opts: {
    pkg: string;
    platforms: string[];
    binary?: string;
    version?: string;
    ldflags: string;
    /** Told what is known before go build starts, so the image's plan (tags, registry) is made meanwhile. */
    beforeBuild?: (known: { commit: string; commitTime: number; binaryName: string }) => void;
  },
): Promise<{ commit: string; commitTime: number; version: string; chosen: BuiltBinary[] }> {
  const platforms = opts.platforms.length ? opts.platforms : ['linux/amd64', 'linux/arm64'];
  const notLinux = platforms.filter((p) => !p.startsWith('linux/'));
  if (notLinux.length)
    throw inputError(
      'platforms',
      notLinux.join(', '),
      'linux platforms (e.g. linux/amd64,linux/arm64)',
      'An image runs a Linux binary; build other systems with build-matrix.',
    );
  // git, `go list` and `go tool dist list` at once; the answers taken in turn so errors keep their order.
  const started = <T>(p: Promise<T>) => (p.catch(() => undefined), p);
  const srcP = started(readSource(workspace, { version: opts.version }));
  const distP = started(distList());
  const packagesP = started(resolvePackages(workspace, [opts.pkg], opts.binary));
  const src = await srcP;
  const targets = parseTargets(platforms, await distP, 'platforms');
  const spec: BuildSpec = {
    ...src,
    dir: workspace,
    packages: await packagesP,
    shortCommit: src.shortCommit ?? '',
    ldflags: opts.ldflags,
    tags: [],
    env: {},
    cgo: false,
    trimpath: true,
    strip: true,
    singleTarget: targets.length === 1,
  };
  opts.beforeBuild?.({ commit: src.commit, commitTime: src.commitTime, binaryName: spec.packages[0].binary });
  const scratch = mkdtempSync(join(process.env.RUNNER_TEMP ?? tmpdir(), 'go-ship-image-build-'));
  try {
    const { built, failed } = await buildAll(
      spec,
      targets,
      scratch,
      availableParallelism(),
      (r, done, total) => {
        if ('sha256' in r)
          log.info(
            `[${done}/${total}] ✓ ${r.target.name} ${r.name} ${formatBytes(r.size)} in ${formatDuration(r.ms)}`,
          );
      },
    );
    if (failed.length)
      throw new UserError(
        `go build failed for ${failed.map((f) => f.target.name).join(', ')}; nothing was pushed.\n${failed
          .slice(0, 2)
          .map((f) => `--- ${f.target.name}: ${f.command}\n${f.output.split('\n').slice(0, 15).join('\n')}`)
          .join('\n')}`,
      );
    const chosen = targets.map((t) => {
      const b = built.find((x) => x.target.name === t.name)!;
      const entry = { name: b.name, sha256: b.sha256, size: b.size };
      return {
        target: t.name,
        binaryName: b.name,
        binary: readFileSync(b.file),
        artifact: { target: t.name, kind: 'binary' as const, path: b.name, ...entry, binaries: [entry] },
      };
    });
    return { commit: src.commit, commitTime: src.commitTime, version: spec.version, chosen };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
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
