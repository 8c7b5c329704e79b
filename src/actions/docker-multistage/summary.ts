import type { PlatformBuild } from '../../oci/dockerfile.js';
import type { BuiltBinary } from '../../oci/from-build.js';
import type { TagDecision } from '../../oci/image-tags.js';
import type { PushedImage } from '../../oci/image.js';
import { sha256 } from '../../runner/digest.js';
import { formatBytes } from '../../runner/log.js';
import { Summary } from '../../runner/summary.js';

/** mode: prebuilt: the images assembled from build-matrix's binaries. */
export function prebuiltSummary(
  name: string,
  pushed: PushedImage,
  decisions: TagDecision[],
  chosen: BuiltBinary[],
  /** push: false: the OCI image layout written instead of a push. */
  layout?: string,
): Summary {
  return imageSummary('docker-multistage', name, pushed.digest, decisions, layout)
    .heading('Platforms', 3)
    .table(
      ['platform', 'binary', 'size', 'binary sha256', 'manifest'],
      chosen.map((c, i) => [
        c.target,
        c.binaryName,
        formatBytes(c.binary.length),
        `\`${sha256(c.binary).slice(0, 12)}…\``,
        `\`${pushed.manifests[i].digest.slice(7, 19)}…\``,
      ]),
    );
}

/** mode: dockerfile: each platform built with BuildKit, and the generated Dockerfile if there was none. */
export function dockerfileSummary(
  name: string,
  digest: string,
  decisions: TagDecision[],
  builds: PlatformBuild[],
  generated?: string,
): Summary {
  const s = imageSummary('docker-multistage (dockerfile)', name, digest, decisions)
    .heading('Platforms', 3)
    .table(
      ['platform', 'manifest', 'build + push'],
      builds.map((b) => [b.platform, `\`${b.descriptor.digest.slice(7, 19)}…\``, `${b.seconds.toFixed(1)}s`]),
    );
  if (generated) s.details('Generated Dockerfile', new Summary().code(generated, 'dockerfile').toString());
  return s;
}

/**
 * The opening both modes share: the pushed reference (or, with push: false, the layout written and
 * "not pushed") and each tag rule with why it did (not) apply.
 */
function imageSummary(
  title: string,
  name: string,
  digest: string,
  decisions: TagDecision[],
  layout?: string,
): Summary {
  return new Summary()
    .heading(`${title}: ${name}${layout ? ' (not pushed)' : ''}`)
    .paragraph(
      layout
        ? `push: false — nothing was pushed to the registry. OCI image layout: \`${layout}\`, index \`${digest}\`; the tags below are in the layout only (\`skopeo copy oci:${layout}:TAG docker://...\` pushes one).`
        : `\`${name}@${digest}\``,
    )
    .heading('Tags', 3)
    .table(
      ['rule', 'tag', 'why'],
      decisions.map((d) => [d.rule, d.tag ? `\`${d.tag}\`` : '—', d.why]),
    );
}
