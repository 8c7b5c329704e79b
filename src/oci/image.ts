import { gzipBytes, tar, type ArchiveEntry } from '../build/archive.js';
import type { ImageSink } from './layout.js';
import { digestOf, MEDIA } from './registry.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

/** What goes into an image assembled from a prebuilt Go binary (the ko / dockers_v2 way). */
export interface AppImage {
  binaryName: string;
  binary: Buffer;
  platform: Platform;
  /** Unix time for `created` and every file's mtime: the commit time, so rebuilds are identical. */
  created: number;
  labels: Record<string, string>;
  /** CA bundle for TLS from a scratch image (the runner's /etc/ssl/certs/ca-certificates.crt). */
  caCertificates?: Buffer;
}

/** The non-root user distroless and ko use. */
export const NONROOT = { uid: 65532, name: 'nonroot' };

export interface Blob {
  data: Buffer;
  descriptor: Descriptor;
}

/**
 * The one layer of an app image on scratch: the binary at /usr/local/bin/<name> (0755, owned by
 * root, so the app cannot rewrite itself), /etc/passwd and /etc/group with a nonroot user, and the
 * CA bundle when given. Returns the gzipped blob and its diff_id (sha256 of the tar).
 */
export async function appLayer(image: AppImage): Promise<{ blob: Blob; diffId: string }> {
  const dir = (name: string): ArchiveEntry => ({ name, data: Buffer.alloc(0), executable: true, dir: true });
  const file = (name: string, text: string | Buffer): ArchiveEntry => ({
    name,
    data: Buffer.from(text),
    executable: false,
  });
  const entries: ArchiveEntry[] = [
    dir('etc/'),
    file(
      'etc/passwd',
      `root:x:0:0:root:/root:/sbin/nologin\n${NONROOT.name}:x:${NONROOT.uid}:${NONROOT.uid}:${NONROOT.name}:/home/${NONROOT.name}:/sbin/nologin\n`,
    ),
    file('etc/group', `root:x:0:\n${NONROOT.name}:x:${NONROOT.uid}:\n`),
    { ...dir(`home/`) },
    { ...dir(`home/${NONROOT.name}/`), uid: NONROOT.uid, gid: NONROOT.uid },
    dir('tmp/'),
    dir('usr/'),
    dir('usr/local/'),
    dir('usr/local/bin/'),
    { name: `usr/local/bin/${image.binaryName}`, data: image.binary, executable: true },
    ...(image.caCertificates
      ? [
          dir('etc/ssl/'),
          dir('etc/ssl/certs/'),
          file('etc/ssl/certs/ca-certificates.crt', image.caCertificates),
        ]
      : []),
  ];
  const raw = tar(entries, image.created);
  const gz = await gzipBytes(raw);
  return {
    blob: { data: gz, descriptor: { mediaType: MEDIA.layer, digest: digestOf(gz), size: gz.length } },
    diffId: digestOf(raw),
  };
}

const json = (o: unknown) => Buffer.from(JSON.stringify(o));

/** The image config: entrypoint, non-root user, labels, and the layer's diff_id. */
export function imageConfig(image: AppImage, diffIds: string[]): Blob {
  const created = new Date(image.created * 1000).toISOString().replace('.000Z', 'Z');
  const data = json({
    created,
    architecture: image.platform.architecture,
    os: image.platform.os,
    ...(image.platform.variant ? { variant: image.platform.variant } : {}),
    config: {
      User: `${NONROOT.uid}:${NONROOT.uid}`,
      Entrypoint: [`/usr/local/bin/${image.binaryName}`],
      Env: [
        'PATH=/usr/local/bin:/usr/bin:/bin',
        ...(image.caCertificates ? ['SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt'] : []),
      ],
      WorkingDir: '/',
      Labels: image.labels,
    },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [{ created, created_by: `go-ship docker-multistage: ${image.binaryName} on scratch` }],
  });
  return { data, descriptor: { mediaType: MEDIA.config, digest: digestOf(data), size: data.length } };
}

export function imageManifest(
  config: Descriptor,
  layers: Descriptor[],
  annotations: Record<string, string>,
): Blob {
  const data = json({ schemaVersion: 2, mediaType: MEDIA.manifest, config, layers, annotations });
  return { data, descriptor: { mediaType: MEDIA.manifest, digest: digestOf(data), size: data.length } };
}

export function imageIndex(manifests: Descriptor[], annotations: Record<string, string>): Blob {
  const data = json({ schemaVersion: 2, mediaType: MEDIA.index, manifests, annotations });
  return { data, descriptor: { mediaType: MEDIA.index, digest: digestOf(data), size: data.length } };
}

export interface PushedImage {
  /** The index digest (what `image@sha256:...` pins). */
  digest: string;
  manifests: { platform: Platform; digest: string; size: number }[];
  blobs: { uploaded: number; reused: number };
}

/**
 * Assembles one image per platform, pushes blobs and manifests, then the index under every tag.
 * The index is pushed last, so a tag never points at an image whose parts are missing.
 */
export async function pushAppImages(
  registry: ImageSink,
  repository: string,
  images: AppImage[],
  tags: string[],
  annotations: Record<string, string>,
): Promise<PushedImage> {
  const descriptors: Descriptor[] = [];
  const counts = { uploaded: 0, reused: 0 };
  for (const image of images) {
    const { blob: layer, diffId } = await appLayer(image);
    const config = imageConfig(image, [diffId]);
    for (const b of [layer, config]) {
      const r = await registry.putBlob(repository, b.data, b.descriptor.digest);
      counts[r === 'uploaded' ? 'uploaded' : 'reused']++;
    }
    const manifest = imageManifest(config.descriptor, [layer.descriptor], annotations);
    await registry.putManifest(repository, manifest.descriptor.digest, manifest.data, MEDIA.manifest);
    descriptors.push({ ...manifest.descriptor, platform: image.platform });
  }
  const index = imageIndex(descriptors, annotations);
  let digest = index.descriptor.digest;
  for (const tag of tags) digest = await registry.putManifest(repository, tag, index.data, MEDIA.index);
  return {
    digest,
    manifests: descriptors.map((d) => ({ platform: d.platform!, digest: d.digest, size: d.size })),
    blobs: counts,
  };
}
