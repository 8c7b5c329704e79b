import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTarGz } from '../../src/archive/archive.js';
import { Registry } from '../../src/oci/registry.js';
import { ROOT, tempDir, runAction } from '../helpers/cli.js';
import { testRepo } from '../helpers/git.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { DOCKER, ensureBuilderImage, skopeoInspect, versionOf } from '../helpers/docker.js';
import { startLoginRegistry } from '../helpers/login-registry.js';
import { rootCertificates } from 'node:tls';

const REGISTRY = process.env.GO_SHIP_TEST_REGISTRY ?? '127.0.0.1:5055';
const sh = (file: string, args: string[], cwd?: string) =>
  execFileSync(file, args, { encoding: 'utf8', cwd });

const action = (name: string, dir: string, withs: string[], env: Record<string, string> = {}) =>
  runAction(name, { workspace: dir, with: withs, env });

describeWith(
  'go, git, a registry, skopeo and Docker',
  hasCommand('go', ['version']) &&
    hasCommand('git') &&
    hasCommand('curl', ['-fsS', `http://${REGISTRY}/v2/`]) &&
    hasCommand('skopeo', ['--version']) &&
    hasCommand(DOCKER, ['version']),
  'docker-multistage (prebuilt) through the bundle',
  () => {
    const dir = join(tempDir('dms'), 'hello-svc');
    const image = `${REGISTRY}/go-ship-test/hello-${randomBytes(4).toString('hex')}`;
    const repo = image.slice(REGISTRY.length + 1);
    let head = '';

    beforeAll(async () => {
      head = testRepo(dir, {
        from: join(ROOT, 'examples', 'hello-svc'),
        files: { '.gitignore': '/dist/\n' },
        message: 'init',
      }).git('rev-parse', 'HEAD');
      const b = await action('build-matrix', dir, [
        'targets=linux/amd64,linux/arm64,windows/amd64',
        'version=1.2.3',
      ]);
      expect(b.code).toBe(0);
    }, 600_000);

    test("a release: a two-platform index, tags by rule, the amd64 image serves /version, the binary is build-matrix's", async () => {
      const r = await action('docker-multistage', dir, [`image=${image}`, 'version=1.2.3']);
      expect(r.code).toBe(0);
      const tags = r.outputs.tags.split('\n');
      expect(tags).toEqual([
        `${image}:latest`,
        `${image}:1.2.3`,
        `${image}:1.2`,
        `${image}:1`,
        `${image}:main`, // the local runner's GITHUB_REF is refs/heads/main: a push to main
        `${image}:sha-${head.slice(0, 7)}`,
      ]);
      const raw = skopeoInspect(`${image}:1.2.3`, { raw: true });
      expect(
        raw.manifests.map(
          (m: { platform: { os: string; architecture: string } }) =>
            `${m.platform.os}/${m.platform.architecture}`,
        ),
      ).toEqual(['linux/amd64', 'linux/arm64']);
      expect(raw.annotations['org.opencontainers.image.revision']).toBe(head);
      expect(r.outputs.image).toBe(`${image}@${r.outputs.digest}`);
      expect(r.summary).toContain('| {{major}}.{{minor}} | `1.2` | highest stable release of its minor |');

      // The binary inside each image is byte for byte the one in build-matrix's manifest.
      const built = JSON.parse(readFileSync(join(dir, 'dist', 'manifest.json'), 'utf8')) as {
        artifacts: { target: string; binaries: { sha256: string }[] }[];
      };
      const registry = new Registry(REGISTRY);
      for (const m of raw.manifests as { digest: string; platform: { architecture: string } }[]) {
        const manifest = JSON.parse((await registry.getManifest(repo, m.digest))!.body.toString('utf8'));
        const layer = readTarGz(await registry.getBlob(repo, manifest.layers[0].digest));
        const bin = layer.find((f) => f.name === 'usr/local/bin/hello-svc')!;
        const want = built.artifacts.find((a) => a.target === `linux/${m.platform.architecture}`)!.binaries[0]
          .sha256;
        expect(execFileSync('sha256sum', [], { input: bin.data, encoding: 'utf8' }).split(' ')[0]).toBe(want);
      }

      expect(await versionOf(`${image}:1.2.3`)).toMatchObject({ version: '1.2.3' });
    }, 300_000);

    test('mode: go builds the image in one step, as ko does: the same binaries as build-matrix, byte for byte, and no archives', async () => {
      const goImage = `${image}-go`;
      const goRepo = goImage.slice(REGISTRY.length + 1);
      const before = execFileSync('git', ['status', '--porcelain', '--ignored'], {
        cwd: dir,
        encoding: 'utf8',
      });
      const r = await action('docker-multistage', dir, ['mode=go', `image=${goImage}`, 'version=1.2.3']);
      expect(r.code).toBe(0);
      // Nothing written into the checkout: no archives, no checksums, no manifest.
      expect(
        execFileSync('git', ['status', '--porcelain', '--ignored'], { cwd: dir, encoding: 'utf8' }),
      ).toBe(before);
      const built = JSON.parse(readFileSync(join(dir, 'dist', 'manifest.json'), 'utf8')) as {
        artifacts: { target: string; binaries: { sha256: string }[] }[];
      };
      const raw = skopeoInspect(`${goImage}:1.2.3`, { raw: true });
      const registry = new Registry(REGISTRY);
      const platforms: string[] = [];
      for (const m of raw.manifests as { digest: string; platform: { os: string; architecture: string } }[]) {
        platforms.push(`${m.platform.os}/${m.platform.architecture}`);
        const manifest = JSON.parse((await registry.getManifest(goRepo, m.digest))!.body.toString('utf8'));
        const layer = readTarGz(await registry.getBlob(goRepo, manifest.layers[0].digest));
        const bin = layer.find((f) => f.name === 'usr/local/bin/hello-svc')!;
        const want = built.artifacts.find((a) => a.target === `linux/${m.platform.architecture}`)!.binaries[0]
          .sha256;
        expect(execFileSync('sha256sum', [], { input: bin.data, encoding: 'utf8' }).split(' ')[0]).toBe(want);
      }
      expect(platforms).toEqual(['linux/amd64', 'linux/arm64']);
      expect(await versionOf(`${goImage}:1.2.3`)).toMatchObject({ version: '1.2.3' });
      // An image runs Linux: another system is refused by name before anything is built.
      const bad = await action('docker-multistage', dir, [
        'mode=go',
        `image=${goImage}`,
        'platforms=darwin/arm64',
      ]);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr + bad.stdout).toMatch(/platforms.*darwin\/arm64.*linux platforms/s);
    }, 300_000);

    test('a pre-release and an older release never move latest, X.Y or X', async () => {
      const latest = () => skopeoInspect(`${image}:latest`, { digest: true }).digest;
      const before = latest();
      const rc = await action('docker-multistage', dir, [`image=${image}`, 'version=1.3.0-rc.1']);
      expect(rc.outputs.tags.split('\n')).toEqual([
        `${image}:1.3.0-rc.1`,
        `${image}:main`,
        `${image}:sha-${head.slice(0, 7)}`,
      ]);
      expect(rc.summary).toContain('| latest | — | pre-releases never move latest |');
      const old = await action('docker-multistage', dir, [`image=${image}`, 'version=1.1.9']);
      expect(old.summary).toContain('| latest | — | 1.2.3 is already in the repository |');
      expect(latest()).toBe(before);
    }, 300_000);

    test('push: false writes an OCI image layout that skopeo loads into Docker; nothing is pushed', async () => {
      const out = join(tempDir('dms-layout'), 'image');
      const local = `${image}-local`;
      const r = await action('docker-multistage', dir, [
        `image=${local}`,
        'version=1.2.3',
        'push=false',
        `output=${out}`,
      ]);
      expect(r.code).toBe(0);
      expect(r.outputs['oci-layout']).toBe(out);
      // The summary must not read like a push.
      expect(r.summary).toMatch(/^## docker-multistage: \S+ \(not pushed\)$/m);
      expect(r.summary).toContain(
        `push: false — nothing was pushed to the registry. OCI image layout: \`${out}\``,
      );
      const raw = JSON.parse(sh('skopeo', ['inspect', '--raw', `oci:${out}:1.2.3`]));
      expect(raw.manifests).toHaveLength(2);
      expect(raw.manifests[0].digest).toBeDefined();
      const ref = `go-ship-test/layout-${randomBytes(3).toString('hex')}:1.2.3`;
      sh('skopeo', ['copy', '-q', `oci:${out}:1.2.3`, `docker-daemon:${ref}`]);
      expect(sh(DOCKER, ['image', 'inspect', '--format', '{{.Config.User}}', ref]).trim()).toBe(
        '65532:65532',
      );
      sh(DOCKER, ['rmi', ref]);
      expect(await fetch(`http://${REGISTRY}/v2/${repo}-local/tags/list`).then((x) => x.status)).toBe(404);
      // Not even the tag list is read: an unreachable registry does not matter.
      const offline = await action('docker-multistage', dir, [
        'image=127.0.0.1:1/app',
        'version=1.2.3',
        'push=false',
        `output=${out}-offline`,
      ]);
      expect(offline.code).toBe(0);
    }, 300_000);

    test("the image's CA certificates are Node's store: the digest is the same whatever the runner's certificate settings", async () => {
      const scratch = tempDir('dms-ca');
      const key = join(scratch, 'key.pem');
      const cert = join(scratch, 'cert.pem');
      const req = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
      execFileSync(
        'openssl',
        [...req, '-keyout', key, '-out', cert, '-subj', '/CN=elsewhere', '-days', '1'],
        {
          stdio: 'ignore',
        },
      );
      const build = (name: string, env: Record<string, string>) =>
        action(
          'docker-multistage',
          dir,
          [`image=${image}-ca`, 'version=1.2.3', 'push=false', `output=${join(scratch, name)}`],
          env,
        );
      const plain = await build('plain', {});
      const elsewhere = await build('elsewhere', {
        SSL_CERT_FILE: cert,
        SSL_CERT_DIR: scratch,
        NODE_EXTRA_CA_CERTS: cert,
      });
      expect(plain.code).toBe(0);
      expect(elsewhere.code).toBe(0);
      expect(plain.outputs.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(elsewhere.outputs.digest).toBe(plain.outputs.digest);
      // What the image carries is the store that ships with Node, not the machine's /etc/ssl.
      const index = JSON.parse(readFileSync(join(scratch, 'plain', 'index.json'), 'utf8'));
      const blob = (d: string) =>
        readFileSync(join(scratch, 'plain', 'blobs', 'sha256', d.slice('sha256:'.length)));
      const top = JSON.parse(blob(index.manifests[0].digest).toString('utf8'));
      const amd64 = JSON.parse(blob(top.manifests[0].digest).toString('utf8'));
      const files = readTarGz(blob(amd64.layers.at(-1).digest));
      const ca = files.find((f) => f.name === 'etc/ssl/certs/ca-certificates.crt')!.data.toString('utf8');
      expect(ca).toBe(`${rootCertificates.join('\n')}\n`);
      expect(ca).not.toContain(readFileSync(cert, 'utf8').split('\n')[1]);
    }, 300_000);

    test('a base image: its layers are reused (mounted), the binary goes on top, a missing platform is refused', async () => {
      // A small base made here (nothing can be pulled): a static busybox, pushed with Docker.
      const rootfs = join(tempDir('dms-base'), 'rootfs');
      execFileSync('mkdir', ['-p', join(rootfs, 'bin'), join(rootfs, 'etc')]);
      execFileSync('cp', ['/bin/busybox', join(rootfs, 'bin', 'busybox')]);
      execFileSync('ln', ['-s', 'busybox', join(rootfs, 'bin', 'sh')]);
      writeFileSync(join(rootfs, 'etc', 'base-marker'), 'from the base image\n');
      const base = `${REGISTRY}/go-ship-test/base-${randomBytes(3).toString('hex')}:1`;
      const tar = execFileSync('tar', ['-c', '-C', rootfs, '.'], { maxBuffer: 64 << 20 });
      execFileSync(DOCKER, ['import', '-', base], { input: tar });
      sh(DOCKER, ['push', '-q', base]);
      sh(DOCKER, ['rmi', base]);

      const onBase = `${image}-on-base`;
      const r = await action('docker-multistage', dir, [
        `image=${onBase}`,
        'version=1.2.3',
        `base-image=${base}`,
        'platforms=linux/amd64',
      ]);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/\(2 blobs written, 1 already there\)/); // the base layer was mounted
      sh(DOCKER, ['pull', '-q', `${onBase}:1.2.3`]);
      const out = sh(DOCKER, [
        'run',
        '--rm',
        '--network',
        'host',
        '--entrypoint',
        '/bin/sh',
        `${onBase}:1.2.3`,
        '-c',
        'cat /etc/base-marker; ls /usr/local/bin',
      ]);
      expect(out).toBe('from the base image\nhello-svc\n');
      sh(DOCKER, ['rmi', `${onBase}:1.2.3`]);

      const both = await action('docker-multistage', dir, [
        `image=${onBase}`,
        'version=1.2.4',
        `base-image=${base}`,
      ]);
      expect(both.code).toBe(1);
      expect(both.stderr).toContain('is linux/amd64, not linux/arm64');
    }, 300_000);

    test('a pull request: pr-N and the PR head sha, not the merge commit', async () => {
      const events = tempDir('dms-event');
      const prHead = 'abcdef1234567890abcdef1234567890abcdef12';
      writeFileSync(
        join(events, 'pr.json'),
        JSON.stringify({ pull_request: { number: 42, head: { sha: prHead } } }),
      );
      const r = await action('docker-multistage', dir, [`image=${image}`], {
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_EVENT_PATH: join(events, 'pr.json'),
        GITHUB_REF: 'refs/pull/42/merge',
        GITHUB_SHA: 'ffffffffffffffffffffffffffffffffffffffff',
      });
      expect(r.code).toBe(0);
      expect(r.outputs.tags.split('\n')).toEqual([`${image}:pr-42`, `${image}:sha-abcdef1`]);
    }, 300_000);

    test.each([
      [['image=127.0.0.1:5055/App'], 'Input `image` got `127.0.0.1:5055/App`'],
      [['tags=bad tag!'], 'Input `tags` got `bad tag!`'],
      [
        ['platforms=linux/riscv64'],
        'Input `platforms` got `linux/riscv64`; it accepts platforms build-matrix built: linux/amd64, linux/arm64',
      ],
      [['mode=buildx'], 'Input `mode` got `buildx`; it accepts one of `prebuilt`, `go`, `dockerfile`'],
      [['image=127.0.0.1:1/app', 'version=1.0.0'], 'The registry 127.0.0.1:1 did not answer'],
    ])(
      'bad input %j',
      async (withs, message) => {
        const r = await action('docker-multistage', dir, [`image=${image}`, ...withs]);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(message);
      },
      120_000,
    );
  },
);

describeWith(
  'go, git, a registry, skopeo and a Docker engine with BuildKit',
  hasCommand('go', ['version']) &&
    hasCommand('curl', ['-fsS', `http://${REGISTRY}/v2/`]) &&
    hasCommand('skopeo', ['--version']) &&
    hasCommand(DOCKER, ['version']),
  'docker-multistage (dockerfile) through the bundle',
  () => {
    const dir = join(tempDir('dms-df'), 'hello-svc');
    const env = { PATH: `/usr/bin:${process.env.PATH}` }; // Debian's docker client first
    let builder = '';
    beforeAll(async () => {
      builder = await ensureBuilderImage();
      testRepo(dir, { from: join(ROOT, 'examples', 'hello-svc'), message: 'init' });
    }, 300_000);

    test('a generated Dockerfile: cross-compiled on the build platform, a two-platform index, the amd64 image serves /version', async () => {
      const image = `${REGISTRY}/go-ship-test/df-gen-${randomBytes(4).toString('hex')}`;
      const r = await action(
        'docker-multistage',
        dir,
        [
          'mode=dockerfile',
          `image=${image}`,
          'version=2.0.0',
          `builder-image=${builder}`,
          'binary=hello-svc',
        ],
        // SOURCE_DATE_EPOCH stamps the image as it stamps build-matrix's archives (not the commit time).
        { ...env, SOURCE_DATE_EPOCH: '1700000000' },
      );
      expect(r.code).toBe(0);
      expect(r.summary).toContain('Generated Dockerfile');
      expect(r.summary).toContain(`FROM --platform=$BUILDPLATFORM ${builder} AS build`);
      const raw = skopeoInspect(`${image}:2.0.0`, { raw: true });
      expect(
        raw.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture),
      ).toEqual(['amd64', 'arm64']);
      const arm = skopeoInspect(`${image}:2.0.0`, { config: 'arm64' });
      expect(arm).toMatchObject({ architecture: 'arm64', config: { User: '65532:65532' } });
      expect(arm.config.Labels['org.opencontainers.image.version']).toBe('2.0.0');
      expect(arm.config.Labels['org.opencontainers.image.created']).toBe('2023-11-14T22:13:20Z');
      expect(await versionOf(`${image}:2.0.0`)).toMatchObject({ version: '2.0.0' });
    }, 600_000);

    test("the user's Dockerfile is linted for the emulation trap", async () => {
      writeFileSync(
        join(dir, 'Dockerfile'),
        `FROM ${builder} AS build\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /out/app .\nFROM scratch\nCOPY --from=build /out/app /app\nENTRYPOINT ["/app"]\n`,
      );
      const image = `${REGISTRY}/go-ship-test/df-lint-${randomBytes(4).toString('hex')}`;
      const r = await action(
        'docker-multistage',
        dir,
        ['mode=dockerfile', `image=${image}`, 'platforms=linux/amd64', 'tags=lint'],
        env,
      );
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(
        'warning: This stage runs `go build` but its FROM has no `--platform=$BUILDPLATFORM`',
      );
      expect(r.stderr).toContain(`FROM --platform=$BUILDPLATFORM ${builder} AS build`);
    }, 600_000);

    test('no Dockerfile and no Go module: the error says what was looked for', async () => {
      const empty = tempDir('dms-empty');
      const r = await action(
        'docker-multistage',
        empty,
        ['mode=dockerfile', `image=${REGISTRY}/go-ship-test/none`, 'tags=x'],
        env,
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('it accepts a Dockerfile, or a Go module to generate one for');
    }, 60_000);

    test('no Docker engine: a clear error naming what to install', async () => {
      const r = await action(
        'docker-multistage',
        dir,
        ['mode=dockerfile', `image=${REGISTRY}/go-ship-test/none`, 'tags=x'],
        { PATH: '/nonexistent' },
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('mode: dockerfile needs a Docker engine');
      expect(r.stderr).toContain('apt-get install docker.io');
    }, 60_000);
  },
);

describeWith(
  'docker-registry, htpasswd, Docker and go',
  hasCommand('docker-registry', ['--version']) &&
    hasCommand('sh', ['-c', 'command -v htpasswd']) &&
    hasCommand(DOCKER, ['version']),
  'docker-multistage against a registry that requires a login',
  () => {
    test("username and password answer the registry's challenge; the password is masked; a wrong one is a clear error; docker login and a credential helper stand in for them", async () => {
      const dir = tempDir('dms-auth');
      const login = await startLoginRegistry('ci', 's3cret-pass');
      const port = login.host.split(':')[1];
      try {
        // build-matrix's output from the release test's module is not shared here: build a tiny one.
        const mod = join(dir, 'svc');
        cpSync(join(ROOT, 'examples', 'hello-svc'), mod, { recursive: true });
        const b = await action('build-matrix', mod, ['targets=linux/amd64', 'version=0.1.0']);
        expect(b.code).toBe(0);
        const image = `image=127.0.0.1:${port}/private/hello`;
        const push = (version: string, password?: string) =>
          action('docker-multistage', mod, [
            image,
            `version=${version}`,
            ...(password ? ['username=ci', `password=${password}`] : []),
          ]);
        const ok = await push('0.1.0', 's3cret-pass');
        expect(ok.code).toBe(0);
        expect(ok.stdout + ok.stderr).not.toContain('s3cret-pass');
        const bad = await push('0.1.1', 'wrong');
        expect(bad.code).toBe(1);
        expect(bad.stderr).toContain(`The registry 127.0.0.1:${port} refused`);
        const none = await push('0.1.2');
        expect(none.stderr).toContain('asks for credentials (Basic); set the username and password inputs');

        // What a docker login step leaves behind is enough: the real CLI logs in (into a config of
        // the test's own), and docker-multistage without credential inputs reads it.
        const dockerConfig = join(dir, 'docker-config');
        mkdirSync(dockerConfig);
        execFileSync(
          DOCKER,
          ['--config', dockerConfig, 'login', '-u', 'ci', '--password-stdin', `127.0.0.1:${port}`],
          {
            input: 's3cret-pass',
            stdio: ['pipe', 'ignore', 'ignore'],
          },
        );
        const viaLogin = await action('docker-multistage', mod, [image, 'version=0.1.3'], {
          DOCKER_CONFIG: dockerConfig,
        });
        expect(viaLogin.code).toBe(0);
        expect(viaLogin.stdout + viaLogin.stderr).toContain(
          `Registry credentials for 127.0.0.1:${port}: ${join(dockerConfig, 'config.json')}`,
        );
        expect(viaLogin.stdout + viaLogin.stderr).not.toContain('s3cret-pass');

        // A credential helper, spoken to by the docker-credential-* protocol (get, server on stdin).
        const bin = join(dir, 'bin');
        mkdirSync(bin);
        writeFileSync(
          join(bin, 'docker-credential-gstest'),
          '#!/bin/sh\nread server\n[ "$1" = get ] || exit 1\nprintf \'{"ServerURL":"%s","Username":"ci","Secret":"s3cret-pass"}\' "$server"\n',
          { mode: 0o755 },
        );
        const helperConfig = join(dir, 'helper-config');
        mkdirSync(helperConfig);
        writeFileSync(
          join(helperConfig, 'config.json'),
          JSON.stringify({ credHelpers: { [`127.0.0.1:${port}`]: 'gstest' } }),
        );
        const viaHelper = await action('docker-multistage', mod, [image, 'version=0.1.4'], {
          DOCKER_CONFIG: helperConfig,
          PATH: `${bin}:${process.env.PATH}`,
        });
        expect(viaHelper.code).toBe(0);
        expect(viaHelper.stdout + viaHelper.stderr).toContain('credential helper docker-credential-gstest');
      } finally {
        login.close();
      }
    }, 300_000);
  },
);
