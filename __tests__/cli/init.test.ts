import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { goShip, ROOT, tempDir } from '../helpers/cli.js';
import { testRepo } from '../helpers/git.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { goTool } from '../helpers/go-tools.js';
import { actionsIn, readProjectConfig } from '../../src/runner/project-config.js';
import { goreleaserTargets } from '../../src/cli/init.js';

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

describe("init's reading of .goreleaser.yaml builds", () => {
  test('goos x goarch minus ignore; GoReleaser defaults when a list is absent; darwin/386 never', () => {
    expect(
      goreleaserTargets(
        'builds:\n  - goos: [linux, darwin]\n    goarch: [amd64, arm64]\n    ignore:\n      - goos: darwin\n        goarch: amd64\n',
      ),
    ).toEqual(['linux/amd64', 'linux/arm64', 'darwin/arm64']);
    expect(goreleaserTargets('builds:\n  - main: ./cmd/x\n')).toEqual([
      'linux/386',
      'linux/amd64',
      'linux/arm64',
      'darwin/amd64',
      'darwin/arm64',
      'windows/386',
      'windows/amd64',
      'windows/arm64',
    ]);
    expect(goreleaserTargets('project_name: x\n')).toBeUndefined();
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
    expect(config).toEqual({
      'build-matrix': {
        targets: 'linux/amd64\nlinux/arm64\ndarwin/arm64',
        packages: './cmd/alpha\n./cmd/beta',
      },
      'coverage-gate': { 'threshold-patch': '80' },
      'docker-multistage': { image: 'ghcr.io/acme/multi-bin', binary: 'alpha' },
    });
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

  test('a library: no build or image, a release workflow that only tags; no go.mod is a clear error', async () => {
    const dir = join(tempDir('init-lib'), 'lib');
    mkdirSync(dir);
    writeFileSync(join(dir, 'go.mod'), 'module example.com/lib\n\ngo 1.22\n');
    writeFileSync(join(dir, 'lib.go'), 'package lib\n\nfunc One() int { return 1 }\n');
    const r = await goShip(['init', '--workspace', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('0 main package(s), tests in 0 of 1 packages');
    const config = validate(dir);
    expect(Object.keys(config)).toEqual(['coverage-gate']);
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
