import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { actionsIn, readProjectConfig } from '../../src/runner/project-config.js';
import { goShip, ROOT, tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { testRepo } from '../helpers/git.js';
import { startLoginRegistry } from '../helpers/login-registry.js';

const REGISTRY = process.env.GO_SHIP_TEST_REGISTRY ?? '127.0.0.1:5055';

test('examples/go-ship.yml is a valid .go-ship.yml', () => {
  const cfg = readProjectConfig(join(ROOT, 'examples', 'go-ship.yml'), actionsIn(ROOT));
  expect(Object.keys(cfg)).toEqual([
    'setup-go-cross',
    'build-matrix',
    'coverage-gate',
    'semver-tag',
    'docker-multistage',
  ]);
});

type Stages = { stage: string; status: string; detail: string; outputs: Record<string, string> }[];

// Field report: the build stage failed with "no Go files" on a module whose only command is cmd/app.
describeWith(
  'go and git',
  hasCommand('go', ['version']) && hasCommand('git'),
  'the pipeline on a module with cmd/app only',
  () => {
    test('the build stage finds the main package with go list and builds it', async () => {
      const mod = join(tempDir('pipeline-cmd'), 'cmdonly');
      cpSync(join(ROOT, 'examples', 'hello-svc'), join(mod, 'cmd', 'app'), { recursive: true });
      rmSync(join(mod, 'cmd', 'app', 'go.mod'));
      // The repository's golangci-lint config sits at its top, where golangci-lint looks for it.
      renameSync(join(mod, 'cmd', 'app', '.golangci.yml'), join(mod, '.golangci.yml'));
      writeFileSync(join(mod, 'go.mod'), 'module example.com/cmdonly\n\ngo 1.22\n');
      writeFileSync(
        join(mod, '.go-ship.yml'),
        'setup-go-cross:\n  go-version-file: go.mod\nbuild-matrix:\n  targets: [linux/amd64]\n',
      );
      testRepo(mod, { files: { '.gitignore': '/dist/\n*.out\n' }, message: 'feat: app' });
      const r = await goShip(['pipeline', '--workspace', mod, '--json']);
      expect(r.stderr).not.toContain('no Go files');
      expect(r.code).toBe(0);
      const stages = (JSON.parse(r.stdout) as { stages: Stages }).stages;
      const build = stages.find((s) => s.stage === 'build')!;
      expect(build.status).toBe('passed');
      expect(r.stderr).toContain('main packages: ./cmd/app');
      const [artifact] = JSON.parse(build.outputs.artifacts) as { path: string }[];
      expect(execFileSync('tar', ['-tzf', artifact.path], { encoding: 'utf8' }).split('\n')).toContain('app');
    }, 300_000);
  },
);

describeWith(
  'go, git and a registry',
  hasCommand('go', ['version']) &&
    hasCommand('git') &&
    hasCommand('curl', ['-fsS', `http://${REGISTRY}/v2/`]),
  'the pipeline (go-ship pipeline and the root action) on a scratch clone of hello-svc',
  () => {
    const work = tempDir('pipeline');
    const svc = join(work, 'svc');
    const image = `${REGISTRY}/go-ship-test/pipeline-${randomBytes(3).toString('hex')}`;
    // testRepo's bare remote beside the clone.
    const origin = `${svc}-origin.git`;

    beforeAll(() => {
      cpSync(join(ROOT, 'examples', 'hello-svc'), svc, { recursive: true });
      copyFileSync(join(ROOT, 'examples', 'go-ship.yml'), join(svc, '.go-ship.yml'));
      const cfg = readFileSync(join(svc, '.go-ship.yml'), 'utf8')
        .replace(/image: .*/, `image: ${image}`)
        .replace(/targets: .*/, 'targets: [linux/amd64, linux/arm64]');
      writeFileSync(join(svc, '.go-ship.yml'), cfg);
      writeFileSync(join(svc, '.gitignore'), '/dist/\n*.out\n/oci-image/\n');
      testRepo(svc, { message: 'feat: hello-svc', origin: true });
    });

    const pipeline = async (withs: string[]) => {
      const r = await goShip([
        'pipeline',
        '--workspace',
        svc,
        '--json',
        ...withs.flatMap((w) => ['--with', w]),
      ]);
      return { ...r, stages: ((JSON.parse(r.stdout || '{}') as { stages?: Stages }).stages ?? []) as Stages };
    };
    const status = (s: Stages) => Object.fromEntries(s.map((x) => [x.stage, x.status]));

    test('a registry password in .go-ship.yml stops the pipeline before any stage, naming the key and the input', async () => {
      const cfg = readFileSync(join(svc, '.go-ship.yml'), 'utf8');
      writeFileSync(join(svc, '.go-ship.yml'), cfg.replace(/image: (.*)/, 'image: $1\n  password: hunter2'));
      try {
        const r = await pipeline([]);
        expect(r.code).not.toBe(0);
        expect(r.stages).toEqual([]);
        expect(r.stderr).toContain('`docker-multistage.password` holds a secret');
        expect(r.stderr).toContain('with: registry-password: ${{ secrets.NAME }}');
        expect(r.stderr).not.toContain('go-ship bug');
      } finally {
        writeFileSync(join(svc, '.go-ship.yml'), cfg);
      }
    }, 60_000);

    test('a pull request: setup, lint, test, coverage and build; nothing tagged or pushed', async () => {
      const r = await pipeline([]);
      expect(r.stderr).not.toMatch(/go-ship bug/);
      expect(r.code).toBe(0);
      expect(status(r.stages)).toEqual({
        setup: 'passed',
        lint: 'passed',
        test: 'passed',
        coverage: 'passed',
        tag: 'skipped',
        build: 'passed',
        image: 'skipped',
        deploy: 'skipped',
      });
      // .go-ship.yml's targets reached build-matrix.
      expect(
        JSON.parse(r.stages.find((s) => s.stage === 'build')!.outputs.artifacts).map(
          (a: { target: string }) => a.target,
        ),
      ).toEqual(['linux/amd64', 'linux/arm64']);
      expect(execFileSync('git', ['tag'], { cwd: origin, encoding: 'utf8' })).toBe('');
    }, 300_000);

    test('a push: tagged, built with that version, image pushed; deploy skipped with the reason; skip works', async () => {
      const r = await pipeline(['event=push']);
      expect(r.code).toBe(0);
      const by = Object.fromEntries(r.stages.map((s) => [s.stage, s]));
      expect(by.tag.outputs.tag).toBe('v0.1.0');
      expect(execFileSync('git', ['tag'], { cwd: origin, encoding: 'utf8' }).trim()).toBe('v0.1.0');
      expect(by.build.outputs.version).toBe('0.1.0');
      expect(by.image.outputs.image).toMatch(new RegExp(`^${image}@sha256:[0-9a-f]{64}$`));
      expect(by.image.outputs.tags).toContain(`${image}:0.1.0`);
      expect(by.deploy).toMatchObject({
        status: 'skipped',
        detail: 'no `deploy-bluegreen` section in .go-ship.yml',
      });

      const skipped = await pipeline(['event=push', 'skip=image,test,coverage']);
      expect(status(skipped.stages)).toMatchObject({
        test: 'skipped',
        coverage: 'skipped',
        image: 'skipped',
        tag: 'passed',
      });
      expect(skipped.stages.find((s) => s.stage === 'tag')!.outputs.created).toBe('false'); // already released
    }, 300_000);

    test('the root action, run as the Actions runner runs it, follows the workflow event', () => {
      const dir = tempDir('pipeline-action');
      const output = join(dir, 'output');
      const summary = join(dir, 'summary');
      writeFileSync(output, '');
      writeFileSync(summary, '');
      const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'pipeline', 'index.js')], {
        env: {
          ...process.env,
          GITHUB_WORKSPACE: work,
          'INPUT_WORKING-DIRECTORY': 'svc',
          INPUT_SKIP: 'build',
          GITHUB_EVENT_NAME: 'pull_request',
          GITHUB_OUTPUT: output,
          GITHUB_STEP_SUMMARY: summary,
        },
        encoding: 'utf8',
      });
      expect(r.stderr).not.toMatch(/go-ship bug/);
      expect(r.status).toBe(0);
      const table = readFileSync(summary, 'utf8');
      expect(table).toMatch(/## go-ship pipeline \(pull_request\)/);
      expect(table).toMatch(
        /\| coverage \| ✅ [\d.]+% of statements in functions \(go tool cover -func\), gate passed \|/,
      );
      expect(table).toMatch(/\| build \| – turned off \|/);
      expect(table).toMatch(/\| tag \| – not on pull requests \|/);
      // The stages' own summaries follow the table.
      expect(table).toMatch(/coverage-gate/);
    }, 300_000);

    test('bad input: the CLI and the root action refuse an unknown stage and event in the same words', async () => {
      const r = await pipeline(['skip=fuzz']);
      expect(r.code).not.toBe(0);
      const stageError =
        'Input `skip` got `fuzz`; it accepts stages setup, lint, test, coverage, tag, build, image, deploy.';
      expect(r.stderr).toContain(stageError);
      const e = await pipeline(['event=tag']);
      const eventError = 'Input `event` got `tag`; it accepts `push` or `pull_request`.';
      expect(e.stderr).toContain(eventError);
      const unknown = await pipeline(['stage=build']);
      expect(unknown.stderr).toContain(
        'go-ship pipeline takes --with event=..., skip=..., working-directory=..., test-env=...; not stage.',
      );
      for (const [input, message] of [
        [{ INPUT_SKIP: 'fuzz' }, stageError],
        [{ INPUT_EVENT: 'tag' }, eventError],
      ] as const) {
        const a = spawnSync(process.execPath, [join(ROOT, 'dist', 'pipeline', 'index.js')], {
          env: { ...process.env, GITHUB_WORKSPACE: work, 'INPUT_WORKING-DIRECTORY': 'svc', ...input },
          encoding: 'utf8',
        });
        expect(a.status).not.toBe(0);
        expect(a.stdout + a.stderr).toContain(message);
      }
      // working-directory is read the same way by both: relative to the workspace.
      const wd = await goShip([
        'pipeline',
        '--workspace',
        work,
        '--with',
        'working-directory=svc',
        '--with',
        'skip=setup,test,coverage,build',
        '--json',
      ]);
      expect(wd.code).toBe(0);
    }, 60_000);
  },
);

describeWith(
  'go, git, docker-registry and htpasswd',
  hasCommand('go', ['version']) &&
    hasCommand('git') &&
    hasCommand('docker-registry', ['--version']) &&
    hasCommand('sh', ['-c', 'command -v htpasswd']),
  'the root action with registry credentials as inputs',
  () => {
    test('registry-username and registry-password reach the image stage: pushed behind a login, the password never printed', async () => {
      const login = await startLoginRegistry('ci', 'pipeline-s3cret');
      try {
        const work = tempDir('pipeline-login');
        const svc = join(work, 'svc');
        const image = `${login.host}/private/hello`;
        testRepo(svc, {
          from: join(ROOT, 'examples', 'hello-svc'),
          files: {
            '.go-ship.yml': `build-matrix:\n  targets: [linux/amd64]\ndocker-multistage:\n  image: ${image}\n`,
            '.gitignore': '/dist/\n*.out\n',
          },
          message: 'feat: hello-svc',
          origin: true,
        });

        const dir = tempDir('pipeline-login-runner');
        const output = join(dir, 'output');
        const summary = join(dir, 'summary');
        writeFileSync(output, '');
        writeFileSync(summary, '');
        const run = (password: string) =>
          spawnSync(process.execPath, [join(ROOT, 'dist', 'pipeline', 'index.js')], {
            env: {
              ...process.env,
              GITHUB_WORKSPACE: work,
              'INPUT_WORKING-DIRECTORY': 'svc',
              INPUT_SKIP: 'test,coverage,deploy',
              'INPUT_REGISTRY-USERNAME': 'ci',
              'INPUT_REGISTRY-PASSWORD': password,
              'INPUT_GITHUB-TOKEN': '',
              GITHUB_EVENT_NAME: 'push',
              GITHUB_REF: 'refs/heads/main',
              GITHUB_OUTPUT: output,
              GITHUB_STEP_SUMMARY: summary,
              DOCKER_CONFIG: join(dir, 'no-docker-config'), // nothing from a docker login on this machine
            },
            encoding: 'utf8',
          });
        const r = run('pipeline-s3cret');
        expect(r.stderr).not.toMatch(/go-ship bug/);
        expect({ status: r.status, tail: r.status ? (r.stdout + r.stderr).slice(-2000) : '' }).toEqual({
          status: 0,
          tail: '',
        });
        // The runner swallows ::add-mask:: (and masks the value everywhere after it); nothing else may carry it.
        const printed = (x: typeof r) =>
          (x.stdout + x.stderr)
            .split('\n')
            .filter((l) => !l.startsWith('::add-mask::'))
            .join('\n');
        expect(r.stdout).toContain('::add-mask::pipeline-s3cret');
        expect(printed(r)).not.toContain('pipeline-s3cret');
        expect(readFileSync(summary, 'utf8')).toMatch(/\| image \| ✅ /);
        // Read back through the registry's own login.
        const auth = `Basic ${Buffer.from('ci:pipeline-s3cret').toString('base64')}`;
        const tags = await fetch(`http://${image.replace('/private/', '/v2/private/')}/tags/list`, {
          headers: { authorization: auth },
        }).then((x) => x.json() as Promise<{ tags: string[] }>);
        expect(tags.tags).toContain('0.1.0');

        const wrong = run('not-the-password');
        expect(wrong.status).not.toBe(0);
        expect(wrong.stdout + wrong.stderr).toContain(`The registry ${login.host} refused`);
        expect(printed(wrong)).not.toContain('not-the-password');
      } finally {
        login.close();
      }
    }, 300_000);
  },
);

// Untrusted input (#29 item 3): the user's tests, every dependency's init and a GoReleaser hook run
// with an allow-listed environment, never the root action's inputs, tokens or runtime token.
describeWith(
  'go and git',
  hasCommand('go', ['version']) && hasCommand('git'),
  'the root action keeps its secrets from go test and hooks',
  () => {
    test('go test and a before hook see no input, token or runtime token; test-env passes a named variable', () => {
      const mod = join(tempDir('pipeline-env'), 'envmod');
      const dump = (file: string) =>
        `package main\n\nimport (\n\t"os"\n\t"strings"\n)\n\nfunc main() {\n\t_ = os.WriteFile(${JSON.stringify(file)}, []byte(strings.Join(os.Environ(), "\\n")), 0o644)\n}\n`;
      const seenTest = join(mod, '..', 'test-env.txt');
      const seenHook = join(mod, '..', 'hook-env.txt');
      testRepo(mod, {
        files: {
          'go.mod': 'module example.com/envmod\n\ngo 1.22\n',
          'main.go': 'package main\n\nfunc main() {}\n',
          'env_test.go': `package main\n\nimport (\n\t"os"\n\t"strings"\n\t"testing"\n)\n\nfunc TestEnv(t *testing.T) {\n\t_ = os.WriteFile(${JSON.stringify(seenTest)}, []byte(strings.Join(os.Environ(), "\\n")), 0o644)\n}\n`,
          'internal/dumpenv/main.go': dump(seenHook),
          '.goreleaser.yaml':
            'version: 2\nbefore:\n  hooks: [go run ./internal/dumpenv]\nbuilds:\n  - env: [CGO_ENABLED=0]\n    goos: [linux]\n    goarch: [amd64]\n',
          '.go-ship.yml': 'build-matrix:\n  goreleaser-config: .goreleaser.yaml\n',
          '.gitignore': '/dist/\n*.out\n',
        },
        message: 'feat: env',
      });
      const dir = tempDir('pipeline-env-files');
      const [output, summary] = [join(dir, 'output'), join(dir, 'summary')];
      writeFileSync(output, '');
      writeFileSync(summary, '');
      const secrets = {
        'INPUT_GITHUB-TOKEN': 'ghs_input_token_value',
        'INPUT_REGISTRY-PASSWORD': 'registry-password-value',
        INPUT_KUBECONFIG: 'kubeconfig-value',
        ACTIONS_RUNTIME_TOKEN: 'runtime-token-value',
        GITHUB_TOKEN: 'ghs_env_token_value',
      };
      const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'pipeline', 'index.js')], {
        env: {
          ...process.env,
          ...secrets,
          GITHUB_WORKSPACE: mod,
          INPUT_SKIP: 'setup',
          INPUT_EVENT: 'pull_request',
          'INPUT_TEST-ENV': 'DATABASE_URL',
          DATABASE_URL: 'postgres://db.test/app',
          GITHUB_OUTPUT: output,
          GITHUB_STEP_SUMMARY: summary,
        },
        encoding: 'utf8',
      });
      expect({ status: r.status, log: r.status ? (r.stdout + r.stderr).slice(-2500) : '' }).toEqual({
        status: 0,
        log: '',
      });
      const test = readFileSync(seenTest, 'utf8');
      const hook = readFileSync(seenHook, 'utf8');
      for (const value of Object.values(secrets)) {
        expect(test).not.toContain(value);
        expect(hook).not.toContain(value);
      }
      expect(test.split('\n').filter((l) => /^(INPUT_|ACTIONS_)/.test(l))).toEqual([]);
      expect(hook.split('\n').filter((l) => /^(INPUT_|ACTIONS_)/.test(l))).toEqual([]);
      expect(test).toContain('DATABASE_URL=postgres://db.test/app');
      expect(hook).not.toContain('DATABASE_URL');
      expect(test).toMatch(/^PATH=/m);
      expect(test).toMatch(/^HOME=/m);
    }, 300_000);
  },
);
