import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '../runner/digest.js';
import { statementOf } from '../crossbuild/provenance.js';
import { cycloneDx, readBuildInfo } from '../crossbuild/sbom.js';
import type { BuiltBinary } from './from-build.js';
import { MEDIA, type Registry } from './registry.js';
import { ARTIFACT_TYPES, attachReferrer } from './referrers.js';

export interface ImageAttestations {
  /** Per platform image: the SBOM artifact's digest. */
  sboms: { platform: string; image: string; digest: string }[];
  /** The provenance artifact's digest (its subject is the index). */
  provenance?: string;
}

/**
 * SBOMs and provenance attached to a pushed image as OCI artifacts that refer to it: a CycloneDX
 * SBOM per platform image, made from that image's binary's own build information (the same
 * document build-matrix writes beside an archive), and one SLSA provenance statement whose subjects
 * are the index and every platform image. Both are readable back by digest (referrers.ts).
 */
export async function attestImage(
  registry: Registry,
  repo: string,
  name: string,
  pushed: {
    digest: string;
    manifests: {
      platform: { os: string; architecture: string; variant?: string };
      digest: string;
      size: number;
    }[];
  },
  opts: {
    created: number;
    sbom?: { binaries: BuiltBinary[]; version: string; commitTime: number };
    provenance?: { commit: string; workspace: string; startedAt: Date; parameters: Record<string, unknown> };
  },
): Promise<ImageAttestations> {
  // The commit time, as the image's own `created`: a re-run attaches the same SBOM bytes, not a copy.
  const created = { 'org.opencontainers.image.created': new Date(opts.created * 1000).toISOString() };
  const out: ImageAttestations = { sboms: [] };
  if (opts.sbom) {
    const scratch = mkdtempSync(join(process.env.RUNNER_TEMP ?? tmpdir(), 'go-ship-sbom-'));
    try {
      for (const [i, m] of pushed.manifests.entries()) {
        const b = opts.sbom.binaries[i];
        const file = join(scratch, `${i}-${b.binaryName}`);
        writeFileSync(file, b.binary);
        const info = await readBuildInfo(file);
        const image = `${name}@${m.digest}`;
        const doc = cycloneDx(
          {
            file: { name: image, sha256: m.digest.replace(/^sha256:/, '') },
            binaries: [{ name: b.binaryName, sha256: sha256(b.binary), info }],
          },
          { project: b.binaryName, version: opts.sbom.version, commitTime: opts.sbom.commitTime },
        );
        const subject = { mediaType: MEDIA.manifest, digest: m.digest, size: m.size };
        const r = await attachReferrer(registry, repo, subject, ARTIFACT_TYPES.sbom, doc, created);
        const p = m.platform;
        out.sboms.push({
          platform: [p.os, p.architecture, p.variant].filter(Boolean).join('/'),
          image,
          digest: r.digest,
        });
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  if (opts.provenance) {
    const index = await registry.getManifest(repo, pushed.digest);
    const subjects = [
      { name, sha256: pushed.digest.replace(/^sha256:/, '') },
      ...pushed.manifests.map((m) => ({ name, sha256: m.digest.replace(/^sha256:/, '') })),
    ];
    const { commit, workspace, startedAt, parameters } = opts.provenance;
    const statement = await statementOf(
      subjects,
      { step: 'docker-multistage', parameters: { dockerMultistage: parameters } },
      { commit, workspace },
      startedAt,
    );
    const subject = {
      mediaType: index?.mediaType || MEDIA.index,
      digest: pushed.digest,
      size: index?.body.length ?? 0,
    };
    out.provenance = (
      await attachReferrer(registry, repo, subject, ARTIFACT_TYPES.provenance, statement, created)
    ).digest;
  }
  return out;
}
