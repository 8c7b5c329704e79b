import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pushAppImages, type AppImage } from '../../src/oci/image.js';
import { parseImageRef, Registry } from '../../src/oci/registry.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { DOCKER, skopeoInspect, versionOf } from '../helpers/docker.js';

const REGISTRY = process.env.GO_SHIP_TEST_REGISTRY ?? '127.0.0.1:5055';
const sh = (file: string, args: string[]) => execFileSync(file, args, { encoding: 'utf8' });

/** hello-svc built for a platform, as build-matrix would hand it over. */
function helloBinary(goarch: string): Buffer {
  const out = join(tempDir('oci-bin'), 'hello-svc');
  execFileSync('go', ['build', '-trimpath', '-ldflags', '-s -w -X main.version=1.0.0', '-o', out, '.'], {
    cwd: join(ROOT, 'examples', 'hello-svc'),
    env: { ...process.env, GOOS: 'linux', GOARCH: goarch, CGO_ENABLED: '0' },
  });
  return readFileSync(out);
}

describeWith(
  'go, a registry, skopeo and Docker',
  hasCommand('go', ['version']) &&
    hasCommand('curl', ['-fsS', `http://${REGISTRY}/v2/`]) &&
    hasCommand('skopeo', ['--version']) &&
    hasCommand(DOCKER, ['version']),
  'OCI images assembled from prebuilt binaries, pushed through the registry API',
  () => {
    const repo = `go-ship-test/hello-svc-${randomBytes(4).toString('hex')}`;
    const ca = existsSync('/etc/ssl/certs/ca-certificates.crt')
      ? readFileSync('/etc/ssl/certs/ca-certificates.crt')
      : undefined;
    let images: AppImage[];

    beforeAll(() => {
      images = (['amd64', 'arm64'] as const).map((arch) => ({
        binaryName: 'hello-svc',
        binary: helloBinary(arch),
        platform: { os: 'linux', architecture: arch },
        created: 1_767_225_600,
        labels: {
          'org.opencontainers.image.version': '1.0.0',
          'org.opencontainers.image.source': 'https://example.com/hello-svc',
        },
        caCertificates: ca,
      }));
    }, 300_000);

    test('a multi-arch index that skopeo reads, identical when assembled again, blobs reused on a second push', async () => {
      const registry = new Registry(REGISTRY);
      const annotations = { 'org.opencontainers.image.version': '1.0.0' };
      const first = await pushAppImages(registry, repo, images, ['1.0.0', '1.0', '1'], annotations);
      expect(first.blobs.uploaded).toBe(4);
      const raw = skopeoInspect(`${REGISTRY}/${repo}:1.0`, { raw: true });
      expect(raw.mediaType).toBe('application/vnd.oci.image.index.v1+json');
      expect(
        raw.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture),
      ).toEqual(['amd64', 'arm64']);
      expect(raw.annotations).toEqual(annotations);
      const arm = skopeoInspect(`${REGISTRY}/${repo}:1.0.0`, { config: 'arm64' });
      expect(arm).toMatchObject({
        architecture: 'arm64',
        os: 'linux',
        config: { User: '65532:65532', Entrypoint: ['/usr/local/bin/hello-svc'], Labels: images[1].labels },
      });
      const second = await pushAppImages(registry, repo, images, ['1.0.0'], annotations);
      expect(second.digest).toBe(first.digest);
      expect(second.blobs).toEqual({ uploaded: 0, reused: 4 });
      expect(skopeoInspect(`${REGISTRY}/${repo}:1`, { digest: true }).digest).toBe(first.digest);
    }, 300_000);

    test('Docker pulls the image and runs it as the non-root user; the service answers', async () => {
      const ref = `${REGISTRY}/${repo}:1.0.0`;
      sh(DOCKER, ['pull', '-q', ref]);
      expect(
        sh(DOCKER, [
          'image',
          'inspect',
          '--format',
          '{{.Config.User}} {{.Os}}/{{.Architecture}}',
          ref,
        ]).trim(),
      ).toBe('65532:65532 linux/amd64');
      expect(await versionOf(ref)).toMatchObject({ version: '1.0.0' });
    }, 300_000);

    test('image references are validated with the fix in the message', () => {
      expect(parseImageRef('127.0.0.1:5055/app/svc:1.2.3')).toEqual({
        registry: '127.0.0.1:5055',
        repository: 'app/svc',
        tag: '1.2.3',
      });
      expect(() => parseImageRef('Ghcr.io/Org/App')).toThrow(
        'Input `image` got `Ghcr.io/Org/App`; it accepts `registry/repository[:tag]` in lower case',
      );
    });
  },
);
