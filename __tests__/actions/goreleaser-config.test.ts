import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTar } from '../../src/archive/archive.js';
import { readZip } from '../../src/archive/zip-reader.js';
import { runAction, tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { testRepo } from '../helpers/git.js';
import { goTool } from '../helpers/go-tools.js';

// The GoReleaser the build-matrix bench compares with (its go.mod accepts the machine's Go).
const GORELEASER = ['github.com/goreleaser/goreleaser/v2', 'v2.15.1'] as const;

// The shape of a real multi-binary CLI's config (goreleaser init's name_template, goarm, ignore,
// hooks, per-OS formats), plus sections go-ship does not do, which the warning must list exactly.
const CONFIG = `version: 2
project_name: hello
before:
  hooks:
    - go mod tidy
    - go run ./internal/stamp "hooks ran"
builds:
  - id: hello
    main: ./cmd/hello
    binary: hello
    env: [CGO_ENABLED=0]
    flags: [-trimpath]
    ldflags:
      - -s -w -X main.version={{.Version}} -X main.commit={{.Commit}}
      - -X main.date={{.CommitDate}} -X main.os={{ .Os }}
    goos: [linux, darwin, windows]
    goarch: [amd64, arm64, arm]
    goarm: ["6", "7"]
    ignore:
      - { goos: darwin, goarch: amd64 }
      - { goos: windows, goarch: arm }
      - { goos: windows, goarch: arm64 }
    mod_timestamp: "{{ .CommitTimestamp }}"
  - id: helper
    main: ./cmd/helper
    binary: hello-helper
    env: [CGO_ENABLED=0]
    flags: [-trimpath]
    ldflags:
      - -s -w -X main.version={{.Version}} -X main.commit={{.Commit}}
      - -X main.date={{.CommitDate}} -X main.os={{ .Os }}
    goos: [linux, darwin, windows]
    goarch: [amd64, arm64, arm]
    goarm: ["6", "7"]
    ignore:
      - { goos: darwin, goarch: amd64 }
      - { goos: windows, goarch: arm }
      - { goos: windows, goarch: arm64 }
    mod_timestamp: "{{ .CommitTimestamp }}"
archives:
  - formats: [tar.xz]
    name_template: >-
      {{ .ProjectName }}_
      {{- title .Os }}_
      {{- if eq .Arch "amd64" }}x86_64
      {{- else if eq .Arch "386" }}i386
      {{- else }}{{ .Arch }}{{ end }}
      {{- if .Arm }}v{{ .Arm }}{{ end }}
    format_overrides:
      - goos: windows
        formats: [zip]
    files: [LICENSE, README.md]
checksum:
  name_template: "{{ .ProjectName }}_{{ .Version }}_SHA512SUMS"
  algorithm: sha512
snapshot:
  version_template: "{{ incpatch .Version }}-next"
changelog:
  sort: asc
  filters:
    exclude: ["^docs:"]
release:
  draft: true
nfpms:
  - formats: [deb]
    maintainer: Hello <hello@example.com>
`;

const MAIN = (name: string) =>
  `package main\n\nimport "fmt"\n\nvar version, commit, date, os = "dev", "", "", ""\n\nfunc main() { fmt.Println("${name}", version, commit, date, os) }\n`;

describeWith('go', hasCommand('go', ['version']), 'build-matrix with a .goreleaser.yaml', () => {
  test('names archives, binaries and the checksums file as GoReleaser does, with the same binaries; one warning lists the keys it skipped', async () => {
    const root = tempDir('goreleaser');
    const { dir, git } = testRepo(join(root, 'hello'), {
      files: {
        'go.mod': 'module example.com/hello\n\ngo 1.22\n',
        'cmd/hello/main.go': MAIN('hello'),
        'cmd/helper/main.go': MAIN('helper'),
        'internal/stamp/main.go':
          'package main\n\nimport "os"\n\nfunc main() { _ = os.WriteFile("hooks-ran.txt", []byte(os.Args[1]), 0o644) }\n',
        LICENSE: 'MIT\n',
        'README.md': '# hello\n',
        '.gitignore': '/dist/\n/out/\n/hooks-ran.txt\n',
        '.goreleaser.yaml': CONFIG,
      },
      message: 'feat: hello',
      origin: true, // GoReleaser reads the remote's URL; without one a snapshot forgets the commit
    });
    git('tag', 'v1.3.0');
    git('commit', '-q', '--allow-empty', '-m', 'fix: after the tag');
    const env = { GOFLAGS: '', GOTOOLCHAIN: 'local' };

    const goreleaser = goTool(...GORELEASER);
    const gr = spawnSync(
      goreleaser,
      ['release', '--snapshot', '--clean', '--skip=publish', '--parallelism', '2'],
      {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, ...env },
      },
    );
    expect(gr.stderr.slice(-2000)).not.toMatch(/⨯ release failed/);
    expect(gr.status).toBe(0);
    rmSync(join(dir, 'hooks-ran.txt'));

    const r = await runAction('build-matrix', {
      workspace: dir,
      with: { 'goreleaser-config': '.goreleaser.yaml', 'output-dir': 'out', parallelism: '2' },
      processEnv: env,
    });
    expect({ code: r.code, log: r.code ? r.stderr.slice(-3000) : '' }).toEqual({ code: 0, log: '' });
    expect(readFileSync(join(dir, 'hooks-ran.txt'), 'utf8')).toBe('hooks ran');

    // The same files by name: archives per target and the checksums file.
    const released = (d: string) =>
      readdirSync(d)
        .filter((f) => /\.(tar\.xz|zip)$|SHA512SUMS$/.test(f))
        .sort();
    const names = released(join(dir, 'dist'));
    expect(names).toEqual([
      'hello_1.3.1-next_SHA512SUMS',
      'hello_Darwin_arm64.tar.xz',
      'hello_Linux_arm64.tar.xz',
      'hello_Linux_armv6.tar.xz',
      'hello_Linux_armv7.tar.xz',
      'hello_Linux_x86_64.tar.xz',
      'hello_Windows_x86_64.zip',
    ]);
    expect(released(join(dir, 'out'))).toEqual(names);
    expect(r.outputs.version).toBe('1.3.1-next');

    // The same entries in each archive, and the binaries byte for byte (same flags, same stamps).
    const entries = (file: string): Map<string, Buffer> =>
      file.endsWith('.zip')
        ? new Map(readZip(readFileSync(file)).map((e) => [e.name, e.read()]))
        : readTar(execFileSync('xz', ['-dc', file], { maxBuffer: 1 << 28 }));
    for (const archive of names.filter((n) => !n.endsWith('SUMS'))) {
      const theirs = entries(join(dir, 'dist', archive));
      const ours = entries(join(dir, 'out', archive));
      expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
      for (const bin of ['hello', 'hello-helper'].map((b) => (archive.includes('Windows') ? `${b}.exe` : b)))
        expect({ archive, bin, same: ours.get(bin)!.equals(theirs.get(bin)!) }).toEqual({
          archive,
          bin,
          same: true,
        });
    }

    // sha512 lines over the same names; ours match our own archives.
    const sums = readFileSync(join(dir, 'out', names[0]), 'utf8')
      .trim()
      .split('\n');
    // GoReleaser's also lists the nfpms .deb packages, a section go-ship reports as not done.
    const theirs = readFileSync(join(dir, 'dist', names[0]), 'utf8')
      .trim()
      .split('\n')
      .filter((l) => !l.endsWith('.deb'));
    expect(sums.map((l) => l.split('  ')[1])).toEqual(theirs.map((l) => l.split('  ')[1]));
    for (const line of sums) {
      const [digest, file] = line.split('  ');
      expect(digest).toMatch(/^[0-9a-f]{128}$/);
      expect(execFileSync('sha512sum', [join(dir, 'out', file)], { encoding: 'utf8' }).split(' ')[0]).toBe(
        digest,
      );
    }

    // One warning, naming exactly the keys go-ship did not act on.
    const unused = r.stderr.split('\n').filter((l) => l.includes('does not act on'));
    expect(unused).toHaveLength(1);
    expect(unused[0]).toContain('.goreleaser.yaml: go-ship does not act on `changelog`, `release`, `nfpms`.');
    expect(existsSync(join(dir, 'out', 'manifest.json'))).toBe(true);
  }, 900_000);

  // The shape of real configs that go-ship refused or misread before (field report #28): one build
  // per OS, `main` as a file, a per-target binary name, top-level env, git template fields,
  // wrap_in_directory and files with dst/strip_parent. GoReleaser itself runs on the same commit.
  test('one build per OS, main as a file, per-target binary names, top-level env, git fields and archive layout: the same as GoReleaser', async () => {
    const ldflags =
      '-s -w -X main.version={{.Version}} -X main.branch={{ .Branch }} -X main.prev={{ .PreviousTag }} -X main.mod={{ .ModulePath }} -X main.summary={{ .Summary }} -X main.state={{ .GitTreeState }} -X main.nightly={{ if .IsNightly }}yes{{ else }}no{{ end }} -X main.dirty={{ .IsGitDirty }} -X main.goos={{ .Runtime.Goos }}';
    const build = (id: string, goos: string, goarch: string) => `  - id: ${id}
    main: ./main.go
    binary: "hello-{{ .Os }}-{{ .Arch }}"
    goos: [${goos}]
    goarch: [${goarch}]
    ldflags: ["${ldflags}"]
    flags: [-trimpath]
    mod_timestamp: "{{ .CommitTimestamp }}"
`;
    const config = `version: 2
project_name: hello
env: [CGO_ENABLED=0]
builds:
${build('linux', 'linux', 'amd64, arm64')}${build('darwin', 'darwin', 'arm64')}archives:
  - wrap_in_directory: true
    files:
      - src: docs/*.md
        dst: documentation
        strip_parent: true
      - LICENSE
snapshot:
  version_template: "{{ incpatch .Version }}-next"
`;
    const root = tempDir('goreleaser-real');
    const { dir, git } = testRepo(join(root, 'hello'), {
      files: {
        'go.mod': 'module example.com/hello\n\ngo 1.22\n',
        'main.go':
          'package main\n\nimport "fmt"\n\nvar version, branch, prev, mod, summary, state, nightly, dirty, goos string\n\nfunc main() { fmt.Println(version, branch, prev, mod, summary, state, nightly, dirty, goos) }\n',
        'docs/guide.md': '# guide\n',
        'docs/faq.md': '# faq\n',
        LICENSE: 'MIT\n',
        '.gitignore': '/dist/\n/out/\n',
        '.goreleaser.yaml': config,
      },
      message: 'feat: hello',
      origin: true,
    });
    git('tag', 'v1.2.0');
    git('commit', '-q', '--allow-empty', '-m', 'feat: more');
    git('tag', 'v1.3.0');
    git('commit', '-q', '--allow-empty', '-m', 'fix: after the tag');
    const env = { GOFLAGS: '', GOTOOLCHAIN: 'local' };
    const gr = spawnSync(
      goTool(...GORELEASER),
      ['release', '--snapshot', '--clean', '--skip=publish', '--parallelism', '2'],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env } },
    );
    expect({ status: gr.status, log: gr.status ? gr.stderr.slice(-3000) : '' }).toEqual({
      status: 0,
      log: '',
    });

    const r = await runAction('build-matrix', {
      workspace: dir,
      with: { 'goreleaser-config': '.goreleaser.yaml', 'output-dir': 'out', parallelism: '2' },
      processEnv: env,
    });
    expect({ code: r.code, log: r.code ? r.stderr.slice(-3000) : '' }).toEqual({ code: 0, log: '' });
    expect(r.stderr).not.toContain('does not act on');

    const archives = (d: string) =>
      readdirSync(d)
        .filter((f) => f.endsWith('.tar.gz'))
        .sort();
    expect(archives(join(dir, 'out'))).toEqual([
      'hello_1.3.1-next_darwin_arm64.tar.gz',
      'hello_1.3.1-next_linux_amd64.tar.gz',
      'hello_1.3.1-next_linux_arm64.tar.gz',
    ]);
    expect(archives(join(dir, 'out'))).toEqual(archives(join(dir, 'dist')));
    const entries = (file: string) => readTar(execFileSync('gzip', ['-dc', file], { maxBuffer: 1 << 28 }));
    for (const archive of archives(join(dir, 'out'))) {
      const ours = entries(join(dir, 'out', archive));
      const theirs = entries(join(dir, 'dist', archive));
      const top = archive.replace(/\.tar\.gz$/, '');
      const [, os, arch] = /_(\w+)_(\w+)\.tar\.gz$/.exec(archive)!;
      // Wrapped in a directory named like the archive; docs under documentation/ without docs/.
      expect([...ours.keys()].sort()).toEqual(
        [
          `${top}/LICENSE`,
          `${top}/documentation/faq.md`,
          `${top}/documentation/guide.md`,
          `${top}/hello-${os}-${arch}`,
        ].sort(),
      );
      expect([...ours.keys()].sort()).toEqual([...theirs.keys()].filter((k) => !k.endsWith('/')).sort());
      const bin = `${top}/hello-${os}-${arch}`;
      expect({ archive, same: ours.get(bin)!.equals(theirs.get(bin)!) }).toEqual({ archive, same: true });
    }
    // The git fields really reached the binary (and equal GoReleaser's, since the bytes are equal).
    const native = entries(join(dir, 'out', 'hello_1.3.1-next_linux_amd64.tar.gz')).get(
      'hello_1.3.1-next_linux_amd64/hello-linux-amd64',
    )!;
    const bin = join(root, 'native');
    writeFileSync(bin, native, { mode: 0o755 });
    expect(execFileSync(bin, { encoding: 'utf8' }).trim()).toMatch(
      /^1\.3\.1-next main v1\.2\.0 example\.com\/hello v1\.3\.0-1-g[0-9a-f]+ clean no false linux$/,
    );
  }, 900_000);
});
