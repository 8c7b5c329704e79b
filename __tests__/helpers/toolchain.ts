import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../src/runner/command.js';

/** The Go release the setup tests install: not the machine's own, so an install is really new. */
export const TEST_GO = 'go1.22.12';

export interface ToolchainFixture {
  version: string;
  /** The golang.org/toolchain module zip, as the go command downloaded and verified it. */
  zip: string;
  /** Its h1: hash as the go command reports it (checked against the checksum database). */
  h1: string;
  /** An official-layout archive (`go/...`) built from that zip, as the download site serves. */
  tarGz: string;
  sha256: string;
  size: number;
}

/**
 * Real toolchain bytes for tests, fetched once through the machine's GOPROXY by `go mod download`
 * (which verifies them against the checksum database) and kept in ~/.cache/go-ship-test.
 */
export async function toolchainFixture(version = TEST_GO): Promise<ToolchainFixture> {
  const mod = `golang.org/toolchain@v0.0.1-${version}.linux-amd64`;
  const dl = await runCommand('go', ['mod', 'download', '-json', mod], {
    env: { GOFLAGS: '-mod=mod' },
    timeoutMs: 10 * 60_000,
  });
  const info = JSON.parse(dl.stdout) as { Zip: string; Sum: string };
  const cache = join(homedir(), '.cache', 'go-ship-test');
  const tarGz = join(cache, `${version}.linux-amd64.tar.gz`);
  if (!existsSync(tarGz)) {
    mkdirSync(cache, { recursive: true });
    const work = join(cache, `build-${process.pid}`);
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work);
    try {
      await runCommand('unzip', ['-q', info.Zip, '-d', work]);
      renameSync(join(work, `golang.org/toolchain@v0.0.1-${version}.linux-amd64`), join(work, 'go'));
      for (const f of walk(join(work, 'go')))
        if (f.endsWith('/_go.mod')) renameSync(f, f.replace(/_go\.mod$/, 'go.mod'));
      await runCommand('chmod', ['-R', 'a+rX,u+w', join(work, 'go')]);
      await runCommand('chmod', ['-R', 'a+x', join(work, 'go', 'bin'), join(work, 'go', 'pkg', 'tool')]);
      await runCommand('tar', ['-czf', `${tarGz}.tmp`, '-C', work, 'go']);
      renameSync(`${tarGz}.tmp`, tarGz);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  return {
    version,
    zip: info.Zip,
    h1: info.Sum,
    tarGz,
    sha256: createHash('sha256').update(readFileSync(tarGz)).digest('hex'),
    size: statSync(tarGz).size,
  };
}

function* walk(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}
