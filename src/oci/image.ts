import { rootCertificates } from 'node:tls';
import { gzipLayer, tar, type ArchiveEntry } from '../archive/archive.js';
import { UserError } from '../runner/errors.js';
import type { ImageSink } from './layout.js';
import { digestOf, MEDIA } from './registry.js';

/**
 * The CA certificates a scratch image gets: Node's bundled Mozilla store as one PEM file. The same
 * bytes on every runner (they change only with the Node release), so the image digest does not
 * depend on the runner's distribution, its /etc/ssl, SSL_CERT_FILE or NODE_EXTRA_CA_CERTS; macOS
 * and Windows runners, which have no such file, get the same certificates as Linux.
 */
export function caBundle(): Buffer {
  return Buffer.from(`${rootCertificates.join('\n')}\n`);
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** `linux/arm/7` → {os: linux, architecture: arm, variant: v7}; amd64 microarchitecture levels are not OCI variants. */
export function platformOf(target: string): Platform {
  const [os, architecture, variant] = target.split('/');
  if (architecture === 'arm' && variant) return { os, architecture, variant: `v${variant}` };
  if (architecture === 'arm64') return { os, architecture, variant: 'v8' };
  return { os, architecture };
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
  /** CA bundle for TLS from a scratch image (`caBundle()`). */
  caCertificates?: Buffer;
  /** The base image's layers and config for this platform; scratch when absent. */
  base?: BaseImage;
}

/** A base image for one platform, as read from its registry. */
export interface BaseImage {
  registry: ImageSource;
  repository: string;
  config: Record<string, unknown>;
  layers: Descriptor[];
}

/** What reading a base image needs: Registry has it. */
export interface ImageSource {
  readonly host: string;
  getManifest(
    repo: string,
    ref: string,
  ): Promise<{ body: Buffer; mediaType: string; digest: string } | undefined>;
  getBlob(repo: string, digest: string): Promise<Buffer>;
}

/**
 * The base image's manifest for a platform (from an index, or a single manifest that matches) and
 * its config. An image without that platform is an error naming the platforms it has.
 */
export async function readBaseImage(
  source: ImageSource,
  repository: string,
  ref: string,
  platform: Platform,
): Promise<BaseImage> {
  const top = await source.getManifest(repository, ref);
  if (!top) throw new UserError(`The base image ${source.host}/${repository}:${ref} does not exist.`);
  let manifest = JSON.parse(top.body.toString('utf8')) as {
    manifests?: Descriptor[];
    config: Descriptor;
    layers: Descriptor[];
  };
  if (manifest.manifests) {
    const entry = manifest.manifests.find(
      (m) =>
        m.platform?.os === platform.os &&
        m.platform?.architecture === platform.architecture &&
        (!platform.variant || !m.platform?.variant || m.platform.variant === platform.variant),
    );
    if (!entry)
      throw new UserError(
        `The base image ${source.host}/${repository}:${ref} has no ${platform.os}/${platform.architecture}; it has ${manifest.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).join(', ')}.`,
      );
    manifest = JSON.parse(
      (await source.getManifest(repository, entry.digest))!.body.toString('utf8'),
    ) as typeof manifest;
  }
  const config = JSON.parse(
    (await source.getBlob(repository, manifest.config.digest)).toString('utf8'),
  ) as Record<string, unknown>;
  if (config.architecture !== platform.architecture || config.os !== platform.os)
    throw new UserError(
      `The base image ${source.host}/${repository}:${ref} is ${String(config.os)}/${String(config.architecture)}, not ${platform.os}/${platform.architecture}.`,
    );
  return { registry: source, repository, config, layers: manifest.layers };
}

/** The non-root user distroless and ko use. */
const NONROOT = { uid: 65532, name: 'nonroot' };

export interface Blob {
  data: Buffer;
  descriptor: Descriptor;
}

/**
 * The one layer of an app image on scratch: the binary at /usr/local/bin/<name> (0755, owned by
 * root, so the app cannot rewrite itself), /etc/passwd and /etc/group with a nonroot user, and the
 * CA bundle when given. Returns the gzipped blob and its diff_id (sha256 of the tar).
 */
async function appLayer(image: AppImage): Promise<{ blob: Blob; diffId: string }> {
  // On a base image only the binary is added: the base's /etc (users, certificates) stays as it is.
  if (image.base) {
    // Parent directories are listed (0755): without them the runtime creates them root-only.
    const dirs = ['usr/', 'usr/local/', 'usr/local/bin/'].map((name) => ({
      name,
      data: Buffer.alloc(0),
      executable: true,
      dir: true,
    }));
    const raw = tar(
      [...dirs, { name: `usr/local/bin/${image.binaryName}`, data: image.binary, executable: true }],
      image.created,
    );
    const gz = await gzipLayer(raw);
    return {
      blob: { data: gz, descriptor: { mediaType: MEDIA.layer, digest: digestOf(gz), size: gz.length } },
      diffId: digestOf(raw),
    };
  }
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
  const gz = await gzipLayer(raw);
  return {
    blob: { data: gz, descriptor: { mediaType: MEDIA.layer, digest: digestOf(gz), size: gz.length } },
    diffId: digestOf(raw),
  };
}

const json = (o: unknown) => Buffer.from(JSON.stringify(o));

/** The image config: entrypoint, non-root user, labels, and the layer's diff_id. */
function imageConfig(image: AppImage, diffIds: string[]): Blob {
  const created = new Date(image.created * 1000).toISOString().replace('.000Z', 'Z');
  if (image.base) {
    const base = image.base.config as {
      config?: Record<string, unknown>;
      rootfs?: { diff_ids?: string[] };
      history?: unknown[];
    };
    const baseEnv = ((base.config?.Env as string[] | undefined) ?? []).filter((e) => !e.startsWith('PATH='));
    const data = json({
      ...base,
      created,
      architecture: image.platform.architecture,
      os: image.platform.os,
      config: {
        ...base.config,
        User: `${NONROOT.uid}:${NONROOT.uid}`,
        Entrypoint: [`/usr/local/bin/${image.binaryName}`],
        Cmd: null,
        Env: ['PATH=/usr/local/bin:/usr/bin:/bin', ...baseEnv],
        Labels: { ...((base.config?.Labels as Record<string, string> | undefined) ?? {}), ...image.labels },
      },
      rootfs: { type: 'layers', diff_ids: [...(base.rootfs?.diff_ids ?? []), ...diffIds] },
      history: [
        ...(base.history ?? []),
        { created, created_by: `go-ship docker-multistage: ${image.binaryName}` },
      ],
    });
    return { data, descriptor: { mediaType: MEDIA.config, digest: digestOf(data), size: data.length } };
  }
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

function imageManifest(config: Descriptor, layers: Descriptor[], annotations: Record<string, string>): Blob {
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
    // Base layers are reused by digest: mounted from the base repository on the same registry,
    // copied otherwise, never rebuilt.
    const baseLayers = image.base?.layers ?? [];
    for (const d of baseLayers) {
      const sameRegistry = image.base!.registry.host === (registry as { host?: string }).host;
      const r = sameRegistry
        ? await registry.putBlob(repository, Buffer.alloc(0), d.digest, image.base!.repository, () =>
            image.base!.registry.getBlob(image.base!.repository, d.digest),
          )
        : await registry.putBlob(
            repository,
            await image.base!.registry.getBlob(image.base!.repository, d.digest),
            d.digest,
          );
      counts[r === 'uploaded' ? 'uploaded' : 'reused']++;
    }
    for (const b of [layer, config]) {
      const r = await registry.putBlob(repository, b.data, b.descriptor.digest);
      counts[r === 'uploaded' ? 'uploaded' : 'reused']++;
    }
    const manifest = imageManifest(
      config.descriptor,
      [
        ...baseLayers.map((d) => ({ mediaType: d.mediaType, digest: d.digest, size: d.size })),
        layer.descriptor,
      ],
      annotations,
    );
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
