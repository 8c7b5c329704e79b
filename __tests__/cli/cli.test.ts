import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalRunResult } from '../../src/host/local-runner.js';
import { assertBundlesFresh, goShip, NODE20, NODE24, ROOT, tempDir, type CliRun } from '../helpers/cli.js';
import { testRepo } from '../helpers/git.js';

const FIXTURE = join(ROOT, '__tests__', 'fixtures', 'contract-action');

/** A real git checkout to act as the workspace, so GITHUB_* context comes from git itself. */
function gitWorkspace(): { dir: string; sha: string } {
  const { dir, git } = testRepo(tempDir('ws'), { branch: 'feature/x', message: 'init' });
  git('remote', 'add', 'origin', 'https://github.com/acme/widget.git');
  return { dir, sha: git('rev-parse', 'HEAD') };
}

describe('go-ship CLI runs an action with the runner contract', () => {
  const ws = gitWorkspace();
  let run: CliRun;
  let result: LocalRunResult;
  beforeAll(async () => {
    run = await goShip([
      FIXTURE,
      '--with',
      'greeting=hello',
      '--workspace',
      ws.dir,
      '--json',
      '--env',
      'GITHUB_TOKEN=tok',
    ]);
    result = JSON.parse(run.stdout);
  });

  test('exit code and phases', () => {
    expect(run.code).toBe(0);
    expect(result.exitCode).toBe(0);
    expect(result.phases.map((p) => p.phase)).toEqual(['main', 'post']);
  });

  test('outputs written to GITHUB_OUTPUT, including a multi-line one', () => {
    expect(result.outputs.message).toBe('hello, world');
    expect(result.outputs.report).toBe('line one\nline two\nline three');
  });

  test('GITHUB_ENV and GITHUB_PATH changes are returned and reach the post step', () => {
    expect(result.exportedEnv).toEqual({ FIXTURE_VAR: 'exported value' });
    expect(result.addedPath).toEqual(['/opt/fixture/bin']);
    expect(run.stderr).toContain('post: state=yes var=exported value path-first=/opt/fixture/bin');
  });

  test('context comes from the git checkout; runner directories are set', () => {
    const ctx = JSON.parse(result.outputs.context);
    expect(ctx).toMatchObject({
      repo: 'acme/widget',
      sha: ws.sha,
      ref: 'refs/heads/feature/x',
      workspace: ws.dir,
      cwd: ws.dir,
    });
    expect(ctx.temp).toMatch(/runner-temp$/);
    expect(ctx.cache).toBeTruthy();
  });

  test('defaults come from action.yml, including ${{ github.token }}', () => {
    expect(run.stderr).toContain('mode=plain token=tok');
  });

  test('secrets registered with add-mask are masked in the log', () => {
    expect(run.stderr).toContain('printing a secret: ***');
    expect(run.stderr + run.stdout).not.toContain('s3cr3t-value');
  });

  test('the step summary is collected', () => {
    expect(result.summary).toContain('| a | b |');
  });
});

describe('go-ship CLI terminal output', () => {
  test('renders groups, warnings, outputs and the summary table', async () => {
    const run = await goShip([FIXTURE, '--with', 'greeting=hi']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('▸ details\n  mode=plain');
    expect(run.stdout).toContain('warning: a warning line');
    expect(run.stdout).toMatch(/report {3}line one\n {11}line two\n {11}line three/);
    expect(run.stdout).toContain('FIXTURE_VAR=exported value');
    expect(run.stdout).toMatch(/a {2}b\n1 {2}2/);
    expect(run.stdout).toContain('succeeded');
  });

  test("a child's text with terminal escapes and C1 controls is shown inert, not obeyed", async () => {
    const run = await goShip([
      FIXTURE,
      '--with',
      'greeting=hi',
      '--with',
      'mode=\u001b[2J\u001b]0;pwned\u0007\u0085x',
    ]);
    expect(run.code).toBe(0);
    // eslint-disable-next-line no-control-regex -- the test looks for control characters
    expect(run.stdout).not.toMatch(/[\u001b\u0007\u0085]/);
    expect(run.stdout).toContain('mode=\\u{001b}[2J\\u{001b}]0;pwned\\u{0007}\\u{0085}x');
  });

  test.each([
    ['Node 20', NODE20],
    ['Node 24', NODE24],
  ])('runs the action under %s (node24 is what GitHub uses)', async (_name, node) => {
    const run = await goShip([FIXTURE, '--with', 'greeting=hi', '--node', node, '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).outputs.message).toBe('hi, world');
  });
});

describe('go-ship CLI refuses bad invocations clearly', () => {
  test('unknown input names it and lists the valid ones', async () => {
    const run = await goShip([FIXTURE, '--with', 'greeting=hi', '--with', 'bogus=1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'Unknown input `bogus` for contract-action. Valid inputs: greeting, mode, token, fail.',
    );
  });

  test('a near miss suggests the input meant', async () => {
    const run = await goShip([FIXTURE, '--with', 'greting=hi']);
    expect(run.stderr).toContain('Did you mean `greeting`?');
  });

  test('missing required input says how to pass it', async () => {
    const run = await goShip([FIXTURE]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('contract-action needs `greeting`: pass --with greeting=VALUE.');
  });

  test('unknown action lists the available ones', async () => {
    const run = await goShip(['no-such-action']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Unknown action `no-such-action`\. Available: /);
  });

  // Untrusted/odd input: a 1 MB input (from .go-ship.yml: no argument can be that long) crashed the
  // CLI with `spawn E2BIG`.
  test('an input too big for an environment variable is refused by name', async () => {
    const ws = tempDir('cli-big');
    writeFileSync(join(ws, '.go-ship.yml'), `coverage-gate:\n  exclude: ${'x'.repeat(1 << 20)}\n`);
    const run = await goShip(['coverage-gate', '--workspace', ws]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      'Input `exclude` is 1,048,576 bytes; inputs are passed as environment variables',
    );
    expect(run.stderr).not.toContain('E2BIG');
  });

  test('malformed --with', async () => {
    const run = await goShip([FIXTURE, '--with', 'novalue']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--with takes name=value; got `novalue`.');
  });

  test("the action's failure is the CLI's exit code, and post still runs", async () => {
    const run = await goShip([FIXTURE, '--with', 'greeting=hi', '--with', 'fail=true']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('error: asked to fail');
    expect(run.stdout).toContain('post: state=yes');
    expect(run.stdout).toContain('failed (exit code 1)');
  });

  test('a command after -- runs between main and post with what main exported', async () => {
    const ws = tempDir('then');
    const run = await goShip([
      FIXTURE,
      '--with',
      'greeting=hi',
      '--workspace',
      ws,
      '--json',
      '--',
      NODE20,
      '-e',
      'console.log(`then: ${process.env.FIXTURE_VAR} ${process.env.PATH.split(":")[0]} ${process.cwd()}`)',
    ]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as LocalRunResult;
    expect(result.phases.map((p) => p.phase)).toEqual(['main', 'then', 'post']);
    expect(run.stderr).toContain(`then: exported value /opt/fixture/bin ${ws}`);
    expect(run.stderr.indexOf('then:')).toBeLessThan(run.stderr.indexOf('post: state=yes'));
  });

  test('a failing command after -- is the exit code; a missing one is named', async () => {
    const failed = await goShip([FIXTURE, '--with', 'greeting=hi', '--', NODE20, '-e', 'process.exit(3)']);
    expect(failed.code).toBe(3);
    const missing = await goShip([FIXTURE, '--with', 'greeting=hi', '--', 'no-such-program-xyz']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('`no-such-program-xyz` was not found on PATH');
  });

  test('a workspace that does not exist', async () => {
    const dir = join(tempDir('gone'), 'missing');
    const run = await goShip([FIXTURE, '--with', 'greeting=hi', '--workspace', dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--workspace ${dir} does not exist.`);
    mkdirSync(dir);
  });
});

describe('--help answers with help and does nothing else', () => {
  // A Go module with a main package and a Dockerfile: what init would write files for, and what the
  // pipeline would build, were --help not honoured first.
  const workspace = () => {
    const { dir } = testRepo(tempDir('help'), { message: 'init' });
    writeFileSync(join(dir, 'go.mod'), 'module example.com/svc\n\ngo 1.22\n');
    writeFileSync(join(dir, 'main.go'), 'package main\n\nfunc main() {}\n');
    return dir;
  };
  const entries = (dir: string) => readdirSync(dir, { recursive: true, withFileTypes: false }).sort();
  // Each in its own workspace, so they run side by side (a process start each).
  test.concurrent.each([
    [['init', '--help'], 'go-ship init'],
    [['init', '--workspace', '.', '-h'], 'go-ship init'],
    [['pipeline', '--help'], 'go-ship pipeline'],
    [['pipeline', '--with', 'event=push', '--help'], 'go-ship pipeline'],
    [['list', '--help'], 'go-ship list'],
    [['docs', '--help'], 'go-ship docs'],
    [['version', '--help'], 'go-ship version'],
    [['setup-go-cross', '--help'], 'Inputs'],
  ])(
    'go-ship %j prints help, exit 0, and writes nothing',
    async (args, expected) => {
      const dir = workspace();
      const before = entries(dir);
      const run = await goShip(args, { cwd: dir });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(expected);
      expect(run.stdout).not.toMatch(/✔|✖/);
      expect(entries(dir)).toEqual(before);
    },
    60_000,
  );
});

// `go-ship docs | head -1` crashed with an unhandled EPIPE stack once head had its line.
test('a reader that closes the pipe early ends go-ship quietly, with no EPIPE stack', () => {
  assertBundlesFresh();
  const r = spawnSync(
    'sh',
    ['-c', `"${process.execPath}" "${join(ROOT, 'bin', 'go-ship.js')}" list | true`],
    {
      encoding: 'utf8',
    },
  );
  expect(r.stderr).not.toMatch(/EPIPE|Unhandled 'error' event/);
  expect(r.status).toBe(0);
});
