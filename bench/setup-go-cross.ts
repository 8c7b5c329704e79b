import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startMirror } from '../__tests__/helpers/mirror.js';
import { TEST_GO, toolchainFixture } from '../__tests__/helpers/toolchain.js';
import { timeRun, type BenchReport } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..');
const BUNDLE = join(ROOT, 'dist', 'setup-go-cross', 'index.js');

/** Environment of one action step, as the runner gives it (fresh command files). */
function stepEnv(toolCache: string, mirrorUrl: string): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'bench-step-'));
  const files = Object.fromEntries(
    ['GITHUB_OUTPUT', 'GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY'].map((k) => [
      k,
      join(dir, k),
    ]),
  );
  for (const f of Object.values(files)) writeFileSync(f, '');
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...files,
    RUNNER_TEMP: dir,
    RUNNER_TOOL_CACHE: toolCache,
    'INPUT_GO-VERSION': TEST_GO.slice(2),
    'INPUT_GO-DOWNLOAD-SOURCE': 'dl',
    'INPUT_GO-DOWNLOAD-BASE-URL': `${mirrorUrl}/dl`,
  };
}

/** The floor: `curl -sS URL | tar -xz -C dir`, piped in-process (no shell). */
function curlTar(url: string, dest: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const t0 = process.hrtime.bigint();
    const curl = spawn('curl', ['-sSf', url], { stdio: ['ignore', 'pipe', 'inherit'] });
    const tar = spawn('tar', ['-xz', '-C', dest], { stdio: ['pipe', 'inherit', 'inherit'] });
    curl.stdout.pipe(tar.stdin);
    tar.on('error', reject);
    tar.on('close', (code) =>
      code === 0
        ? resolvePromise(Number(process.hrtime.bigint() - t0) / 1e6)
        : reject(new Error(`tar exited ${code}`)),
    );
  });
}

/**
 * Time to a ready toolchain from a loopback mirror: go-ship (download, sha256 check against the
 * listing, unpack into a staging folder, `go version` check, atomic rename) against the floor that
 * checks nothing, and a tool-cache hit.
 */
export async function bench(runs: number): Promise<BenchReport> {
  const n = runs || 5;
  const fx = await toolchainFixture();
  const mirror = await startMirror(fx);
  const url = `${mirror.url}/dl/${fx.version}.linux-amd64.tar.gz`;
  const series = {
    install: { name: 'go-ship install (fresh tool cache)', samples: [] as number[] },
    floor: { name: 'curl | tar -xz (floor, no verification)', samples: [] as number[] },
    hit: { name: 'go-ship tool-cache hit', samples: [] as number[] },
  };
  try {
    for (let i = 0; i < n; i++) {
      const toolCache = mkdtempSync(join(tmpdir(), 'bench-tc-'));
      const floorDir = mkdtempSync(join(tmpdir(), 'bench-floor-'));
      try {
        series.floor.samples.push(await curlTar(url, floorDir));
        series.install.samples.push(
          await timeRun(process.execPath, [BUNDLE], stepEnv(toolCache, mirror.url)),
        );
        series.hit.samples.push(await timeRun(process.execPath, [BUNDLE], stepEnv(toolCache, mirror.url)));
        process.stderr.write(
          `[${i + 1}/${n}] install ${series.install.samples.at(-1)!.toFixed(0)} ms, floor ${series.floor.samples.at(-1)!.toFixed(0)} ms, hit ${series.hit.samples.at(-1)!.toFixed(0)} ms\n`,
        );
      } finally {
        rmSync(toolCache, { recursive: true, force: true });
        rmSync(floorDir, { recursive: true, force: true });
      }
    }
  } finally {
    await mirror.close();
  }
  return {
    title: 'setup-go-cross: time to a ready toolchain',
    setup: `${fx.version} linux/amd64 (${(fx.size / 1e6).toFixed(1)} MB archive) served by a loopback mirror; the action bundle run directly with the runner's environment; ${n} interleaved runs each.`,
    series: Object.values(series),
    ratios: [
      ['install / floor', series.install.name, series.floor.name],
      ['tool-cache hit / floor', series.hit.name, series.floor.name],
    ],
    goal: 'install within 1.3x of the floor',
  };
}
