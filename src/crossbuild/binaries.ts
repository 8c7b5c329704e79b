import { readFileSync } from 'node:fs';
import { readTarGz } from '../archive/archive.js';
import { sha256 } from '../runner/digest.js';
import { UserError, inputError } from '../runner/errors.js';
import { joinInside } from '../runner/paths.js';
import { type Artifact, type Manifest, readVerifiedManifest, releaseFiles } from './manifest.js';

/** One binary build-matrix built, out of its archive, its bytes checked against the manifest. */
export interface ShippedBinary {
  /** `linux/amd64`, as `go tool dist list` names it. */
  target: string;
  artifact: Artifact;
  binaryName: string;
  binary: Buffer;
}

/**
 * The binaries in build-matrix's output-dir `from` for the targets `wanted` keeps: each taken out
 * of its archive (tar.gz) or read bare, and checked against the verified manifest (the archive's
 * sha256 when the manifest is read, then the binary's own). `binary` picks one when the archives
 * hold several. Used by docker-multistage (images) and the hosts deploy target (servers).
 */
export function shippedBinaries(
  from: string,
  opts: { binary?: string; wanted: (target: string) => boolean },
): { manifest: Manifest; binaries: ShippedBinary[] } {
  const manifest = readVerifiedManifest(from);
  const binaries: ShippedBinary[] = [];
  for (const a of releaseFiles(manifest.artifacts).filter((x) => opts.wanted(x.target))) {
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
        'The archives hold several binaries; name the one to ship.',
      );
    if (a.kind === 'archive' && !/\.(tar\.gz|tgz)$/.test(a.path))
      throw new UserError(
        `${a.path} is not a tar.gz; go-ship takes binaries out of build-matrix's tar.gz archives (or bare binaries). Build these targets as tar.gz (in a .goreleaser.yaml: a format_overrides entry).`,
      );
    const data = readFileSync(joinInside(from, a.path, `${from}/manifest.json artifact path`));
    const binary = a.kind === 'binary' ? data : readTarGz(data).find((f) => f.name === name)?.data;
    if (!binary || sha256(binary) !== entry.sha256)
      throw new UserError(
        `${a.path} does not hold the ${name} that build-matrix recorded (sha256 ${entry.sha256.slice(0, 12)}…); rebuild.`,
      );
    binaries.push({ target: a.target, artifact: a, binaryName: name, binary });
  }
  return { manifest, binaries };
}
