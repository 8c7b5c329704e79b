import { UserError } from '../runner/errors.js';
import type { Descriptor } from './image.js';
import { MEDIA, type Registry, digestOf } from './registry.js';

/** The artifact types go-ship attaches to images (what `oras discover` and cosign show). */
export const ARTIFACT_TYPES = {
  sbom: 'application/vnd.cyclonedx+json',
  provenance: 'application/vnd.in-toto+json',
} as const;

/** OCI 1.1's empty config for artifacts that are not images. */
const EMPTY = { mediaType: 'application/vnd.oci.empty.v1+json', data: Buffer.from('{}') };

export interface Referrer extends Descriptor {
  artifactType: string;
}

/**
 * Attaches a document (an SBOM, a provenance statement) to an image as an OCI 1.1 artifact whose
 * `subject` is the image: its blob, the empty config, then a manifest naming both. A registry that
 * indexes `subject` itself answers `OCI-Subject`; for one that does not (distribution 2.x, many
 * mirrors), go-ship keeps the referrers tag `sha256-<hex>` the distribution spec defines as the
 * fallback, so `oras discover` and cosign find the artifact on either kind.
 */
export async function attachReferrer(
  registry: Registry,
  repo: string,
  subject: Descriptor,
  artifactType: string,
  data: Buffer,
  annotations: Record<string, string>,
): Promise<Referrer> {
  const layer = { mediaType: artifactType, digest: digestOf(data), size: data.length };
  const config = { mediaType: EMPTY.mediaType, digest: digestOf(EMPTY.data), size: EMPTY.data.length };
  await registry.putBlob(repo, EMPTY.data, config.digest);
  await registry.putBlob(repo, data, layer.digest);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      artifactType,
      config,
      layers: [layer],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations,
    }),
  );
  const digest = digestOf(manifest);
  const put = await registry.putManifestOf(repo, digest, manifest, MEDIA.manifest);
  const referrer: Referrer = {
    mediaType: MEDIA.manifest,
    digest,
    size: manifest.length,
    artifactType,
    annotations,
  };
  if (!put.subjectIndexed) await addToReferrersTag(registry, repo, subject.digest, referrer);
  return referrer;
}

/** The fallback tag of a digest: `sha256:abc…` → `sha256-abc…`. */
export const referrersTag = (digest: string) => digest.replace(':', '-');

async function addToReferrersTag(registry: Registry, repo: string, subject: string, referrer: Referrer) {
  const tag = referrersTag(subject);
  const existing = await registry.getManifest(repo, tag);
  let manifests: Record<string, unknown>[] = [];
  if (existing) {
    const index = JSON.parse(existing.body.toString('utf8')) as { mediaType?: string; manifests?: unknown };
    if (index.mediaType !== MEDIA.index || !Array.isArray(index.manifests))
      throw new UserError(
        `${repo}:${tag} exists and is not a referrers index; the referrers tag of ${subject.slice(0, 19)}… is taken by something else.`,
      );
    manifests = index.manifests as Record<string, unknown>[];
  }
  if (manifests.some((m) => m.digest === referrer.digest)) return;
  const body = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.index, manifests: [...manifests, referrer] }),
  );
  await registry.putManifest(repo, tag, body, MEDIA.index);
}

/**
 * The artifacts that refer to `digest`: the registry's referrers API when it has one, else the
 * referrers tag. Filtered by artifact type when given.
 */
export async function listReferrers(
  registry: Registry,
  repo: string,
  digest: string,
  artifactType?: string,
): Promise<Referrer[]> {
  let manifests = await registry.referrersApi(repo, digest);
  if (!manifests) {
    const tagged = await registry.getManifest(repo, referrersTag(digest));
    manifests = tagged
      ? ((JSON.parse(tagged.body.toString('utf8')) as { manifests?: Record<string, unknown>[] }).manifests ??
        [])
      : [];
  }
  return (manifests as unknown as Referrer[]).filter((m) => !artifactType || m.artifactType === artifactType);
}

/** A referrer's document, read by digest and checked (manifest, then its one layer). */
export async function readReferrer(registry: Registry, repo: string, referrer: Referrer): Promise<Buffer> {
  const m = await registry.getManifest(repo, referrer.digest);
  if (!m || digestOf(m.body) !== referrer.digest)
    throw new UserError(`${repo}@${referrer.digest.slice(0, 19)}… is missing or altered in the registry.`);
  const manifest = JSON.parse(m.body.toString('utf8')) as { layers: Descriptor[] };
  return registry.getBlob(repo, manifest.layers[0].digest);
}
