import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startMirror } from '../__tests__/helpers/mirror.js';
import { TEST_GO, toolchainFixture } from '../__tests__/helpers/toolchain.js';
import { NODE24 } from '../__tests__/helpers/cli.js';
import { actionStep, median, timeRun, timeWithUsage, type BenchReport } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..');
const BUNDLE = join(ROOT, 'dist', 'setup-go-cross', 'index.js');
/**
 * actions/setup-go's own bundle (`dist/setup/index.js` of a checkout of github.com/actions/setup-go,
 * named by GO_SHIP_BENCH_SETUP_GO), to compare tool-cache hits; without it that series is left out.
 */
const SETUP_GO = process.env.GO_SHIP_BENCH_SETUP_GO
  ? join(process.env.GO_SHIP_BENCH_SETUP_GO, 'dist', 'setup', 'index.js')
  : undefined;

/** Environment of one action step, as the runner gives it (fresh command files). */
function stepEnv(toolCache: string, mirrorUrl: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...actionStep(mkdtempSync(join(tmpdir(), 'bench-step-'))),
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
    setupGo: { name: 'actions/setup-go, its own bundle, same tool-cache hit', samples: [] as number[] },
  };
  // Both on Node 24, the runtime GitHub runs them with; CPU and peak RSS from GNU time.
  const usage = {
    hit: [] as { cpuMs: number; rssMB: number }[],
    setupGo: [] as { cpuMs: number; rssMB: number }[],
  };
  const compare = SETUP_GO && existsSync(SETUP_GO) ? SETUP_GO : undefined;
  try {
    for (let i = 0; i < n; i++) {
      const toolCache = mkdtempSync(join(tmpdir(), 'bench-tc-'));
      const floorDir = mkdtempSync(join(tmpdir(), 'bench-floor-'));
      try {
        series.floor.samples.push(await curlTar(url, floorDir));
        series.install.samples.push(await timeRun(NODE24, [BUNDLE], stepEnv(toolCache, mirror.url)));
        const hit = await timeWithUsage(NODE24, [BUNDLE], stepEnv(toolCache, mirror.url));
        series.hit.samples.push(hit.ms);
        usage.hit.push(hit);
        if (compare) {
          // setup-go finds the same tool-cache entry (the layout is @actions/tool-cache's); no module
          // cache. Without go-ship's mirror inputs: setup-go v7 downloads whenever it is given a
          // download base URL, cache or not.
          const env = stepEnv(toolCache, mirror.url);
          delete env['INPUT_GO-DOWNLOAD-SOURCE'];
          delete env['INPUT_GO-DOWNLOAD-BASE-URL'];
          const theirs = await timeWithUsage(NODE24, [compare], {
            ...env,
            INPUT_CACHE: 'false',
            'INPUT_CHECK-LATEST': 'false',
          });
          series.setupGo.samples.push(theirs.ms);
          usage.setupGo.push(theirs);
        }
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
    setup: `${fx.version} linux/amd64 (${(fx.size / 1e6).toFixed(1)} MB archive) served by a loopback mirror; the action bundle run directly with the runner's environment; ${n} interleaved runs each.${compare ? ` Tool-cache hits on Node 24: go-ship median CPU ${cpu(usage.hit)} ms, peak RSS ${rss(usage.hit)} MB; actions/setup-go (${setupGoVersion(compare)}, \`cache: false\`) CPU ${cpu(usage.setupGo)} ms, peak RSS ${rss(usage.setupGo)} MB.` : ' actions/setup-go not compared (set GO_SHIP_BENCH_SETUP_GO to a checkout of it).'}`,
    series: Object.values(series).filter((x) => x.samples.length),
    ratios: [
      ['install / floor', series.install.name, series.floor.name],
      ['tool-cache hit / floor', series.hit.name, series.floor.name],
      ...(compare
        ? [
            ['tool-cache hit: go-ship / actions/setup-go', series.hit.name, series.setupGo.name] as [
              string,
              string,
              string,
            ],
          ]
        : []),
    ],
    goal: "install within 1.3x of the floor; a tool-cache hit within 0.5x of actions/setup-go's",
  };
}

const cpu = (u: { cpuMs: number }[]) => median(u.map((x) => x.cpuMs)).toFixed(0);
const rss = (u: { rssMB: number }[]) => median(u.map((x) => x.rssMB)).toFixed(0);

/** The version in the checkout's package.json, e.g. `v7.0.0`. */
function setupGoVersion(bundle: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(bundle, '..', '..', '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    return `v${pkg.version}`;
  } catch {
    return 'version unknown';
  }
}
