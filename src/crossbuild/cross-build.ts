import type { Target } from '../go/targets.js';
import { UserError } from '../runner/errors.js';
import { formatDuration, log } from '../runner/log.js';
import * as workflow from '../runner/workflow.js';
import {
  type BuildFailure,
  type BuildSpec,
  type BuiltBinary,
  buildAll,
  builtLine,
  failureDetails,
  packagesFor,
} from './build.js';
import { sha256 } from '../runner/digest.js';
import { type ArchiveNaming, type Artifact, packageTarget } from './manifest.js';
import { cycloneDx, readBuildInfo, sbomName } from './sbom.js';
import { type Reach, type VulnFinding, scanBinaries, vulnGate } from './vulncheck.js';
import type { OutputFile } from './output.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CrossBuild {
  built: BuiltBinary[];
  artifacts: Artifact[];
  files: OutputFile[];
  /** Wall time of the builds, ms. */
  wall: number;
  /** With vulncheck: what govulncheck found (below the gate's level, or the gate failed). */
  vulnerabilities?: VulnFinding[];
}

/**
 * Builds every package for every target, `parallelism` at a time, and archives a target as soon as
 * its last binary is built while other targets still build. One failed build fails the whole run
 * and nothing is returned; the error shows the first failures' output.
 */
export async function crossBuild(
  spec: BuildSpec,
  targets: Target[],
  opts: {
    parallelism: number;
    archive: ArchiveNaming;
    project: string;
    extras: OutputFile[];
    verifyReproducible: boolean;
    /** Write a CycloneDX SBOM beside each archive (from the binaries' build information). */
    sbom: boolean;
    /** Scan the binaries with govulncheck and fail at or above `failOn` (before anything is written). */
    vulncheck?: { db: string; failOn: Reach };
    /** Named in the failure message: nothing is written there after a failed build. */
    outputDir: string;
  },
): Promise<CrossBuild> {
  const perTarget = (t: Target) => packagesFor(spec.packages, t).length;
  // Binaries are built outside the checkout: a new file in the work tree would mark the next
  // binary's VCS stamp as modified.
  const scratch = mkdtempSync(join(process.env.RUNNER_TEMP ?? tmpdir(), 'go-ship-build-'));
  try {
    const ready = new Map<Target, BuiltBinary[]>();
    // The bytes of binaries whose target is not archived yet (the build read them to hash them).
    const bytes = new Map<BuiltBinary, Buffer>();
    const archiving = new Map<Target, ReturnType<typeof packageTarget>>();
    const started = Date.now();
    const total = targets.reduce((n, t) => n + perTarget(t), 0);
    let finished = 0;
    const stopBeat = log.heartbeat(
      5_000,
      () =>
        `  … ${finished} of ${total} built, ${formatDuration(Date.now() - started)} so far${finished ? '' : ' (a cold build cache compiles the standard library for each target first)'}`,
    );
    const { built, failed } = await buildAll(
      spec,
      targets,
      scratch,
      opts.parallelism,
      (r, done, _total, data) => {
        finished = done;
        progress(r, done, total);
        if (!('sha256' in r)) return;
        bytes.set(r, data!); // buildAll hands on the bytes of every binary it built
        const bins = [...(ready.get(r.target) ?? []), r];
        ready.set(r.target, bins);
        if (bins.length === perTarget(r.target)) {
          const p = packageTarget(
            bins.sort((a, b) => a.name.localeCompare(b.name)),
            opts.extras,
            opts.archive,
            spec.commitTime,
            (b) => bytes.get(b)!,
          );
          for (const b of bins) bytes.delete(b);
          p.catch(() => {}); // awaited below; a failed build discards it
          archiving.set(r.target, p);
        }
      },
    ).finally(stopBeat);
    const wall = Date.now() - started;
    if (failed.length)
      throw new UserError(
        `${failed.length} of ${total} builds failed: ${failed.map((f) => `${f.target.name} (${f.pkg.binary})`).join(', ')}. Nothing was written to ${opts.outputDir}.\n${failureDetails(failed, 3)}`,
      );
    if (opts.verifyReproducible) await verifyReproducible(spec, built[0], scratch);
    const vulnerabilities = opts.vulncheck
      ? await scanBinaries(
          built.map((b) => ({ file: b.file, label: `${b.target.name} ${b.name}` })),
          opts.vulncheck.db,
        )
      : undefined;
    const gate = vulnerabilities && vulnGate(vulnerabilities, opts.vulncheck!.failOn);
    if (gate) throw gate;
    const packaged = await Promise.all(targets.map((t) => archiving.get(t)!));
    const sboms = opts.sbom
      ? await Promise.all(
          targets.map((t, i) =>
            sbomOf(packaged[i].artifact, ready.get(t)!, { ...spec, project: opts.project }),
          ),
        )
      : [];
    return {
      built,
      // Each target's archive, then its SBOM.
      artifacts: packaged.flatMap((p, i) => [p.artifact, ...(sboms[i] ? [sboms[i].artifact] : [])]),
      files: packaged.flatMap((p, i) => [...p.files, ...(sboms[i] ? [sboms[i].file] : [])]),
      wall,
      vulnerabilities,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function progress(r: BuiltBinary | BuildFailure, done: number, total: number): void {
  const tag = `[${done}/${total}]`;
  if ('sha256' in r) log.info(builtLine(r, done, total));
  else {
    log.info(`${tag} ✗ ${r.target.name} ${r.pkg.binary} failed`);
    workflow.error(`${r.target.name}: ${r.output.split('\n').slice(0, 10).join('\n')}`, {
      title: `go build ${r.target.name}`,
    });
  }
}

/**
 * Builds the first binary again with an empty build cache in another directory and compares the
 * bytes: a difference means something outside the source (a path, a time) leaked into the build.
 */
async function verifyReproducible(spec: BuildSpec, first: BuiltBinary, scratch: string): Promise<void> {
  const dir = join(scratch, 'reproduce');
  const cache = mkdtempSync(join(tmpdir(), 'go-ship-gocache-'));
  log.info(`verify-reproducible: rebuilding ${first.target.name} ${first.name} with an empty build cache`);
  const again = await buildAll(
    { ...spec, env: { ...spec.env, GOCACHE: cache } },
    [first.target],
    dir,
    1,
    () => {},
  ).finally(() => rmSync(cache, { recursive: true, force: true }));
  if (again.failed.length)
    throw new UserError(
      `verify-reproducible: the rebuild of ${first.target.name} failed:\n${again.failed[0].output}`,
    );
  const b = again.built.find((x) => x.name === first.name)!;
  if (b.sha256 !== first.sha256)
    throw new UserError(
      `verify-reproducible: ${first.target.name} ${first.name} is not reproducible (sha256 ${first.sha256.slice(0, 12)}… then ${b.sha256.slice(0, 12)}…). Compare \`go version -m\` of both; common causes are a missing -trimpath, a time or path in ldflags, or cgo.`,
    );
  log.info(`verify-reproducible: identical (${first.sha256.slice(0, 12)}…)`);
}

/** The SBOM of one archive (or bare binary): its binaries' build information, read before the scratch goes. */
async function sbomOf(
  artifact: Artifact,
  bins: BuiltBinary[],
  meta: { project: string; version: string; commitTime: number },
): Promise<{ artifact: Artifact; file: OutputFile }> {
  const binaries = await Promise.all(
    bins.map(async (b) => ({ name: b.name, sha256: b.sha256, info: await readBuildInfo(b.file) })),
  );
  const data = cycloneDx({ file: { name: artifact.path, sha256: artifact.sha256 }, binaries }, meta);
  const name = sbomName(artifact.path);
  return {
    artifact: {
      target: artifact.target,
      kind: 'sbom',
      describes: artifact.path,
      path: name,
      sha256: sha256(data),
      size: data.length,
      binaries: [],
    },
    file: { name, data },
  };
}
