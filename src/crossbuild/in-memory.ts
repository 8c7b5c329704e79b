import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { distList, parseTargets } from '../go/targets.js';
import { inBackground } from '../runner/command.js';
import { UserError } from '../runner/errors.js';
import { log } from '../runner/log.js';
import type { ShippedBinary } from './binaries.js';
import { type BuildSpec, buildAll, builtLine, failureDetails, resolvePackages } from './build.js';
import { readSource } from './source.js';

/**
 * Binaries built in this step and kept in memory, as ko builds them: `go build` of one main package
 * for each of `targets` with build-matrix's flags (-trimpath, -s -w, CGO off, `ldflags` as its
 * template), no archive, checksums file or manifest: those are a release's, and build-matrix writes
 * them when a release needs them. docker-multistage's mode: go uses it.
 */
export async function buildBinaries(
  workspace: string,
  opts: {
    pkg: string;
    targets: string[];
    /** The input the targets came from, for errors. */
    targetsInput?: string;
    binary?: string;
    version?: string;
    ldflags: string;
    /** Told what is known before go build starts, so a caller can ask the network meanwhile. */
    beforeBuild?: (known: { commit: string; commitTime: number; binaryName: string }) => void;
  },
): Promise<{ commit: string; commitTime: number; version: string; chosen: ShippedBinary[] }> {
  // git, `go list` and `go tool dist list` at once; the answers taken in turn so errors keep their order.
  const srcP = inBackground(readSource(workspace, { version: opts.version }));
  const distP = inBackground(distList());
  const packagesP = inBackground(resolvePackages(workspace, [opts.pkg], opts.binary));
  const src = await srcP;
  const targets = parseTargets(opts.targets, await distP, opts.targetsInput);
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
  const scratch = mkdtempSync(join(process.env.RUNNER_TEMP ?? tmpdir(), 'go-ship-build-'));
  try {
    const { built, failed } = await buildAll(
      spec,
      targets,
      scratch,
      availableParallelism(),
      (r, done, total) => {
        if ('sha256' in r) log.info(builtLine(r, done, total));
      },
    );
    if (failed.length)
      throw new UserError(
        `go build failed for ${failed.map((f) => f.target.name).join(', ')}; nothing was made of it.\n${failureDetails(failed, 2)}`,
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
