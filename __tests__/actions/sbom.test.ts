import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAction, tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { greetApp } from '../helpers/go-modules.js';
import { toolchainFixture } from '../helpers/toolchain.js';
import { testRepo } from '../helpers/git.js';
import { parseBuildInfo } from '../../src/crossbuild/sbom.js';

// build-matrix `sbom: true`: a CycloneDX 1.6 SBOM per archive from the binaries' own build
// information, checked by CycloneDX's own validator (@cyclonedx/cyclonedx-library, the official
// JSON schema) and against `go version -m` on the binary itself.
interface Component {
  type: string;
  name: string;
  version: string;
  purl: string;
  hashes?: { alg: string; content: string }[];
  properties?: { name: string; value: string }[];
}
interface Bom {
  specVersion: string;
  serialNumber: string;
  metadata: { timestamp: string; component: Component };
  components: Component[];
  dependencies: { ref: string; dependsOn: string[] }[];
}

const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);
const sh = (cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env } });

describeWith(
  'go, git and tar',
  hasCommand('go', ['version']) && hasCommand('git') && hasCommand('tar'),
  'build-matrix SBOMs',
  () => {
    test('one CycloneDX 1.6 SBOM per archive: valid by the CycloneDX validator, the modules and build settings of go version -m, in the checksums (which attest-build-provenance reads), identical on a rebuild', async () => {
      const root = tempDir('sbom');
      const { dir, env: goEnv, h1 } = await greetApp(root, 'sbomapp');

      const build = () =>
        runAction('build-matrix', {
          workspace: dir,
          with: ['targets=linux/amd64,windows/amd64', 'version=0.3.0', 'sbom=true'],
          env: goEnv,
        });
      const r = await build();
      expect(r.code).toBe(0);
      const dist = join(dir, 'dist');
      const sboms = JSON.parse(r.outputs.sboms) as { describes: string; path: string; sha256: string }[];
      expect(sboms.map((s) => s.path.slice(dist.length + 1))).toEqual([
        'sbomapp_0.3.0_linux_amd64.tar.gz.sbom.json',
        'sbomapp_0.3.0_windows_amd64.zip.sbom.json',
      ]);
      // The archives output still lists archives only; the checksums cover the SBOMs too.
      expect((JSON.parse(r.outputs.artifacts) as unknown[]).length).toBe(2);
      const checksums = readFileSync(r.outputs['checksums-file'], 'utf8');
      expect(checksums).toContain('sbomapp_0.3.0_windows_amd64.zip.sbom.json');
      sh('sha256sum', ['-c', r.outputs['checksums-file'].split('/').pop()!], dist);
      // The hand-off to GitHub's artifact attestations: actions/attest-build-provenance's
      // `subject-checksums` (actions/attest src/subject.ts) splits on the runner's EOL ("\n" on Linux),
      // takes the hex digest before the first space (64 digits: sha256), drops one '*' or ' ' flag, and
      // keeps the rest as the subject name; at most 1,024 subjects and 512 KiB.
      const subjects = checksums
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const at = line.indexOf(' ');
          const rest = line.slice(at + 1);
          return { digest: line.slice(0, at), name: /^[* ]/.test(rest) ? rest.slice(1) : rest };
        });
      const released = readdirSync(dist).filter(
        (f) => f !== 'manifest.json' && !f.endsWith('_checksums.txt'),
      );
      expect(subjects.map((x) => x.name).sort()).toEqual(released.sort());
      for (const x of subjects)
        expect(x.digest).toBe(sh('sha256sum', [join(dist, x.name)], dist).split(' ')[0]);
      expect(subjects.every((x) => /^[0-9a-f]{64}$/.test(x.digest))).toBe(true);
      expect(checksums).not.toContain('\r');

      const text = readFileSync(sboms[0].path, 'utf8');
      expect(await validator.validate(text)).toBeNull();
      const bom = JSON.parse(text) as Bom;
      expect(bom.specVersion).toBe('1.6');
      expect(bom.metadata.timestamp).toBe(
        new Date(Number(sh('git', ['log', '-1', '--format=%ct'], dir)) * 1000)
          .toISOString()
          .replace('.000Z', 'Z'),
      );
      const archive = join(dist, 'sbomapp_0.3.0_linux_amd64.tar.gz');
      expect(bom.metadata.component.hashes![0].content).toBe(sh('sha256sum', [archive], dist).split(' ')[0]);

      // Agreement with go version -m on the binary in the archive.
      const out = join(root, 'x');
      mkdirSync(out);
      sh('tar', ['-xzf', archive, '-C', out], out);
      const binary = join(out, 'sbomapp');
      const goVersionM = sh('go', ['version', '-m', binary], out);
      const app1 = bom.components.find((c) => c.type === 'application')!;
      expect(app1.hashes![0].content).toBe(sh('sha256sum', [binary], out).split(' ')[0]);
      // The main module's version is the one Go stamped (a pseudo-version here: no tag at HEAD).
      const mainVersion = /\tmod\texample\.com\/sbomapp\t(\S+)/.exec(goVersionM)![1];
      expect(app1.purl).toBe(`pkg:golang/example.com/sbomapp@${mainVersion}`);
      const goVersion = goVersionM.split('\n')[0].split(': ')[1];
      expect(app1.properties).toContainEqual({ name: 'go:version', value: goVersion });
      for (const line of goVersionM.split('\n').filter((l) => l.startsWith('\tbuild\t'))) {
        const [key, ...value] = line.slice('\tbuild\t'.length).split('=');
        expect(app1.properties).toContainEqual({ name: `go:build:${key}`, value: value.join('=') });
      }
      const deps = goVersionM.split('\n').filter((l) => l.startsWith('\tdep\t'));
      expect(deps).toEqual([`\tdep\texample.com/greet\tv1.4.2\t${h1}`]);
      const greet = bom.components.find((c) => c.name === 'example.com/greet')!;
      expect(greet).toMatchObject({
        type: 'library',
        version: 'v1.4.2',
        purl: 'pkg:golang/example.com/greet@v1.4.2',
      });
      expect(greet.hashes).toEqual([
        { alg: 'SHA-256', content: Buffer.from(h1.slice(3), 'base64').toString('hex') },
      ]);
      expect(bom.components.find((c) => c.name === 'std')).toMatchObject({ version: goVersion });
      expect(bom.dependencies).toContainEqual({
        ref: 'binary:sbomapp',
        dependsOn: ['example.com/greet@v1.4.2', `std@${goVersion}`],
      });
      const windows = JSON.parse(readFileSync(sboms[1].path, 'utf8')) as Bom;
      expect(windows.components[0].properties).toContainEqual({ name: 'go:build:GOOS', value: 'windows' });

      // The validator is not a rubber stamp: a component type the schema does not know fails.
      const broken = JSON.parse(text) as Bom;
      broken.components[0].type = 'executable';
      expect(await validator.validate(JSON.stringify(broken))).not.toBeNull();

      // Reproducible: a rebuild writes the same SBOM bytes.
      const again = await build();
      expect(again.code).toBe(0);
      expect(readFileSync(sboms[0].path, 'utf8')).toBe(text);
    }, 300_000);

    test('build information read from go version -m text equals its -json form (deps, a replacement, quoted build settings)', async () => {
      const root = tempDir('buildinfo');
      const { dir, env: goEnv } = await greetApp(root, 'infoapp');
      mkdirSync(join(root, 'greet-fork'));
      writeFileSync(join(root, 'greet-fork', 'go.mod'), 'module example.com/greet\n\ngo 1.22\n');
      writeFileSync(
        join(root, 'greet-fork', 'greet.go'),
        'package greet\n\nfunc Hello() string { return "hi" }\n',
      );
      sh('go', ['mod', 'edit', '-replace', `example.com/greet=${join(root, 'greet-fork')}`], dir, goEnv);
      const bin = join(root, 'infoapp.bin');
      sh(
        'go',
        ['build', '-tags', 'netgo osusergo', '-ldflags', `-X 'main.note=a b="q"' -s`, '-o', bin, '.'],
        dir,
        goEnv,
      );
      const text = sh('go', ['version', '-m', bin], dir);
      expect(text).toMatch(/\tbuild\t-ldflags="/); // the quoted form is really exercised
      expect(parseBuildInfo(text, bin)).toEqual(JSON.parse(sh('go', ['version', '-m', '-json', bin], dir)));
    }, 120_000);

    test('a go 1.19 module with Go 1.19 on PATH gets its SBOM (go version -m -json is 1.23+)', async () => {
      const root = tempDir('sbom119');
      const { dir } = testRepo(join(root, 'oldapp'), {
        files: {
          'go.mod': 'module example.com/oldapp\n\ngo 1.19\n',
          'main.go': 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n',
          '.gitignore': '/dist/\n',
        },
      });
      const go119 = await toolchainFixture('go1.19.13');
      const goroot = join(root, 'go1.19');
      mkdirSync(goroot);
      sh('tar', ['-xzf', go119.tarGz, '-C', goroot, '--strip-components=1'], root);
      const r = await runAction('build-matrix', {
        workspace: dir,
        with: ['targets=linux/amd64', 'version=0.1.0', 'sbom=true'],
        env: { PATH: `${join(goroot, 'bin')}:${process.env.PATH}`, GOTOOLCHAIN: 'local', GOFLAGS: '' },
      });
      expect(r.stderr + r.stdout).not.toContain('flag provided but not defined');
      expect(r.stderr).not.toMatch(/error/i);
      expect(r.code).toBe(0);
      const [sbom] = JSON.parse(r.outputs.sboms) as { path: string }[];
      const bom = JSON.parse(readFileSync(sbom.path, 'utf8')) as Bom;
      expect(bom.metadata.component.name).toBe('oldapp_0.1.0_linux_amd64.tar.gz');
      expect(JSON.stringify(bom)).toContain('go1.19.13');
      expect(JSON.stringify(bom)).toContain('example.com/oldapp');
    }, 300_000);
  },
);
