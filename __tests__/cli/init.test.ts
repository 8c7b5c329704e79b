import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { goShip, ROOT, tempDir } from '../helpers/cli.js';
import { testRepo } from '../helpers/git.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { goTool } from '../helpers/go-tools.js';
import { actionsIn, readProjectConfig } from '../../src/runner/project-config.js';
import { dockerfileKind } from '../../src/cli/init.js';

const WORKFLOWS = [
  '.github/workflows/go-ship-pr.yml',
  '.github/workflows/go-ship-coverage-comment.yml',
  '.github/workflows/go-ship-release.yml',
];

/** A copy of `fixture` as a git repository, optionally with a GitHub origin. */
function repo(fixture: string, origin?: string): string {
  const r = testRepo(join(tempDir('init'), 'repo'), { from: fixture });
  if (origin) r.git('remote', 'add', 'origin', origin);
  return r.dir;
}

/** The checks a user's CI would apply: actionlint on the workflows, the JSON schema and go-ship's reader on the config. */
function validate(dir: string) {
  const lint = spawnSync(
    goTool('github.com/rhysd/actionlint/cmd/actionlint', 'v1.7.12'),
    ['-no-color', '-shellcheck=', '-pyflakes=', ...WORKFLOWS],
    { cwd: dir, encoding: 'utf8' },
  );
  expect(lint.stdout + lint.stderr).toBe('');
  expect(lint.status).toBe(0);
  const schema = JSON.parse(readFileSync(join(ROOT, 'schema', 'go-ship.schema.json'), 'utf8'));
  const check = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
  const doc = parse(readFileSync(join(dir, '.go-ship.yml'), 'utf8'));
  expect(check.errors ?? (check(doc) ? [] : check.errors)).toEqual([]);
  return readProjectConfig(join(dir, '.go-ship.yml'), actionsIn(ROOT));
}

describe('what a Dockerfile is for', () => {
  test.each([
    [
      'FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /app .\nFROM scratch\nCOPY --from=build /app /app\nENTRYPOINT ["/app"]\n',
      'build',
    ],
    [
      'FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go mod download\nCMD ["go", "test", "-race", "./..."]\n',
      'test-runner',
    ],
    [
      'FROM golang:1.22\nCOPY . .\nRUN go build ./... && \\\n  go vet ./...\nCMD go test ./...\n',
      'test-runner',
    ],
    [
      'FROM gcr.io/distroless/static\nARG TARGETPLATFORM\nCOPY $TARGETPLATFORM/hello /usr/bin/hello\nENTRYPOINT ["/usr/bin/hello"]\n',
      'packaging',
    ],
    ['FROM alpine\nCOPY hello /usr/bin/hello\nENTRYPOINT ["/usr/bin/hello"]\n', 'packaging'],
    // fzf's: builds with make, runs its Ruby test suite.
    [
      'FROM ruby:3\nRUN apt-get install -y golang\nCOPY . /fzf\nRUN cd /fzf && make install\nCMD ["bash", "-ic", "ruby /fzf/test/runner.rb"]\n',
      'test-runner',
    ],
    ['FROM debian\nCOPY . /src\nRUN cd /src && make\nCMD ["/src/app"]\n', 'other'],
    // Built by the project's make in a build stage, the binary copied into the last (go-httpbin's shape).
    [
      'FROM golang:1.26 AS build\nWORKDIR /src\nCOPY . .\nRUN --mount=type=cache,target=/root/.cache/go-build \\\n    make build\nFROM gcr.io/distroless/static:nonroot\nCOPY --from=build /src/dist/app /bin/\nCMD ["/bin/app"]\n',
      'build',
    ],
  ])('%j is %s', (text, kind) => {
    expect(dockerfileKind(text)).toBe(kind);
  });
});

describeWith('go and git', hasCommand('go', ['version']) && hasCommand('git'), 'go-ship init', () => {
  test('two main packages, tests, a .goreleaser.yaml and a GitHub origin: config and workflows that pass actionlint and the schema', async () => {
    const dir = repo(join(ROOT, '__tests__', 'fixtures', 'multibin'), 'git@github.com:Acme/Multi-Bin.git');
    writeFileSync(
      join(dir, 'lib', 'lib_test.go'),
      'package lib\n\nimport "testing"\n\nfunc TestNothing(t *testing.T) {}\n',
    );
    writeFileSync(
      join(dir, '.goreleaser.yaml'),
      'version: 2\nbuilds:\n  - main: ./cmd/alpha\n    goos: [linux, darwin]\n    goarch: [amd64, arm64]\n    ignore:\n      - goos: darwin\n        goarch: amd64\n',
    );
    const r = await goShip(['init', '--workspace', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 main package(s), tests in 1 of 3 packages, .goreleaser.yaml');
    for (const f of ['.go-ship.yml', ...WORKFLOWS]) expect(r.stdout).toContain(`wrote ${f}`);
    const config = validate(dir);
    // build-matrix builds from the GoReleaser file (its one main package, its names); the image runs
    // the binary that build makes (GoReleaser's default binary name: the project's).
    expect(config).toEqual({
      'build-matrix': { 'goreleaser-config': '.goreleaser.yaml' },
      'coverage-gate': { 'threshold-patch': '80' },
      'docker-multistage': { image: 'ghcr.io/acme/multi-bin', binary: 'multibin' },
      'quality-gate': { 'golangci-lint-version': 'v2.15.0' },
    });
    expect(readFileSync(join(dir, '.go-ship.yml'), 'utf8')).toContain(
      '.goreleaser.yaml: build-matrix builds from it (main ./cmd/alpha; 3 targets: linux/amd64/v1, linux/arm64/v8.0, darwin/arm64/v8.0)',
    );
    const release = readFileSync(join(dir, '.github/workflows/go-ship-release.yml'), 'utf8');
    expect(release).toContain('uses: org/go-ship/.github/workflows/go-ship-release.yml@v1');
    expect(release).toContain('image: ghcr.io/acme/multi-bin');
    expect(release).toContain('branches: [main]');

    // Nothing is overwritten without --force, and nothing at all is written then.
    writeFileSync(join(dir, '.go-ship.yml'), '# mine\n');
    const again = await goShip(['init', '--workspace', dir]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(
      `go-ship init would overwrite ${['.go-ship.yml', ...WORKFLOWS].join(', ')}. Nothing was written.`,
    );
    expect(readFileSync(join(dir, '.go-ship.yml'), 'utf8')).toBe('# mine\n');
    const forced = await goShip(['init', '--workspace', dir, '--force']);
    expect(forced.code).toBe(0);
    expect(readFileSync(join(dir, '.go-ship.yml'), 'utf8')).toContain('image: ghcr.io/acme/multi-bin');
  }, 300_000);

  test('a service at the module root with no origin: no packages key, the image left for the user to name', async () => {
    const dir = repo(join(ROOT, 'examples', 'hello-svc'));
    const r = await goShip(['init', '--workspace', dir]);
    expect(r.code).toBe(0);
    const config = validate(dir);
    expect(config['build-matrix']).toEqual({
      targets: 'linux/amd64\nlinux/arm64\ndarwin/amd64\ndarwin/arm64\nwindows/amd64',
    });
    expect(config['docker-multistage']).toBeUndefined();
    expect(readFileSync(join(dir, '.go-ship.yml'), 'utf8')).toContain('#   image: ghcr.io/OWNER/REPO');
  }, 300_000);

  test('golangci-lint pinned for the lint stage; a v1 .golangci.yml turns it off with the way to migrate', async () => {
    const v2 = repo(join(ROOT, 'examples', 'hello-svc'));
    expect((await goShip(['init', '--workspace', v2])).code).toBe(0);
    expect(validate(v2)['quality-gate']).toEqual({ 'golangci-lint-version': 'v2.15.0' });
    expect(readFileSync(join(v2, '.go-ship.yml'), 'utf8')).toContain('# it reads .golangci.yml.');

    const v1 = repo(join(ROOT, 'examples', 'hello-svc'));
    writeFileSync(
      join(v1, '.golangci.yml'),
      'linters:\n  enable: [errcheck]\nissues:\n  exclude-use-default: false\n',
    );
    expect((await goShip(['init', '--workspace', v1])).code).toBe(0);
    expect(validate(v1)['quality-gate']).toEqual({ 'golangci-lint-version': 'off' });
    expect(readFileSync(join(v1, '.go-ship.yml'), 'utf8')).toContain(
      '.golangci.yml is for golangci-lint v1, which v2 refuses: run `golangci-lint migrate`',
    );
  }, 300_000);

  test('a systemd unit in the repository: the hosts deploy target is offered, commented, and the file still validates', async () => {
    const dir = repo(join(ROOT, 'examples', 'hello-svc'));
    mkdirSync(join(dir, 'deploy'));
    writeFileSync(
      join(dir, 'deploy', 'hello-svc.service'),
      '[Unit]\nDescription=hello\n[Service]\nExecStart=/usr/local/bin/hello-svc\n[Install]\nWantedBy=multi-user.target\n',
    );
    const r = await goShip(['init', '--workspace', dir]);
    expect(r.code).toBe(0);
    const config = validate(dir);
    expect(config['deploy-bluegreen']).toBeUndefined();
    const text = readFileSync(join(dir, '.go-ship.yml'), 'utf8');
    expect(text).toContain('#   a systemd unit (deploy/hello-svc.service)');
    expect(text).toContain('#   target: hosts\n#   app: hello-svc\n');
    // Uncommented as the file says, the section is one the schema and go-ship's reader accept.
    writeFileSync(
      join(dir, '.go-ship.yml'),
      text.replace(/^# deploy-bluegreen:\n(# {3}.*\n)+/m, (block) => block.replace(/^# /gm, '')),
    );
    expect(validate(dir)['deploy-bluegreen']).toMatchObject({
      target: 'hosts',
      app: 'hello-svc',
      batch: '1',
    });
  }, 300_000);

  // Untrusted input (#29 item 5): a checkout is data. A planted `.go-ship.yml.go-ship-init` link was
  // written through without --force, a linked `.github/workflows` was followed out of the checkout,
  // and a dangling `.go-ship.yml` link counted as no file.
  test('links planted in the checkout: nothing is written through them or outside it', async () => {
    const lib = () => {
      const dir = join(tempDir('init-links'), 'lib');
      mkdirSync(dir);
      writeFileSync(join(dir, 'go.mod'), 'module example.com/lib\n\ngo 1.22\n');
      writeFileSync(join(dir, 'lib.go'), 'package lib\n\nfunc One() int { return 1 }\n');
      return dir;
    };
    const outside = tempDir('init-outside');
    writeFileSync(join(outside, 'victim'), 'keep me\n');

    const scratch = lib();
    symlinkSync(join(outside, 'victim'), join(scratch, '.go-ship.yml.go-ship-init'));
    expect((await goShip(['init', '--workspace', scratch])).code).toBe(0);
    expect(readFileSync(join(outside, 'victim'), 'utf8')).toBe('keep me\n');
    expect(readFileSync(join(scratch, '.go-ship.yml'), 'utf8')).toContain('coverage-gate');

    const folder = lib();
    mkdirSync(join(folder, '.github'));
    symlinkSync(outside, join(folder, '.github', 'workflows'));
    const out = await goShip(['init', '--workspace', folder, '--force']);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(
      /go-ship init's folder for \.github\/workflows\/\S+ is `\.github\/workflows`, which leads out of that folder through a link/,
    );
    expect(readdirSync(outside)).toEqual(['victim']);
    expect(existsSync(join(folder, '.go-ship.yml'))).toBe(false);

    const dangling = lib();
    symlinkSync(join(outside, 'created-by-init'), join(dangling, '.go-ship.yml'));
    const again = await goShip(['init', '--workspace', dangling]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('go-ship init would overwrite .go-ship.yml. Nothing was written.');
    // With --force the link itself is replaced by a file; nothing lands where it pointed.
    expect((await goShip(['init', '--workspace', dangling, '--force'])).code).toBe(0);
    expect(lstatSync(join(dangling, '.go-ship.yml')).isFile()).toBe(true);
    expect(readdirSync(outside)).toEqual(['victim']);
  }, 300_000);

  test('a library: no build or image, a release workflow that only tags; no go.mod is a clear error', async () => {
    const dir = join(tempDir('init-lib'), 'lib');
    mkdirSync(dir);
    writeFileSync(join(dir, 'go.mod'), 'module example.com/lib\n\ngo 1.22\n');
    writeFileSync(join(dir, 'lib.go'), 'package lib\n\nfunc One() int { return 1 }\n');
    const r = await goShip(['init', '--workspace', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('0 main package(s), tests in 0 of 1 packages');
    const config = validate(dir);
    expect(Object.keys(config)).toEqual(['quality-gate', 'coverage-gate']);
    const release = parse(readFileSync(join(dir, '.github/workflows/go-ship-release.yml'), 'utf8'));
    expect(release.jobs.tag.steps[1]).toEqual({
      uses: 'org/go-ship/semver-tag@v1',
      with: { 'create-release': 'true' },
    });

    const empty = tempDir('init-none');
    const none = await goShip(['init', '--workspace', empty]);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain(`${empty} has no go.mod: go-ship init sets up a Go module's repository.`);
  }, 300_000);
});

/**
 * Repositories shaped like the ones go-ship init broke on (field report #28): what init writes must
 * pass the repository's own first pull request, run through the CLI as the pr workflow runs it.
 */
describeWith(
  'go and git',
  hasCommand('go', ['version']) && hasCommand('git'),
  'go-ship init, then the first pull request',
  () => {
    type Stages = { stage: string; status: string; detail: string; outputs: Record<string, string> }[];
    const MAIN = (name: string) => `package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("${name}") }\n`;
    const TEST =
      'package lib\n\nimport "testing"\n\nfunc TestOne(t *testing.T) {\n\tif One() != 1 {\n\t\tt.Fatal("one")\n\t}\n}\n';
    /** A committed repository from files, `go-ship init` run in it, and the result committed. */
    async function initRepo(name: string, files: Record<string, string>) {
      const r = testRepo(join(tempDir('init-pr'), name), {
        files: {
          'go.mod': `module github.com/acme/${name}\n\ngo 1.22\n`,
          'lib/lib.go': 'package lib\n\nfunc One() int { return 1 }\n',
          'lib/lib_test.go': TEST,
          '.gitignore': '/dist/\n*.out\ncoverage-report.json\n',
          ...files,
        },
        message: 'feat: first',
      });
      r.git('remote', 'add', 'origin', `https://github.com/acme/${name}.git`);
      const init = await goShip(['init', '--workspace', r.dir]);
      expect({ code: init.code, stderr: init.stderr }).toEqual({ code: 0, stderr: '' });
      r.git('add', '-A');
      r.git('commit', '-qm', 'ci: go-ship init');
      return { ...r, init, text: readFileSync(join(r.dir, '.go-ship.yml'), 'utf8') };
    }
    /** The pull request's stages (setup, test, coverage, build) through `go-ship pipeline`. */
    async function firstPullRequest(dir: string) {
      const run = await goShip([
        'pipeline',
        '--workspace',
        dir,
        '--with',
        'event=pull_request',
        '--with',
        'skip=setup',
        '--json',
      ]);
      const stages = (JSON.parse(run.stdout || '{"stages":[]}') as { stages: Stages }).stages;
      expect({
        code: run.code,
        failed: stages.filter((x) => x.status === 'failed'),
        log: run.code ? run.stderr.slice(-2000) : '',
      }).toEqual({
        code: 0,
        failed: [],
        log: '',
      });
      return Object.fromEntries(stages.map((x) => [x.stage, x]));
    }

    test('a GoReleaser config with many goos/goarch and ignores (some pairs Go lacks): build-matrix builds from it, and only what Go has', async () => {
      const r = await initRepo('manyarch', {
        'main.go': MAIN('manyarch'),
        '.goreleaser.yaml': `version: 2
builds:
  - env: [CGO_ENABLED=0]
    goos: [linux, darwin, windows]
    goarch: [amd64, arm64, arm, loong64]
    goarm: ["6", "7"]
    ignore:
      - { goos: linux, goarch: arm, goarm: "6" }
`,
      });
      expect(r.text).toContain('  goreleaser-config: .goreleaser.yaml');
      expect(r.text).not.toContain('darwin/arm/');
      expect(r.text).not.toMatch(/windows\/loong64/);
      const stages = await firstPullRequest(r.dir);
      const built = (JSON.parse(stages.build.outputs.artifacts) as { target: string }[]).map((a) => a.target);
      // 15 targets (arm twice, for goarm 6 and 7), 1 ignored, 6 that Go lacks (darwin/arm, windows/arm, loong64 off linux).
      expect(built).toEqual([
        'linux/amd64/v1',
        'linux/arm64/v8.0',
        'linux/arm/7',
        'linux/loong64',
        'darwin/amd64/v1',
        'darwin/arm64/v8.0',
        'windows/amd64/v1',
        'windows/arm64/v8.0',
      ]);
      expect(built.filter((t) => t.startsWith('darwin/arm/') || t.startsWith('windows/loong64'))).toEqual([]);
    }, 600_000);

    test('one build per OS: every OS is built, not only the first', async () => {
      const r = await initRepo('perpos', {
        'main.go': MAIN('perpos'),
        '.goreleaser.yaml': `version: 2
builds:
  - id: linux
    env: [CGO_ENABLED=0]
    goos: [linux]
    goarch: [amd64, arm64]
  - id: darwin
    env: [CGO_ENABLED=0]
    goos: [darwin]
    goarch: [arm64]
  - id: windows
    env: [CGO_ENABLED=0]
    goos: [windows]
    goarch: [amd64]
`,
      });
      const stages = await firstPullRequest(r.dir);
      expect(
        (JSON.parse(stages.build.outputs.artifacts) as { target: string }[]).map((a) => a.target),
      ).toEqual(['linux/amd64/v1', 'linux/arm64/v8.0', 'darwin/arm64/v8.0', 'windows/amd64/v1']);
    }, 600_000);

    test('three main packages of which the config builds one, a test-runner Dockerfile and a GoReleaser release workflow', async () => {
      const r = await initRepo('threemain', {
        'cmd/server/main.go': MAIN('server'),
        'cmd/release-helper/main.go': MAIN('release-helper'),
        'internal/testhelper/main.go': MAIN('testhelper'),
        Dockerfile: 'FROM golang:1.22\nWORKDIR /src\nCOPY . .\nCMD ["go", "test", "./..."]\n',
        '.goreleaser.yaml':
          'version: 2\nbuilds:\n  - main: ./cmd/server\n    binary: server\n    env: [CGO_ENABLED=0]\n    goos: [linux]\n    goarch: [amd64]\n',
        '.github/workflows/release.yml':
          'on: { push: { tags: ["v*"] } }\njobs:\n  release:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: goreleaser/goreleaser-action@v6\n        with: { args: release --clean }\n',
      });
      expect(parse(r.text)['docker-multistage']).toEqual({
        image: 'ghcr.io/acme/threemain',
        binary: 'server',
      });
      expect(r.text).toContain('a Dockerfile that runs tests, not the service');
      // No second release process beside the repository's own; said in the file and on the terminal.
      expect(existsSync(join(r.dir, '.github/workflows/go-ship-release.yml'))).toBe(false);
      expect(r.init.stdout).toContain(
        'not written: .github/workflows/go-ship-release.yml (.github/workflows/release.yml already releases',
      );
      expect(r.text).toContain('a release process of its own in .github/workflows/release.yml');
      const stages = await firstPullRequest(r.dir);
      const [archive] = JSON.parse(stages.build.outputs.artifacts) as { path: string }[];
      const listed = spawnSync('tar', ['-tzf', archive.path], { encoding: 'utf8' }).stdout.split('\n');
      expect(listed.filter((n) => ['server', 'release-helper', 'testhelper'].includes(n))).toEqual([
        'server',
      ]);
    }, 600_000);

    test('a library: the first pull request tests and gates coverage; the build stage is skipped, not failed', async () => {
      const r = await initRepo('justlib', {});
      const stages = await firstPullRequest(r.dir);
      expect(stages.test.status).toBe('passed');
      expect(stages.coverage.status).toBe('passed');
      expect(stages.build).toMatchObject({
        status: 'skipped',
        detail: 'no main package (a library: nothing to build)',
      });
    }, 600_000);
  },
);
