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
  expect(s.builds).toEqual([{ main: '.', binary: '{{ .ProjectName }}', targets: s.targets }]);
  expect(s.cgo).toBeUndefined(); // no CGO_ENABLED: Go decides, as in GoReleaser
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
  expect(s.unused).toEqual(['dockers']);
  expect(s.archive.wrapInDirectory).toBe('{{ .ArchiveName }}');
});

test('keys that change what is built are applied: top-level env, main as a file, one build per OS, files dst/strip_parent', () => {
  const s = readGoReleaserConfig(
    config(
      'real.yaml',
      `version: 2
env: [GOFLAGS=-tags=netgo, CGO_ENABLED=0]
builds:
  - id: linux
    main: ./cmd/hello/main.go
    binary: hello
    goos: [linux]
    goarch: [amd64, arm64]
    env: [GOPRIVATE=example.com]
  - id: darwin
    main: ./cmd/hello/main.go
    binary: hello
    goos: [darwin]
    goarch: [arm64]
    env: [GOPRIVATE=example.com]
archives:
  - wrap_in_directory: "{{ .ProjectName }}"
    files:
      - src: docs/*.md
        dst: documentation
        strip_parent: true
      - LICENSE
`,
    ),
    'real.yaml',
  );
  expect(s.env).toEqual({ GOFLAGS: '-tags=netgo', GOPRIVATE: 'example.com' });
  expect(s.cgo).toBe(false);
  expect(s.builds).toEqual([
    {
      main: './cmd/hello/main.go',
      binary: 'hello',
      targets: ['linux/amd64/v1', 'linux/arm64/v8.0', 'darwin/arm64/v8.0'],
    },
  ]);
  expect(s.targets).toEqual(['linux/amd64/v1', 'linux/arm64/v8.0', 'darwin/arm64/v8.0']);
  expect(s.archive.files).toEqual([
    { src: 'docs/*.md', dst: 'documentation', stripParent: true },
    { src: 'LICENSE' },
  ]);
  expect(s.archive.wrapInDirectory).toBe('{{ .ProjectName }}');
  expect(s.unused).toEqual([]);
  // Two main packages on different OSes: each built for its own targets, the run for their union.
  const two = readGoReleaserConfig(
    config(
      'two.yaml',
      'builds:\n  - { main: ./a, binary: a, goos: [linux], goarch: [amd64] }\n  - { main: ./b, binary: b, goos: [windows], goarch: [amd64] }\n',
    ),
    'two.yaml',
  );
  expect(two.builds.map((b) => [b.binary, b.targets])).toEqual([
    ['a', ['linux/amd64/v1']],
    ['b', ['windows/amd64/v1']],
  ]);
  expect(two.targets).toEqual(['linux/amd64/v1', 'windows/amd64/v1']);
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
  expect(refuse('includes: [{ from_file: { path: ./build.yaml } }]\n')).toThrow(
    '`includes` pulls settings from other files, which go-ship does not follow',
  );
  expect(refuse('builds: "oops"\n')).toThrow(/`builds`/);
  expect(refuse('builds: [{ hooks: { post: ["upx {{ .Path }}"] } }]\n')).toThrow(
    '`builds[0].hooks` changes what is built (build hooks',
  );
  expect(refuse('upx: [{ enabled: true }]\n')).toThrow('`upx` changes what is built');
  // fzf's config names its one build in archives[].ids: that selects nothing out, so it is read.
  expect(
    readGoReleaserConfig(
      config('ids.yaml', 'builds: [{ id: fzf }]\narchives: [{ ids: [fzf] }]\n'),
      'ids.yaml',
    ).unused,
  ).toEqual([]);
  expect(refuse('builds: [{ id: a, main: ./a }, { id: b, main: ./b }]\narchives: [{ ids: [a] }]\n')).toThrow(
    '`archives[0].ids` (a) leaves builds out of the archive (b)',
  );
  expect(refuse('archives: [{ files: [{ src: x, info: { mode: 0o644 } }] }]\n')).toThrow(
    'archives[0].files[0].info',
  );
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
  expect(read({ 'goreleaser-config': '.goreleaser.yaml', tags: 'netgo', ldflags: '-s' })).toThrow(
    '`ldflags`, `tags` are set too; set them in .goreleaser.yaml instead, or remove goreleaser-config',
  );
  // targets beside the file: some of its targets (a shard of the release fan-out), never others.
  expect(
    read({ 'goreleaser-config': '.goreleaser.yaml', targets: 'linux/amd64,darwin/arm64' })().targets,
  ).toEqual(['linux/amd64/v1', 'darwin/arm64/v8.0']);
  expect(read({ 'goreleaser-config': '.goreleaser.yaml', targets: 'linux/riscv64' })).toThrow(
    'Input `targets` got `linux/riscv64`, which .goreleaser.yaml does not build',
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
