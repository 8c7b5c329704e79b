import { execFileSync, spawn } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { KubeClient, loadKubeconfig } from '../../src/deploy/targets/kubernetes/api.js';
import { ActionsCacheStore } from '../../src/cache/store.js';
import { GitHubClient } from '../../src/github/rest.js';
import { httpGetText } from '../../src/runner/http.js';
import { startActionsCacheService } from '../helpers/actions-cache.js';
import { goShip, ROOT, tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { startGitHubApi } from '../helpers/github-api.js';
import { ADMIN_KUBECONFIG, controlPlaneUp } from '../helpers/kube.js';
import { quietly } from '../helpers/quiet.js';
import { freePort } from '../helpers/net.js';
import { fromMirror, startMirror } from '../helpers/mirror.js';
import { hasSquid, startSquid, type ForwardProxy } from '../helpers/proxy.js';
import { startServer } from '../helpers/server.js';
import { TEST_GO, toolchainFixture, type ToolchainFixture } from '../helpers/toolchain.js';

// Names only the proxy resolves (to 127.0.0.1): a request that reaches a server by one of them went
// through the proxy; one that went around it fails to resolve.
const MIRROR = 'mirror.go-ship.test';
const CACHE = 'cache.go-ship.test';
const API = 'api.go-ship.test';
const BYPASS = 'bypass.go-ship.test';
const SEMVER = TEST_GO.slice(2);

const byName = (url: string, name: string) => url.replace('127.0.0.1', name);

/** Squid writes a CONNECT tunnel's line when the tunnel closes; wait for the lines we expect. */
async function proxyLog(proxy: ForwardProxy, want: RegExp): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  while (!proxy.log().some((l) => want.test(l)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 200));
  return proxy.log();
}

describeWith(
  'squid (a forward proxy) and go',
  hasSquid() && hasCommand('go', ['version']),
  'behind a forward proxy',
  () => {
    let proxy: ForwardProxy;
    const saved = { ...process.env };
    beforeAll(async () => {
      proxy = await startSquid([MIRROR, CACHE, API]);
    }, 60_000);
    afterAll(async () => {
      process.env = saved;
      await proxy?.stop();
    });
    afterEach(() => {
      for (const k of ['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'GITHUB_API_URL']) delete process.env[k];
    });

    describe('setup-go-cross', () => {
      let fx: ToolchainFixture;
      beforeAll(async () => {
        fx = await toolchainFixture();
      }, 600_000);

      test('installs Go from a mirror only the proxy can reach (HTTPS_PROXY / HTTP_PROXY)', async () => {
        const mirror = await startMirror(fx);
        try {
          const base = `${byName(mirror.url, MIRROR)}/dl`;
          const run = await goShip(
            [
              'setup-go-cross',
              '--with',
              `go-version=${SEMVER}`,
              '--with',
              `go-download-base-url=${base}`,
              '--with',
              'go-download-source=dl',
              '--json',
              '--workspace',
              join(ROOT, 'examples', 'hello-svc'),
            ],
            {
              env: {
                RUNNER_TOOL_CACHE: tempDir('tc-proxy'),
                GOTOOLCHAIN: 'local',
                HTTPS_PROXY: proxy.url,
                HTTP_PROXY: proxy.url,
              },
            },
          );
          expect(run.stderr).toContain(`sha256 ${fx.sha256} matches the listing`);
          expect(run.code).toBe(0);
          // Both the listing and the archive reached the mirror by its proxy-only name.
          expect(mirror.requests.some((r) => r.startsWith('/dl/?mode=json'))).toBe(true);
          expect(mirror.requests).toContain(`/dl/${fx.version}.linux-amd64.tar.gz`);
          const seen = await proxyLog(proxy, new RegExp(`CONNECT ${MIRROR}:`));
          expect(seen.some((l) => l.startsWith(`CONNECT ${MIRROR}:`))).toBe(true);
        } finally {
          await mirror.close();
        }
      }, 300_000);
    });

    test('the Actions cache service: a save and a restore, the Twirp calls and the blob transfer', async () => {
      const service = await startActionsCacheService({ host: CACHE });
      process.env.HTTPS_PROXY = proxy.url;
      process.env.HTTP_PROXY = proxy.url;
      try {
        // (quietly: the token and the signed blob URLs are masked with ::add-mask:: on stdout)
        const store = await quietly(
          async () => new ActionsCacheStore(byName(service.url, CACHE), 'runtime-token'),
        );
        const src = join(tempDir('proxy-cache'), 'a.tar');
        writeFileSync(src, 'entry-bytes');
        expect(await quietly(() => store.save('mod-linux-abc', 'v1', src))).toBe(true);
        const out = join(tempDir('proxy-cache-out'), 'b.tar');
        expect(await quietly(() => store.restore('mod-linux-abc', [], 'v1', out))).toBe('mod-linux-abc');
        expect(readFileSync(out, 'utf8')).toBe('entry-bytes');
        // Three Twirp calls to the service, the blob PUT and GET to azurite: all by name, so all
        // through the proxy.
        expect(service.requests).toHaveLength(3);
        const twirp = `CONNECT ${new URL(byName(service.url, CACHE)).host}`;
        const blobs = `CONNECT ${new URL(service.storage.url).host}`;
        const seen = await proxyLog(proxy, new RegExp(blobs));
        expect(seen.some((l) => l.startsWith(twirp))).toBe(true);
        expect(seen.some((l) => l.startsWith(blobs))).toBe(true);
      } finally {
        await service.close();
      }
    }, 60_000);

    test('a GitHub API call through Octokit (GITHUB_API_URL on a name only the proxy resolves)', async () => {
      const api = await startGitHubApi({ token: 'tok' });
      process.env.HTTPS_PROXY = proxy.url;
      process.env.HTTP_PROXY = proxy.url;
      process.env.GITHUB_API_URL = byName(api.url, API);
      try {
        const client = await quietly(async () => new GitHubClient('tok', byName(api.url, API)));
        await client.request('POST', '/repos/o/r/issues/3/comments', { body: 'hello' });
        const { data } = await client.request<{ body: string }[]>('GET', '/repos/o/r/issues/3/comments');
        expect(data.map((c) => c.body)).toEqual(['hello']);
        expect(api.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
          'POST /repos/o/r/issues/3/comments',
          'GET /repos/o/r/issues/3/comments',
        ]);
        const seen = await proxyLog(proxy, new RegExp(`CONNECT ${API}:`));
        expect(seen.some((l) => l.startsWith(`CONNECT ${API}:`))).toBe(true);
      } finally {
        await api.close();
      }
    }, 60_000);

    test('a NO_PROXY host is asked directly: it does not resolve without the proxy, and the proxy never sees it', async () => {
      const server = await startServer((_req, res) => void res.end('ok'));
      const url = `${byName(server.url, BYPASS)}/x`;
      try {
        process.env.HTTP_PROXY = proxy.url;
        process.env.NO_PROXY = `example.com,.go-ship.test`;
        await expect(httpGetText(url)).rejects.toThrow(/ENOTFOUND|EAI_AGAIN/);
        expect(proxy.log().some((l) => l.includes(BYPASS))).toBe(false);
        expect(server.requests).toEqual([]);
      } finally {
        await server.close();
      }
    }, 60_000);
  },
);

describeWith('go', hasCommand('go', ['version']), 'retries on a flaky mirror', () => {
  let fx: ToolchainFixture;
  beforeAll(async () => {
    fx = await toolchainFixture();
  }, 600_000);

  async function install(archive: 'flaky' | 'throttled' | 'down') {
    const mirror = await startMirror(fx, { archive });
    try {
      const started = Date.now();
      const run = await goShip(
        [
          'setup-go-cross',
          ...fromMirror(mirror),
          '--json',
          '--workspace',
          join(ROOT, 'examples', 'hello-svc'),
        ],
        { env: { RUNNER_TOOL_CACHE: tempDir(`tc-${archive}`), GOTOOLCHAIN: 'local' } },
      );
      const archives = mirror.requests.filter((r) => r.includes('.tar.gz'));
      return { ...run, archives, ms: Date.now() - started };
    } finally {
      await mirror.close();
    }
  }

  test('503 twice, then 200: the install succeeds on the third attempt', async () => {
    const r = await install('flaky');
    expect(r.code).toBe(0);
    expect(r.archives).toHaveLength(3);
    expect(r.stderr).toMatch(/answered 503; attempt 2 of 4 in/);
    expect(r.stderr).toMatch(/answered 503; attempt 3 of 4 in/);
  }, 300_000);

  test('429 with Retry-After: 2 is waited out', async () => {
    const r = await install('throttled');
    expect(r.code).toBe(0);
    expect(r.archives).toHaveLength(2);
    expect(r.stderr).toMatch(/answered 429; attempt 2 of 4 in 2\.0s \(Retry-After\)/);
  }, 300_000);

  test('a mirror that keeps failing ends, after 4 attempts, in one clear error naming the URL', async () => {
    const r = await install('down');
    expect(r.code).toBe(1);
    expect(r.archives).toHaveLength(4);
    expect(r.stderr).toMatch(
      /GET http:\/\/127\.0\.0\.1:\d+\/dl\/go[\d.]+\.linux-amd64\.tar\.gz answered 503: mirror overloaded/,
    );
  }, 300_000);
});

// The registry by a name only the proxy resolves, over TLS as any registry that is not loopback is
// spoken to; the runner trusts the test's CA the way self-hosted runners trust a corporate one
// (NODE_EXTRA_CA_CERTS).
const REGISTRY_NAME = 'registry.go-ship.test';

describeWith(
  'squid, docker-registry, openssl and go',
  hasSquid() &&
    hasCommand('docker-registry', ['--version']) &&
    hasCommand('openssl', ['version']) &&
    hasCommand('go', ['version']),
  'an image push through a forward proxy',
  () => {
    test('docker-multistage pushes to a TLS registry only the proxy can reach, and the tag reads back', async () => {
      const dir = tempDir('proxy-registry');
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
          '-subj',
          `/CN=${REGISTRY_NAME}`,
          '-addext',
          `subjectAltName=DNS:${REGISTRY_NAME}`,
        ],
        { stdio: 'ignore' },
      );
      const port = await freePort();
      writeFileSync(
        join(dir, 'config.yml'),
        `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\n  tls:\n    certificate: ${join(dir, 'cert.pem')}\n    key: ${join(dir, 'key.pem')}\n`,
      );
      const registry = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
      const proxy = await startSquid([REGISTRY_NAME]);
      const curl = (path: string) =>
        execFileSync(
          'curl',
          [
            '-fsS',
            '--cacert',
            join(dir, 'cert.pem'),
            '--resolve',
            `${REGISTRY_NAME}:${port}:127.0.0.1`,
            `https://${REGISTRY_NAME}:${port}${path}`,
          ],
          { encoding: 'utf8' },
        );
      try {
        for (let i = 0; i < 50; i++) {
          try {
            curl('/v2/');
            break;
          } catch {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        const mod = join(dir, 'svc');
        cpSync(join(ROOT, 'examples', 'hello-svc'), mod, { recursive: true });
        const run = (action: string, withs: string[], env: Record<string, string> = {}) =>
          goShip([action, '--workspace', mod, '--json', ...withs.flatMap((w) => ['--with', w])], { env });
        expect((await run('build-matrix', ['targets=linux/amd64', 'version=0.1.0'])).code).toBe(0);
        const push = await run(
          'docker-multistage',
          [`image=${REGISTRY_NAME}:${port}/proxied/hello`, 'version=0.1.0'],
          {
            HTTPS_PROXY: proxy.url,
            NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem'),
          },
        );
        expect(push.stderr).not.toMatch(/did not answer/);
        expect(push.code).toBe(0);
        expect(JSON.parse(curl('/v2/proxied/hello/tags/list')).tags).toContain('0.1.0');
        const seen = await proxyLog(proxy, new RegExp(`CONNECT ${REGISTRY_NAME}:${port}`));
        expect(seen.filter((l) => l.startsWith(`CONNECT ${REGISTRY_NAME}:${port}`)).length).toBeGreaterThan(
          0,
        );
      } finally {
        registry.kill('SIGTERM');
        await proxy.stop();
      }
    }, 300_000);
  },
);

describeWith(
  'squid and the Kubernetes control plane',
  hasSquid() && controlPlaneUp(),
  "a kubeconfig's proxy-url",
  () => {
    test('the API server is reached through the proxy the kubeconfig names, TLS to the API server inside the tunnel', async () => {
      const proxy = await startSquid([]);
      try {
        const file = join(tempDir('proxy-kube'), 'kubeconfig');
        const doc = YAML.parse(readFileSync(ADMIN_KUBECONFIG, 'utf8')) as {
          clusters: { cluster: Record<string, string> }[];
        };
        doc.clusters[0].cluster['proxy-url'] = proxy.url;
        writeFileSync(file, YAML.stringify(doc));
        const client = new KubeClient(await quietly(() => loadKubeconfig(file)));
        const r = await client.request('GET', '/api/v1/namespaces/default');
        expect((r.body.metadata as { name: string }).name).toBe('default');
        const server = new URL(client.conn.server).host;
        const seen = await proxyLog(proxy, new RegExp(`CONNECT ${server}`));
        expect(seen.some((l) => l.startsWith(`CONNECT ${server}`))).toBe(true);
      } finally {
        await proxy.stop();
      }
    }, 60_000);
  },
);
