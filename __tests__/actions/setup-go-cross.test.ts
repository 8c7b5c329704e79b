import { createHash } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { hash1 } from '../../src/go/dirhash.js';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { runCommand } from '../../src/runner/command.js';
import { binaryFormat } from '../helpers/binary.js';
import { goShip, ROOT, tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { fromMirror, fromProxy, startMirror } from '../helpers/mirror.js';
import { startServer, type LoopbackServer } from '../helpers/server.js';
import { TEST_GO, toolchainFixture, type ToolchainFixture } from '../helpers/toolchain.js';

const HELLO = join(ROOT, 'examples', 'hello-svc');
const SEMVER = TEST_GO.slice(2);

async function setup(args: string[], toolCache: string, extraEnv: Record<string, string> = {}) {
  const run = await goShip(['setup-go-cross', ...args, '--json', '--workspace', HELLO], {
    env: { RUNNER_TOOL_CACHE: toolCache, GOTOOLCHAIN: 'local', ...extraEnv },
  });
  const result = run.stdout ? JSON.parse(run.stdout) : undefined;
  return { ...run, result, log: run.stderr };
}

/** Nothing but complete installs in the tool cache: no staging folders, no directory without marker. */
function cacheEntries(toolCache: string): string[] {
  const go = join(toolCache, 'go');
  if (!existsSync(go)) return [];
  return readdirSync(go).flatMap((v) =>
    v.startsWith('.') ? [v] : readdirSync(join(go, v)).map((a) => `${v}/${a}`),
  );
}

describeWith('go (and its module proxy)', hasCommand('go', ['version']), 'setup-go-cross', () => {
  let fx: ToolchainFixture;
  beforeAll(async () => {
    fx = await toolchainFixture();
  }, 600_000);

  describe('from a download mirror', () => {
    const toolCache = tempDir('tc-dl');
    let mirror: LoopbackServer;
    let first: Awaited<ReturnType<typeof setup>>;
    beforeAll(async () => {
      mirror = await startMirror(fx);
      first = await setup(
        [
          ...fromMirror(mirror),
          '--with',
          'targets=linux/amd64,linux/arm64,darwin/arm64,windows/amd64,linux/arm/7',
        ],
        toolCache,
      );
    }, 600_000);
    afterAll(() => mirror.close());

    test('installs, verified by the listing sha256, into the tool cache', async () => {
      expect(first.code).toBe(0);
      expect(first.result.outputs).toMatchObject({
        'go-version': SEMVER,
        'go-source': 'dl',
        'tool-cache-hit': 'false',
        'go-root': join(toolCache, 'go', SEMVER, 'x64'),
      });
      expect(first.log).toContain(`sha256 ${fx.sha256} matches the listing`);
      expect(existsSync(join(toolCache, 'go', SEMVER, 'x64.complete'))).toBe(true);
      expect(cacheEntries(toolCache)).toEqual([`${SEMVER}/x64`, `${SEMVER}/x64.complete`]);
    });

    test('puts Go on PATH and exports GOROOT/GOPATH; GOTOOLCHAIN=local by default, as actions/setup-go', async () => {
      const goroot = first.result.outputs['go-root'];
      expect(first.result.addedPath).toContain(join(goroot, 'bin'));
      expect(first.result.exportedEnv.GOROOT).toBe(goroot);
      expect(first.result.exportedEnv.GOPATH).toBeTruthy();
      expect(first.result.exportedEnv.GOTOOLCHAIN).toBe('local');
    });

    test('the installed go reports the version', async () => {
      const r = await runCommand(join(first.result.outputs['go-root'], 'bin', 'go'), ['version']);
      expect(r.stdout).toBe(`go version ${TEST_GO} linux/amd64\n`);
    });

    test('targets output agrees with go tool dist list and carries variant env', async () => {
      const targets = JSON.parse(first.result.outputs.targets);
      expect(targets.map((t: { name: string }) => t.name)).toEqual([
        'linux/amd64',
        'linux/arm64',
        'darwin/arm64',
        'windows/amd64',
        'linux/arm/7',
      ]);
      expect(targets[4]).toMatchObject({
        id: 'linux_arm_7',
        env: { GOOS: 'linux', GOARCH: 'arm', GOARM: '7' },
      });
      const dist = JSON.parse(
        (
          await runCommand(join(first.result.outputs['go-root'], 'bin', 'go'), [
            'tool',
            'dist',
            'list',
            '-json',
          ])
        ).stdout,
      );
      for (const t of targets) {
        const d = dist.find(
          (x: { GOOS: string; GOARCH: string }) => x.GOOS === t.goos && x.GOARCH === t.goarch,
        );
        expect({ firstClass: t.firstClass, cgo: t.cgoSupported }).toEqual({
          firstClass: d.FirstClass,
          cgo: d.CgoSupported,
        });
      }
    });

    test('the installed Go cross-compiles hello-svc for every target; formats checked by header and go version -m', async () => {
      const go = join(first.result.outputs['go-root'], 'bin', 'go');
      const out = tempDir('xbuild');
      const expected: Record<string, { format: string; machine: string }> = {
        'linux/amd64': { format: 'elf', machine: 'amd64' },
        'linux/arm64': { format: 'elf', machine: 'arm64' },
        'darwin/arm64': { format: 'macho', machine: 'arm64' },
        'windows/amd64': { format: 'pe', machine: 'amd64' },
        'linux/arm/7': { format: 'elf', machine: 'arm' },
      };
      for (const t of JSON.parse(first.result.outputs.targets)) {
        const bin = join(out, t.id);
        await runCommand(go, ['build', '-trimpath', '-o', bin, '.'], {
          cwd: HELLO,
          env: { ...t.env, CGO_ENABLED: '0', GOROOT: undefined, GOFLAGS: '-buildvcs=false' },
        });
        expect(binaryFormat(bin)).toEqual(expected[t.name]);
        const info = (await runCommand(go, ['version', '-m', bin])).stdout;
        expect(info).toContain(`${bin}: ${TEST_GO}\n`);
        expect(info).toMatch(new RegExp(`build\\s+GOARCH=${t.goarch}\\n`));
        expect(info).toMatch(new RegExp(`build\\s+GOOS=${t.goos}\\n`));
        if (t.env.GOARM) expect(info).toMatch(/build\s+GOARM=7\n/);
      }
      // Five cold standard-library builds of a toolchain no build cache has seen yet: minutes on a
      // new 2-core machine (it timed out at 120 s there while other work ran).
    }, 600_000);

    test('a second run is a tool-cache hit and touches the network not at all', async () => {
      const before = mirror.requests.length;
      const second = await setup(fromMirror(mirror), toolCache);
      expect(second.code).toBe(0);
      expect(second.result.outputs).toMatchObject({
        'go-version': SEMVER,
        'go-source': 'tool-cache',
        'tool-cache-hit': 'true',
      });
      expect(mirror.requests.length).toBe(before);
    });

    test('a range is answered from the tool cache; stable needs the listing and picks the stable release', async () => {
      const range = await setup(
        ['--with', 'go-version=1.22', '--with', `go-download-base-url=${mirror.url}/dl`],
        toolCache,
      );
      expect(range.result.outputs['tool-cache-hit']).toBe('true');
      const before = mirror.requests.length;
      const stable = await setup(
        [
          '--with',
          'go-version=stable',
          '--with',
          `go-download-base-url=${mirror.url}/dl`,
          '--with',
          'go-download-source=dl',
        ],
        toolCache,
      );
      expect(stable.code).toBe(0);
      expect(stable.result.outputs['go-version']).toBe(SEMVER);
      expect(mirror.requests.length).toBe(before + 1);
    });

    test("go.mod's toolchain line is honoured and the reason is shown", async () => {
      const ws = tempDir('gomod');
      writeFileSync(join(ws, 'go.mod'), `module example.com/x\n\ngo 1.21\n\ntoolchain ${TEST_GO}\n`);
      // pin-toolchain's default exports GOTOOLCHAIN=local, as actions/setup-go does (docs/migration.md).
      const run = await goShip(['setup-go-cross', '--json', '--workspace', ws], {
        env: { RUNNER_TOOL_CACHE: toolCache },
      });
      const result = JSON.parse(run.stdout);
      expect(result.outputs['go-version']).toBe(SEMVER);
      expect(run.stderr).toContain(
        `Go version: go.mod's toolchain line asks for ${TEST_GO} (its go line is 1.21, the minimum)`,
      );
      expect(result.summary).toContain("go.mod's toolchain line asks for");
      expect(result.exportedEnv.GOTOOLCHAIN).toBe('local');
      const unpinned = await goShip(
        ['setup-go-cross', '--json', '--workspace', ws, '--with', 'pin-toolchain=false'],
        { env: { RUNNER_TOOL_CACHE: toolCache } },
      );
      expect(JSON.parse(unpinned.stdout).exportedEnv.GOTOOLCHAIN).toBeUndefined();
    });
  });

  describe('refuses bad downloads and leaves nothing half-installed', () => {
    test('a tampered archive (listing sha256 differs) fails with both hashes; the tool cache stays clean', async () => {
      const toolCache = tempDir('tc-tamper');
      const wrong = 'f'.repeat(64);
      const mirror = await startMirror(fx, { sha256: wrong });
      try {
        const r = await setup(fromMirror(mirror), toolCache);
        expect(r.code).toBe(1);
        expect(r.log).toContain(`Checksum mismatch for ${TEST_GO}.linux-amd64.tar.gz`);
        expect(r.log).toContain(`says sha256 ${wrong}, the downloaded file has ${fx.sha256}`);
        expect(r.log).toContain('Nothing was installed');
        expect(cacheEntries(toolCache)).toEqual([]);
      } finally {
        await mirror.close();
      }
    });

    test('a truncated archive fails and installs nothing', async () => {
      const toolCache = tempDir('tc-trunc');
      const mirror = await startMirror(fx, { archive: 'truncated' });
      try {
        const r = await setup(fromMirror(mirror), toolCache);
        expect(r.code).toBe(1);
        expect(r.log).toMatch(/broke off|truncated/);
        expect(cacheEntries(toolCache)).toEqual([]);
      } finally {
        await mirror.close();
      }
    });

    test.each([
      ['archive 404', { archive: '404' as const }, /answered 404/],
      [
        'listing 500',
        { listing: '500' as const },
        /Cannot read the Go download listing: GET .* answered 500: mirror is down\. Check go-download-base-url/,
      ],
    ])('%s is reported with the URL and status', async (_name, opts, message) => {
      const toolCache = tempDir('tc-http');
      const mirror = await startMirror(fx, opts);
      try {
        const r = await setup(fromMirror(mirror), toolCache);
        expect(r.code).toBe(1);
        expect(r.log).toMatch(message);
        expect(cacheEntries(toolCache)).toEqual([]);
      } finally {
        await mirror.close();
      }
    });

    test('a version the listing does not have lists what it has', async () => {
      const mirror = await startMirror(fx);
      try {
        const r = await setup(
          [
            '--with',
            'go-version=1.99.1',
            '--with',
            `go-download-base-url=${mirror.url}/dl`,
            '--with',
            'go-download-source=dl',
          ],
          tempDir('tc-none'),
        );
        expect(r.code).toBe(1);
        expect(r.log).toContain(
          `No Go release matches go1.99.1 in the download listing at ${mirror.url}/dl/?mode=json&include=all for linux/amd64. Newest there: go1.23rc1, ${TEST_GO}.`,
        );
      } finally {
        await mirror.close();
      }
    });

    test('a tool cache that cannot be written', async () => {
      const blocker = join(tempDir('tc-ro'), 'a-file');
      writeFileSync(blocker, '');
      const mirror = await startMirror(fx);
      try {
        const r = await setup(fromMirror(mirror), join(blocker, 'cache'));
        expect(r.code).toBe(1);
        expect(r.log).toContain(`The tool cache ${join(blocker, 'cache')} is not writable (ENOTDIR)`);
      } finally {
        await mirror.close();
      }
    });
  });

  describe('bad input', () => {
    const toolCache = tempDir('tc-input');
    test.each([
      [['--with', 'go-version=banana'], 'Input `go-version` got `banana`; it accepts an exact version'],
      [
        ['--with', 'go-version=1.22', '--with', 'go-download-source=ftp'],
        'Input `go-download-source` got `ftp`; it accepts one of `auto`, `dl`, `proxy`.',
      ],
      [
        ['--with', 'go-version=1.22', '--with', 'check-latest=yes'],
        'Input `check-latest` got `yes`; it accepts `true` or `false`.',
      ],
      [['--with', 'go-version=1.22', '--with', 'architecture=sparc'], 'Input `architecture` got `sparc`'],
      [['--with', 'go-version-file=nope.mod'], 'Input `go-version-file` points at'],
    ])('%j', async (args, message) => {
      const r = await setup(args, toolCache);
      expect(r.code).toBe(1);
      expect(r.log).toContain(message);
      expect(cacheEntries(toolCache)).toEqual([]);
    });

    test('a malformed version file', async () => {
      const ws = tempDir('badmod');
      writeFileSync(join(ws, 'go.mod'), 'module x\n\ntoolchain banana\n');
      const r = await goShip(['setup-go-cross', '--workspace', ws], {
        env: { RUNNER_TOOL_CACHE: toolCache },
      });
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(
        'go.mod is not usable: its toolchain line `banana` is not a Go release name such as go1.22.5',
      );
    });

    test('an unknown target names the nearest valid ones (after installing from the cache)', async () => {
      const tc = tempDir('tc-target');
      const mirror = await startMirror(fx);
      try {
        const r = await setup(
          [
            '--with',
            `go-version=${SEMVER}`,
            '--with',
            `go-download-base-url=${mirror.url}/dl`,
            '--with',
            'targets=linux/amd64,linux/amd46',
          ],
          tc,
        );
        expect(r.code).toBe(1);
        expect(r.log).toContain('Input `targets` got `linux/amd46`');
        expect(r.log).toContain('Did you mean `linux/amd64`');
        const v = await setup(['--with', `go-version=${SEMVER}`, '--with', 'targets=linux/arm/8'], tc);
        expect(v.log).toContain(
          'Input `targets` got `linux/arm/8`; it accepts for arm one of the GOARM values `5`, `6`, `7`.',
        );
      } finally {
        await mirror.close();
      }
    });
  });

  describe('from the module proxy (GOPROXY)', () => {
    test('installs golang.org/toolchain verified by its h1: hash from the checksum database', async () => {
      const toolCache = tempDir('tc-proxy');
      const r = await setup(fromProxy(), toolCache);
      expect(r.code).toBe(0);
      expect(r.result.outputs).toMatchObject({ 'go-version': SEMVER, 'go-source': 'proxy' });
      expect(r.log).toContain(`h1 hash ${fx.h1} matches the checksum database`);
      const go = join(r.result.outputs['go-root'], 'bin', 'go');
      expect((await runCommand(go, ['version'])).stdout).toBe(`go version ${TEST_GO} linux/amd64\n`);
      // _go.mod files are renamed, so the standard library builds as a module.
      expect(existsSync(join(r.result.outputs['go-root'], 'src', 'go.mod'))).toBe(true);
      await runCommand(go, ['build', '-o', join(tempDir('pb'), 'svc'), '.'], {
        cwd: HELLO,
        env: { GOROOT: undefined, GOFLAGS: '-buildvcs=false' },
      });
    });

    test('auto falls back from an unreachable download site to the proxy, and says so', async () => {
      const r = await setup(
        ['--with', `go-version=${SEMVER}`, '--with', 'go-download-base-url=http://127.0.0.1:9/dl'],
        tempDir('tc-auto'),
      );
      expect(r.code).toBe(0);
      expect(r.result.outputs['go-source']).toBe('proxy');
      expect(r.log).toMatch(
        /warning: The download site http:\/\/127\.0\.0\.1:9\/dl did not provide it .*installed from the module proxy instead/,
      );
    });

    test("a tampered module zip is rejected against the checksum database's hash; nothing installed", async () => {
      const realProxy = (await runCommand('go', ['env', 'GOPROXY'])).stdout.trim().split(/[,|]/)[0];
      const bad = join(tempDir('badzip'), 'bad.zip');
      const work = tempDir('badzip-src');
      const prefix = `golang.org/toolchain@v0.0.1-${TEST_GO}.linux-amd64`;
      await runCommand('mkdir', ['-p', join(work, prefix, 'bin')]);
      writeFileSync(join(work, prefix, 'bin', 'go'), '#!/bin/sh\necho evil\n');
      await runCommand('zip', ['-qr', bad, prefix], { cwd: work });
      // A loopback proxy that serves the tampered zip and passes checksum-database lookups through.
      const proxy = await startServer(async (req, res) => {
        if (req.url?.endsWith('.zip')) {
          res.writeHead(200).end(readFileSync(bad));
        } else if (req.url?.startsWith('/sumdb/')) {
          const upstream = await fetch(`${realProxy}${req.url}`);
          res.writeHead(upstream.status).end(Buffer.from(await upstream.arrayBuffer()));
        } else res.writeHead(404).end();
      });
      const toolCache = tempDir('tc-badzip');
      try {
        const r = await setup(fromProxy(), toolCache, { GOPROXY: proxy.url });
        expect(r.code).toBe(1);
        expect(r.log).toContain(
          `Checksum mismatch for golang.org/toolchain@v0.0.1-${TEST_GO}.linux-amd64: the checksum database`,
        );
        expect(r.log).toContain(`records ${fx.h1}, the zip from the proxy hashes to h1:`);
        expect(cacheEntries(toolCache)).toEqual([]);
      } finally {
        await proxy.close();
      }
    });

    test('a proxy that forges the checksum-database record to match its tampered zip is caught by the proofs', async () => {
      const realProxy = (await runCommand('go', ['env', 'GOPROXY'])).stdout.trim().split(/[,|]/)[0];
      const prefix = `golang.org/toolchain@v0.0.1-${TEST_GO}.linux-amd64`;
      const work = tempDir('forge-src');
      await runCommand('mkdir', ['-p', join(work, prefix, 'bin')]);
      const evil = '#!/bin/sh\necho evil\n';
      writeFileSync(join(work, prefix, 'bin', 'go'), evil);
      const bad = join(tempDir('forge'), 'bad.zip');
      await runCommand('zip', ['-qr', bad, prefix], { cwd: work });
      const forgedH1 = hash1([
        { name: `${prefix}/bin/go`, sha256: createHash('sha256').update(evil).digest('hex') },
      ]);
      // Everything else passes through, so the signed tree head and the tiles are the real ones.
      const proxy = await startServer(async (req, res) => {
        if (req.url?.endsWith('.zip')) return void res.writeHead(200).end(readFileSync(bad));
        const upstream = await fetch(`${realProxy}${req.url}`);
        let body = Buffer.from(await upstream.arrayBuffer());
        if (req.url?.includes('/lookup/'))
          body = Buffer.from(body.toString('utf8').replace(/(linux-amd64 )h1:\S+/, `$1${forgedH1}`));
        res.writeHead(upstream.status).end(body);
      });
      const toolCache = tempDir('tc-forge');
      try {
        const r = await setup(fromProxy(), toolCache, { GOPROXY: proxy.url });
        expect(r.code).toBe(1);
        expect(r.log).toContain(
          `The checksum database answer for golang.org/toolchain@v0.0.1-${TEST_GO}.linux-amd64 from ${proxy.url}/sumdb/sum.golang.org does not verify: record`,
        );
        expect(r.log).toContain('is not in the signed tree (its inclusion proof fails)');
        expect(proxy.requests.some((u) => u.endsWith('.zip'))).toBe(false);
        expect(cacheEntries(toolCache)).toEqual([]);
      } finally {
        await proxy.close();
      }
    });

    test("GOPROXY ',' falls through a 404 to the next proxy", async () => {
      const realProxy = (await runCommand('go', ['env', 'GOPROXY'])).stdout.trim().split(/[,|]/)[0];
      const empty = await startServer((_req, res) => void res.writeHead(404).end('not here'));
      try {
        const r = await setup(
          ['--with', 'go-version=1.22', '--with', 'go-download-source=proxy', '--with', 'check-latest=true'],
          tempDir('tc-fallback'),
          { GOPROXY: `${empty.url},${realProxy}` },
        );
        expect(r.code).toBe(0);
        expect(r.result.outputs['go-version']).toBe(SEMVER);
        expect(empty.requests).toContain('/golang.org/toolchain/@v/list');
      } finally {
        await empty.close();
      }
    });

    test('GOSUMDB=off is refused: a proxy toolchain cannot be verified without it', async () => {
      const r = await setup(fromProxy(), tempDir('tc-nosum'), { GOSUMDB: 'off' });
      expect(r.code).toBe(1);
      expect(r.log).toContain('GOSUMDB is off');
    });
  });
});
