import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getInputs } from '../../src/actions/build-matrix/inputs.js';
import { readGoReleaserConfig } from '../../src/crossbuild/goreleaser.js';
import { splitCommandLine } from '../../src/runner/command.js';
import { runAction, tempDir } from '../helpers/cli.js';
import { actionInputs } from '../helpers/inputs.js';

const dir = tempDir('goreleaser-unit');
const config = (name: string, yaml: string) => {
  writeFileSync(join(dir, name), yaml);
  return join(dir, name);
};

test("GoReleaser's defaults: linux/darwin/windows × amd64/arm64/386 with default variants, tar.gz, its name template", () => {
  const s = readGoReleaserConfig(config('min.yaml', 'version: 2\n'), 'min.yaml');
  expect(s.targets).toEqual([
    'linux/amd64/v1',
    'linux/arm64/v8.0',
    'linux/386/sse2',
    'darwin/amd64/v1',
    'darwin/arm64/v8.0',
    'darwin/386/sse2',
    'windows/amd64/v1',
    'windows/arm64/v8.0',
    'windows/386/sse2',
  ]);
  expect(s.archive).toMatchObject({ format: 'tar.gz', overrides: {} });
  expect(s.archive.nameTemplate).toContain('{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}');
  expect(s.builds).toEqual([{ main: '.', binary: '{{ .ProjectName }}' }]);
  expect(s.checksum).toEqual({
    nameTemplate: '{{ .ProjectName }}_{{ .Version }}_checksums.txt',
    algorithm: 'sha256',
    disable: false,
  });
  expect(s.unused).toEqual([]);
});

test('ignore drops matching targets, goarm multiplies arm; unused keys are reported at their topmost unread path', () => {
  const s = readGoReleaserConfig(
    config(
      'arm.yaml',
      `version: 2
builds:
  - goos: [linux]
    goarch: [arm, amd64]
    goarm: ["6", "7"]
    ignore: [{ goos: linux, goarch: arm, goarm: "6" }]
    hooks: { post: ["echo hi"] }
    flags: [-trimpath, -tags=netgo, -mod=readonly]
    env: [CGO_ENABLED=0, GOPRIVATE=example.com]
archives:
  - formats: [binary]
    wrap_in_directory: true
dockers: [{ image_templates: ["x"] }]
`,
    ),
    'arm.yaml',
  );
  expect(s.targets).toEqual(['linux/arm/7', 'linux/amd64/v1']);
  expect(s.archive.format).toBe('none');
  expect(s.archive.nameTemplate.startsWith('{{ .Binary }}_')).toBe(true);
  expect({ trimpath: s.trimpath, tags: s.tags, flags: s.flags, env: s.env, cgo: s.cgo }).toEqual({
    trimpath: true,
    tags: ['netgo'],
    flags: ['-mod=readonly'],
    env: { GOPRIVATE: 'example.com' },
    cgo: false,
  });
  expect(s.unused).toEqual(['builds[0].hooks', 'archives[0].wrap_in_directory', 'dockers']);
});

test('what go-ship cannot do the same way is refused by name, with the way out', () => {
  const refuse = (yaml: string) => () => readGoReleaserConfig(config('bad.yaml', yaml), 'bad.yaml');
  expect(refuse('archives: [{}, {}]\n')).toThrow(
    '`archives` has 2 entries; go-ship writes one archive per target',
  );
  expect(refuse('builds: [{ builder: rust }]\n')).toThrow('`builds[0].builder` is "rust"');
  expect(refuse('checksum: { algorithm: blake3 }\n')).toThrow(
    /`checksum.algorithm` is "blake3".*one of sha256, sha512/,
  );
  expect(refuse('archives: [{ formats: [tar.gz, zip] }]\n')).toThrow(
    'one format (go-ship writes one archive per target)',
  );
  expect(refuse('builds: [{ main: ./a, ldflags: [-s] }, { main: ./b }]\n')).toThrow(
    '`builds[1]` has other ldflags than `builds[0]`',
  );
  expect(refuse('builds: [{ mod_timestamp: "{{ .Timestamp }}" }]\n')).toThrow(
    'go-ship always stamps the commit time',
  );
  expect(refuse('- a list\n')).toThrow('is not a GoReleaser configuration');
});

test('goreleaser-config: a missing file and an input that the file decides are refused by name', () => {
  const read = (withs: Record<string, string>) => () => {
    const { inputs, env } = actionInputs('build-matrix', withs, { GITHUB_WORKSPACE: dir });
    return getInputs(inputs, env);
  };
  expect(read({ 'goreleaser-config': 'nope.yaml' })).toThrow(
    /Input `goreleaser-config` got `nope.yaml`; it accepts a GoReleaser configuration file.*There is no/,
  );
  config('.goreleaser.yaml', 'version: 2\nproject_name: p\n');
  expect(read({ 'goreleaser-config': '.goreleaser.yaml', targets: 'linux/amd64', ldflags: '-s' })).toThrow(
    '`targets`, `ldflags` are set too; set them in .goreleaser.yaml instead, or remove goreleaser-config',
  );
  const c = read({ 'goreleaser-config': '.goreleaser.yaml' })();
  expect({ project: c.projectName, strip: c.strip, archive: c.archive }).toEqual({
    project: 'p',
    strip: false,
    archive: 'tar.gz',
  });
});

test('hooks split like go-shellwords: quotes group, backslashes escape, no expansion', () => {
  expect(splitCommandLine(`go run ./gen "a b" 'c "d"' e\\ f $HOME`)).toEqual([
    'go',
    'run',
    './gen',
    'a b',
    'c "d"',
    'e f',
    '$HOME',
  ]);
  expect(() => splitCommandLine('echo "open')).toThrow('unclosed " quote');
});

test("plan mode with a GoReleaser config: GoReleaser's default cross product minus what Go lacks (darwin/386)", async () => {
  const ws = tempDir('goreleaser-plan');
  writeFileSync(join(ws, '.goreleaser.yaml'), 'version: 2\nproject_name: p\n');
  writeFileSync(join(ws, 'go.mod'), 'module example.com/p\n\ngo 1.22\n');
  const r = await runAction('build-matrix', {
    workspace: ws,
    with: { 'goreleaser-config': '.goreleaser.yaml', mode: 'plan', shards: '3' },
  });
  expect(r.code).toBe(0);
  const shards = (JSON.parse(r.outputs.matrix) as { include: { targets: string }[] }).include;
  const targets = shards.flatMap((s) => s.targets.split(',')).sort();
  expect(targets).toEqual(
    ['linux', 'darwin', 'windows']
      .flatMap((os) => ['amd64/v1', 'arm64/v8.0', '386/sse2'].map((a) => `${os}/${a}`))
      .filter((t) => t !== 'darwin/386/sse2')
      .sort(),
  );
});
