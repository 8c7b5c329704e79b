import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { GORELEASER_VERSION, installGoReleaser, withCwd } from './build-matrix.js';
import { actionStep, median, timeRun, type BenchReport, type Series } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..');
const BUNDLE = join(ROOT, 'dist', 'build-matrix', 'index.js');
const CONFIGS = ['.goreleaser.yml', '.goreleaser.yaml', 'goreleaser.yml', 'goreleaser.yaml'];
// What GoReleaser would do beyond the binaries, archives and checksums go-ship writes: publishing,
// images, signing and SBOMs (syft is not installed here), and before-hooks (go mod tidy, go generate).
const GORELEASER_SKIP = 'publish,announce,docker,sign,sbom,before';

/**
 * build-matrix against GoReleaser on a real project's own, unchanged GoReleaser config: a clone of
 * the checkout named by GO_SHIP_BENCH_PROJECT (a public Go repository with a .goreleaser.yml), both
 * sides building every target the config names and writing the same archives and checksums file,
 * from an empty build cache (cold) and a filled one (warm). The modules are downloaded once first:
 * neither side's timing includes the network.
 */
export async function bench(runs: number): Promise<BenchReport> {
  const n = runs || 3;
  const project = process.env.GO_SHIP_BENCH_PROJECT;
  if (!project || !existsSync(join(project, '.git')))
    throw new Error(
      'GO_SHIP_BENCH_PROJECT must name a git checkout of a Go project with its own GoReleaser config (e.g. a clone of traefik/whoami).',
    );
  const dir = mkdtempSync(join(tmpdir(), 'bench-build-project-'));
  const src = join(dir, basename(resolve(project)));
  // A clone: a clean tree with the project's tags (its version), nothing of the checkout's own dist/.
  execFileSync('git', ['clone', '-q', '--no-hardlinks', resolve(project), src]);
  const config = CONFIGS.find((c) => existsSync(join(src, c)));
  if (!config) throw new Error(`${project} has no GoReleaser config (${CONFIGS.join(', ')})`);
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: src, encoding: 'utf8' }).trim();
  execFileSync('go', ['mod', 'download'], { cwd: src, stdio: 'ignore' });
  process.stderr.write(`installing GoReleaser ${GORELEASER_VERSION} from the Go module proxy...\n`);
  const gr = installGoReleaser(dir);
  if (!gr.bin) throw new Error(`GoReleaser is needed for this benchmark: ${gr.why}`);
  const stepDir = mkdtempSync(join(tmpdir(), 'bench-build-project-step-'));
  const base = { ...process.env, GOTOOLCHAIN: 'local' };
  const ship = (env: NodeJS.ProcessEnv) => {
    return timeRun(process.execPath, [BUNDLE], {
      ...env,
      ...actionStep(stepDir, src),
      'INPUT_GORELEASER-CONFIG': config,
      INPUT_SBOM: 'false',
      'INPUT_VERIFY-REPRODUCIBLE': 'false',
    });
  };
  const goreleaser = (env: NodeJS.ProcessEnv) =>
    timeRun(
      gr.bin!,
      [
        'release',
        '--snapshot',
        '--clean',
        `--skip=${GORELEASER_SKIP}`,
        '--parallelism',
        String(cpus().length),
      ],
      { ...env, PWD: src },
    );
  // The release files each side wrote, by name (go-ship's manifest.json and GoReleaser's
  // artifacts.json, metadata.json and config.yaml are each tool's own record, not compared).
  const outputs = () =>
    readdirSync(join(src, 'dist'))
      .filter((f) => /\.(tar\.gz|tgz|tar\.xz|tar\.zst|zip|tar)$|checksums\.txt$/.test(f))
      .sort();
  const clean = () => rmSync(join(src, 'dist'), { recursive: true, force: true });
  const s: Record<string, Series> = {
    shipCold: { name: 'go-ship build-matrix, cold cache', samples: [] },
    grCold: { name: `GoReleaser ${GORELEASER_VERSION}, cold cache`, samples: [] },
    shipWarm: { name: 'go-ship build-matrix, warm cache', samples: [] },
    grWarm: { name: `GoReleaser ${GORELEASER_VERSION}, warm cache`, samples: [] },
  };
  const seen: Record<string, string[]> = {};
  let sizes = '';
  for (let i = 0; i < n; i++) {
    for (const [key, fn] of [
      ['shipCold', ship],
      ['grCold', goreleaser],
    ] as const) {
      const cache = mkdtempSync(join(tmpdir(), 'bench-gocache-cold-'));
      s[key].samples.push(await withCwd(src, () => fn({ ...base, GOCACHE: cache })));
      rmSync(cache, { recursive: true, force: true });
      if (!seen[key]) {
        seen[key] = outputs();
        if (key === 'shipCold')
          sizes = seen[key]
            .filter((f) => !f.endsWith('.txt'))
            .map((f) => statSync(join(src, 'dist', f)).size)
            .reduce((a, b) => a + b, 0)
            .toLocaleString('en');
      }
      clean();
    }
    if (seen.shipCold.join(' ') !== seen.grCold.join(' '))
      throw new Error(
        `different outputs:\n  go-ship    ${seen.shipCold.join(' ')}\n  GoReleaser ${seen.grCold.join(' ')}`,
      );
    process.stderr.write(
      `[cold ${i + 1}/${n}] go-ship ${s.shipCold.samples.at(-1)!.toFixed(0)} ms, goreleaser ${s.grCold.samples.at(-1)!.toFixed(0)} ms\n`,
    );
  }
  const warmCache = mkdtempSync(join(tmpdir(), 'bench-gocache-warm-'));
  const warm = { ...base, GOCACHE: warmCache };
  await withCwd(src, () => ship(warm)); // fills the cache
  clean();
  for (let i = 0; i < n; i++) {
    for (const [key, fn] of [
      ['shipWarm', ship],
      ['grWarm', goreleaser],
    ] as const) {
      s[key].samples.push(await withCwd(src, () => fn(warm)));
      clean();
    }
    process.stderr.write(
      `[warm ${i + 1}/${n}] go-ship ${s.shipWarm.samples.at(-1)!.toFixed(0)} ms, goreleaser ${s.grWarm.samples.at(-1)!.toFixed(0)} ms\n`,
    );
  }
  rmSync(warmCache, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  const archives = seen.shipCold.filter((f) => !f.endsWith('.txt'));
  return {
    title: `build-matrix on a real project: ${basename(src)}, its own GoReleaser config`,
    setup: `${basename(src)} at ${commit}, its \`${config}\` unchanged, read by both sides: go-ship (\`goreleaser-config: ${config}\`) and GoReleaser ${GORELEASER_VERSION} (\`release --snapshot --skip=${GORELEASER_SKIP}\`; the skipped steps are what go-ship's build-matrix does not do). Both write the same ${archives.length} archives (${sizes} bytes from go-ship) and the checksums file, compared by name after the first run of each: \`${seen.shipCold.join(' ')}\`. ${cpus().length} CPUs, ${cpus().length} builds at a time on both sides; modules downloaded beforehand. Cold: an empty GOCACHE per run; warm: a filled one. ${n} interleaved runs each; median go-ship cold ${(median(s.shipCold.samples) / 1000).toFixed(1)} s.`,
    series: [s.shipCold, s.grCold, s.shipWarm, s.grWarm],
    ratios: [
      ['go-ship / GoReleaser, cold', s.shipCold.name, s.grCold.name],
      ['go-ship / GoReleaser, warm', s.shipWarm.name, s.grWarm.name],
    ],
    goal: 'at most 0.8x GoReleaser cold and 0.5x warm, with the same outputs on both sides',
  };
}
