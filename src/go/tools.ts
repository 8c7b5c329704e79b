import { runCommand } from '../runner/command.js';
import { UserError } from '../runner/errors.js';
import { log } from '../runner/log.js';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';

/**
 * A Go tool go-ship runs (apidiff, govulncheck, golangci-lint): the pinned version already in the
 * tool cache (RUNNER_TOOL_CACHE, or ~/.cache/go-ship outside a runner), else the one on PATH when it
 * answers `probe` with the version, else `go install pkg@version` once from the Go module proxy into
 * the tool cache, so later runs reuse it. A failed install says what
 * needed the tool and how to do without it (`fix`).
 */
export async function goTool(o: {
  pkg: string;
  version: string;
  /** Arguments that make the tool print something with `expect` in it (a help or version line). */
  probe: string[];
  expect: RegExp;
  /** What needs it, and the way out, for the error. */
  neededFor: string;
  fix: string;
}): Promise<string> {
  const name = basename(o.pkg);
  const base = process.env.RUNNER_TOOL_CACHE
    ? join(process.env.RUNNER_TOOL_CACHE, 'go-ship-tools')
    : join(homedir(), '.cache', 'go-ship', 'tools');
  const dir = join(base, name, o.version);
  const bin = join(dir, process.platform === 'win32' ? `${name}.exe` : name);
  // The pinned build, once installed, is used without asking anything of it: a probe of a large Go
  // binary costs about 0.1 s, a tenth of a warm golangci-lint run.
  if (existsSync(bin)) return bin;
  const onPath = await runCommand(name, o.probe, { check: false }).catch(() => undefined);
  if (onPath && o.expect.test(onPath.stdout + onPath.stderr)) return name;
  mkdirSync(dir, { recursive: true });
  log.info(`Installing ${o.pkg}@${o.version} from the Go module proxy for ${o.neededFor}`);
  try {
    await runCommand('go', ['install', `${o.pkg}@${o.version}`], {
      env: { GOBIN: dir, GOFLAGS: '' },
      timeoutMs: 10 * 60_000,
    });
  } catch (e) {
    throw new UserError(
      `${o.neededFor} needs ${name}, and installing it failed: ${(e as Error).message.split('\n').slice(-3).join(' ')}. Put ${name} on PATH, install Go (setup-go-cross) with access to a module proxy, or ${o.fix}.`,
    );
  }
  return bin;
}
