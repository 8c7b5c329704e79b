import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/**
 * A tool built once from the Go module proxy (`go install pkg@version`) into
 * ~/.cache/go-ship/tools/<name>-<version>, so later runs and later sessions reuse it.
 */
export function goTool(pkg: string, version: string): string {
  // `go install` names a binary after the last element that is not a /vN suffix.
  const name = /^v\d+$/.test(basename(pkg)) ? basename(dirname(pkg)) : basename(pkg);
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
