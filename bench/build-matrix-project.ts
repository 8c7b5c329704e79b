import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { GORELEASER_VERSION, installGoReleaser, withCwd } from './build-matrix.js';
import { parse } from 'yaml';
import { actionStep, median, timeRun, type BenchReport, type Series } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..');
const BUNDLE = join(ROOT, 'dist', 'build-matrix', 'index.js');
const CONFIGS = ['.goreleaser.yml', '.goreleaser.yaml', 'goreleaser.yml', 'goreleaser.yaml'];
// What GoReleaser would do beyond the binaries, archives and checksums go-ship writes: publishing,
// images, signing and SBOMs (syft is not installed here), and before-hooks (go mod tidy, go generate).
const GORELEASER_SKIP = 'publish,announce,docker,sign,sbom,before';

// The variable each architecture's variant is set with (`linux/arm/7` builds with GOARM=7).
const VARIANT_ENV: Record<string, string> = {
  amd64: 'GOAMD64',
  arm: 'GOARM',
  arm64: 'GOARM64',
  '386': 'GO386',
};

/**
 * The floor under both tools: the same `go build`s and nothing else (no archives, no checksums),
 * `parallelism` at a time, for every target go-ship built (its manifest) and every build's main
 * package in the config. Returns the wall time in ms.
 */
async function goBuilds(
  src: string,
  targets: string[],
  mains: string[],
  parallelism: number,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const out = mkdtempSync(join(tmpdir(), 'bench-go-build-'));
  const jobs = targets.flatMap((t) => mains.map((main) => ({ t, main })));
  const t0 = process.hrtime.bigint();
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      const [goos, goarch, variant] = jobs[i].t.split('/');
      const vars = {
        ...env,
        GOOS: goos,
        GOARCH: goarch,
        ...(variant && VARIANT_ENV[goarch] ? { [VARIANT_ENV[goarch]]: variant } : {}),
      };
      await new Promise<void>((ok, fail) => {
        const p = spawn('go', ['build', '-ldflags=-s -w', '-o', join(out, String(i), 'bin'), jobs[i].main], {
          cwd: src,
          env: vars,
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let err = '';
        p.stderr.on('data', (d) => (err += d));
        p.on('close', (code) =>
          code === 0 ? ok() : fail(new Error(`go build ${jobs[i].t} ${jobs[i].main}: ${err}`)),
        );
      });
    }
  };
  await Promise.all(Array.from({ length: parallelism }, worker));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  rmSync(out, { recursive: true, force: true });
  return ms;
}

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
    floorCold: { name: 'go build alone, the same targets, cold cache', samples: [] },
    floorWarm: { name: 'go build alone, the same targets, warm cache', samples: [] },
  };
  // Each build's main package (GoReleaser's default is the module's root) and, after go-ship's
  // first run, the targets it built.
  const builds = (
    (parse(readFileSync(join(src, config), 'utf8')) as { builds?: { main?: string; skip?: boolean }[] })
      ?.builds ?? [{}]
  ).filter((b) => !b.skip);
  const mains = [
    ...new Set(builds.map((b) => (b.main ?? '.').replace(/^(?!\.)/, './').replace(/\/main\.go$/, ''))),
  ];
  let targets: string[] = [];
  const floor = (env: NodeJS.ProcessEnv) => goBuilds(src, targets, mains, cpus().length, env);
  const seen: Record<string, string[]> = {};
  let sizes = '';
  // A cold run of a project with many dependencies takes minutes per side: GO_SHIP_BENCH_COLD_RUNS
  // can take fewer of them than of the warm ones.
  const coldRuns = Math.min(n, Number(process.env.GO_SHIP_BENCH_COLD_RUNS) || n);
  for (let i = 0; i < coldRuns; i++) {
    for (const [key, fn] of [
      ['shipCold', ship],
      ['grCold', goreleaser],
    ] as const) {
      const cache = mkdtempSync(join(tmpdir(), 'bench-gocache-cold-'));
      s[key].samples.push(await withCwd(src, () => fn({ ...base, GOCACHE: cache })));
      rmSync(cache, { recursive: true, force: true });
      if (key === 'shipCold' && !targets.length)
        targets = (
          JSON.parse(readFileSync(join(src, 'dist', 'manifest.json'), 'utf8')) as { targets: string[] }
        ).targets;
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
    const cache = mkdtempSync(join(tmpdir(), 'bench-gocache-cold-'));
    s.floorCold.samples.push(await floor({ ...base, GOCACHE: cache }));
    rmSync(cache, { recursive: true, force: true });
    if (seen.shipCold.join(' ') !== seen.grCold.join(' '))
      throw new Error(
        `different outputs:\n  go-ship    ${seen.shipCold.join(' ')}\n  GoReleaser ${seen.grCold.join(' ')}`,
      );
    process.stderr.write(
      `[cold ${i + 1}/${coldRuns}] go-ship ${s.shipCold.samples.at(-1)!.toFixed(0)} ms, goreleaser ${s.grCold.samples.at(-1)!.toFixed(0)} ms, go build alone ${s.floorCold.samples.at(-1)!.toFixed(0)} ms\n`,
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
    s.floorWarm.samples.push(await floor(warm));
    process.stderr.write(
      `[warm ${i + 1}/${n}] go-ship ${s.shipWarm.samples.at(-1)!.toFixed(0)} ms, goreleaser ${s.grWarm.samples.at(-1)!.toFixed(0)} ms, go build alone ${s.floorWarm.samples.at(-1)!.toFixed(0)} ms\n`,
    );
  }
  rmSync(warmCache, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  const archives = seen.shipCold.filter((f) => !f.endsWith('.txt'));
  // What each tool adds to the go builds: archives, checksums, its own start and planning.
  const above = (k: 'ship' | 'gr', temp: 'Cold' | 'Warm') =>
    ((median(s[`${k}${temp}`].samples) - median(s[`floor${temp}`].samples)) / 1000).toFixed(2);
  return {
    title: `build-matrix on a real project: ${basename(src)}, its own GoReleaser config`,
    setup: `${basename(src)} at ${commit}, its \`${config}\` unchanged, read by both sides: go-ship (\`goreleaser-config: ${config}\`) and GoReleaser ${GORELEASER_VERSION} (\`release --snapshot --skip=${GORELEASER_SKIP}\`; the skipped steps are what go-ship's build-matrix does not do). Both write the same ${archives.length} archives (${sizes} bytes from go-ship) and the checksums file, compared by name after the first run of each: \`${seen.shipCold.join(' ')}\`. ${cpus().length} CPUs, ${cpus().length} builds at a time on both sides; modules downloaded beforehand. Cold: an empty GOCACHE per run; warm: a filled one. ${coldRuns} interleaved cold runs and ${n} warm ones each; median go-ship cold ${(median(s.shipCold.samples) / 1000).toFixed(1)} s. The floor is the same \`go build -ldflags='-s -w'\` of ${mains.join(', ')} for the ${targets.length} targets go-ship built (${targets.join(', ')}), ${cpus().length} at a time, and nothing else. Above that floor (difference of medians), go-ship adds ${above('ship', 'Cold')} s cold and ${above('ship', 'Warm')} s warm; GoReleaser adds ${above('gr', 'Cold')} s cold and ${above('gr', 'Warm')} s warm.`,
    series: [s.shipCold, s.grCold, s.floorCold, s.shipWarm, s.grWarm, s.floorWarm],
    ratios: [
      ['go-ship / GoReleaser, cold', s.shipCold.name, s.grCold.name],
      ['go-ship / GoReleaser, warm', s.shipWarm.name, s.grWarm.name],
      ['go build alone / GoReleaser, cold (the best any tool could do)', s.floorCold.name, s.grCold.name],
      ['go build alone / GoReleaser, warm (the best any tool could do)', s.floorWarm.name, s.grWarm.name],
    ],
    goal: 'at most 0.8x GoReleaser cold and 0.5x warm, with the same outputs on both sides',
  };
}
