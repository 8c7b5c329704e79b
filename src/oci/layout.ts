import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { digestOf, MEDIA } from './registry.js';

/** Where images go: a registry, or an OCI image layout on disk (push: false). */
export interface ImageSink {
  putBlob(
    repo: string,
    data: Buffer,
    digest?: string,
    from?: string,
    fetchData?: () => Promise<Buffer>,
  ): Promise<'exists' | 'mounted' | 'uploaded'>;
  putManifest(repo: string, ref: string, body: Buffer, mediaType: string): Promise<string>;
}

/**
 * An OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/...`), as skopeo, crane
 * and containerd read it: `skopeo copy oci:DIR:TAG docker-daemon:IMAGE:TAG` loads it into Docker.
 * Tags become `org.opencontainers.image.ref.name` annotations in index.json.
 */
export class OciLayout implements ImageSink {
  constructor(readonly dir: string) {
    mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    if (!existsSync(join(dir, 'index.json')))
      writeFileSync(
        join(dir, 'index.json'),
        JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.index, manifests: [] }),
      );
  }

  // Typed by the interface: a layout has no repositories to mount from, so `from` is unused.
  putBlob: ImageSink['putBlob'] = async (_repo, data, digest = digestOf(data), _from, fetchData) => {
    const file = join(this.dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
    if (existsSync(file)) return 'exists';
    writeFileSync(file, fetchData ? await fetchData() : data);
    return 'uploaded';
  };

  async putManifest(repo: string, ref: string, body: Buffer, mediaType: string): Promise<string> {
    const digest = digestOf(body);
    await this.putBlob(repo, body, digest);
    if (ref.startsWith('sha256:')) return digest;
    const indexFile = join(this.dir, 'index.json');
    const index = JSON.parse(readFileSync(indexFile, 'utf8')) as {
      manifests: { annotations?: Record<string, string> }[];
    };
    index.manifests = index.manifests.filter(
      (m) => m.annotations?.['org.opencontainers.image.ref.name'] !== ref,
    );
    index.manifests.push({
      mediaType,
      digest,
      size: body.length,
      annotations: { 'org.opencontainers.image.ref.name': ref },
    } as never);
    writeFileSync(indexFile, JSON.stringify(index, null, 2));
    return digest;
  }
}
