import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';

/**
 * A tool built once from the Go module proxy (`go install pkg@version`) into
 * ~/.cache/go-ship/tools/<name>-<version>, so later runs and later sessions reuse it.
 */
export function goTool(pkg: string, version: string): string {
  const name = basename(pkg);
  const dir = join(homedir(), '.cache', 'go-ship', 'tools', `${name}-${version}`);
  const bin = join(dir, name);
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    execFileSync('go', ['install', `${pkg}@${version}`], {
      env: { ...process.env, GOBIN: dir, GOFLAGS: '' },
      stdio: 'inherit',
    });
  }
  return bin;
}
