import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { actionStep, median, timeRun, type BenchReport, type Series } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..');
const BUNDLE = join(ROOT, 'dist', 'build-matrix', 'index.js');
const TARGETS = ['linux/amd64', 'linux/arm64', 'darwin/amd64', 'darwin/arm64', 'windows/amd64'];
const LDFLAGS = '-s -w -X main.version={{.Version}} -X main.commit={{.Commit}} -X main.date={{.CommitDate}}';
const GORELEASER = 'github.com/goreleaser/goreleaser/v2';
// A GoReleaser whose go.mod accepts the machine's Go and whose dependencies the module proxy here has
// (v2.16+ ask for newer Go or for modules the proxy lacks).
export const GORELEASER_VERSION = 'v2.15.1';

const GORELEASER_YAML = `version: 2
project_name: hello-svc
builds:
  - main: .
    binary: hello-svc
    env: [CGO_ENABLED=0]
    flags: [-trimpath]
    ldflags: ['${LDFLAGS}']
    goos: [linux, darwin, windows]
    goarch: [amd64, arm64]
    ignore: [{ goos: windows, goarch: arm64 }]
    mod_timestamp: '{{ .CommitTimestamp }}'
archives:
  - formats: [tar.gz]
    format_overrides: [{ goos: windows, formats: [zip] }]
checksum:
  name_template: checksums.txt
changelog:
  disable: true
`;

export function installGoReleaser(dir: string): { bin?: string; why?: string } {
  const gobin = join(dir, 'gobin');
  const r = spawnSync('go', ['install', `${GORELEASER}@${GORELEASER_VERSION}`], {
    encoding: 'utf8',
    env: { ...process.env, GOBIN: gobin, GOFLAGS: '', GOTOOLCHAIN: 'local' },
  });
  if (r.status !== 0)
    return {
      why: `\`go install ${GORELEASER}@${GORELEASER_VERSION}\` failed (${
        (r.stderr || '')
          .replace(/https?:\/\/\S+/g, '<GOPROXY>')
          .trim()
          .split('\n')
          .slice(-1)[0]
      })`,
    };
  return { bin: join(gobin, 'goreleaser') };
}

/**
 * examples/hello-svc for five targets with the same flags (-trimpath, -s -w, the same -X values,
 * CGO off), built, archived and checksummed by go-ship build-matrix and by GoReleaser
 * (`release --snapshot --skip=publish`: builds, archives, checksums), and built by a sequential
 * `go build` loop; from an empty build cache (cold) and from a filled one (warm).
 */
export async function bench(runs: number): Promise<BenchReport> {
  const n = runs || 3;
  const dir = mkdtempSync(join(tmpdir(), 'bench-build-'));
  const src = join(dir, 'hello-svc');
  cpSync(join(ROOT, 'examples', 'hello-svc'), src, { recursive: true });
  writeFileSync(join(src, '.goreleaser.yaml'), GORELEASER_YAML);
  writeFileSync(join(src, '.gitignore'), '/dist/\n/out/\n');
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@example.com', ...args], { cwd: src });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'bench');
  git('tag', 'v1.0.0');
  process.stderr.write(`installing GoReleaser ${GORELEASER_VERSION} from the Go module proxy...\n`);
  const gr = installGoReleaser(dir);

  const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: src, encoding: 'utf8' }).trim();
  const loop = async (env: NodeJS.ProcessEnv) => {
    const t0 = process.hrtime.bigint();
    for (const t of TARGETS) {
      const [goos, goarch] = t.split('/');
      const ld = LDFLAGS.replace('{{.Version}}', '1.0.0')
        .replace('{{.Commit}}', commit)
        .replace('{{.CommitDate}}', '2026-01-01T00:00:00Z');
      const r = spawnSync(
        'go',
        ['build', '-trimpath', '-ldflags', ld, '-o', join('out', `${goos}_${goarch}`, 'hello-svc'), '.'],
        {
          cwd: src,
          env: { ...env, GOOS: goos, GOARCH: goarch, CGO_ENABLED: '0' },
          encoding: 'utf8',
        },
      );
      if (r.status !== 0) throw new Error(`go build ${t}: ${r.stderr}`);
    }
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const stepDir = mkdtempSync(join(tmpdir(), 'bench-build-step-'));
  const ship = (env: NodeJS.ProcessEnv) =>
    timeRun(process.execPath, [BUNDLE], {
      ...env,
      ...actionStep(stepDir, src),
      // The same .goreleaser.yaml GoReleaser reads: the same targets, flags, archives and checksums.
      'INPUT_GORELEASER-CONFIG': '.goreleaser.yaml',
      INPUT_TRIMPATH: 'true',
      INPUT_STRIP: 'true',
      INPUT_CHECKSUMS: 'true',
      INPUT_SBOM: 'false', // GoReleaser's SBOMs need syft, which this machine lacks: neither side writes one
      INPUT_ARCHIVE: 'tar.gz',
      INPUT_MODE: 'build',
      INPUT_CGO: 'false',
      'INPUT_VERIFY-REPRODUCIBLE': 'false',
    });
  const goreleaser = (env: NodeJS.ProcessEnv) =>
    timeRun(
      gr.bin!,
      ['release', '--snapshot', '--clean', '--skip=publish', '--parallelism', String(cpus().length)],
      {
        ...env,
        PWD: src,
      },
    ).catch((e) => {
      throw new Error(`goreleaser: ${(e as Error).message}`);
    });

  const series = (name: string): Series => ({ name, samples: [] });
  const s = {
    shipCold: series('go-ship build-matrix, cold cache'),
    loopCold: series('sequential go build loop, cold cache'),
    grCold: series(`GoReleaser ${GORELEASER_VERSION}, cold cache`),
    shipWarm: series('go-ship build-matrix, warm cache'),
    loopWarm: series('sequential go build loop, warm cache'),
    grWarm: series(`GoReleaser ${GORELEASER_VERSION}, warm cache`),
  };
  const warmCache = mkdtempSync(join(tmpdir(), 'bench-gocache-warm-'));
  const base = { ...process.env, GOFLAGS: '-buildvcs=false', GOTOOLCHAIN: 'local' };
  // The same outputs on both sides: as many archives of each format, and a checksums file.
  const outputs = () =>
    readdirSync(join(src, 'dist'))
      .filter((f) => /\.(tar\.gz|zip)$|checksums\.txt$/.test(f))
      .map((f) => f.replace(/^.*\.(tar\.gz|zip)$/, '*.$1'))
      .sort()
      .join(' ');
  const seen: Record<string, string> = {};
  // A cold round takes about three minutes here: GO_SHIP_BENCH_COLD_RUNS can take fewer of them
  // than of the warm ones (as in build-matrix-project).
  const coldRuns = Math.min(n, Number(process.env.GO_SHIP_BENCH_COLD_RUNS) || n);
  for (let i = 0; i < coldRuns; i++) {
    const cold = () => {
      const c = mkdtempSync(join(tmpdir(), 'bench-gocache-cold-'));
      return { env: { ...base, GOCACHE: c }, done: () => rmSync(c, { recursive: true, force: true }) };
    };
    for (const [key, fn] of [
      ['shipCold', ship],
      ['loopCold', loop],
      ...(gr.bin ? [['grCold', goreleaser] as const] : []),
    ] as const) {
      const c = cold();
      s[key].samples.push(await withCwd(src, () => fn(c.env)));
      c.done();
      if (key !== 'loopCold') seen[key] ??= outputs();
      rmSync(join(src, 'dist'), { recursive: true, force: true });
      rmSync(join(src, 'out'), { recursive: true, force: true });
    }
    if (gr.bin && seen.shipCold !== seen.grCold)
      throw new Error(`different outputs: go-ship ${seen.shipCold}; GoReleaser ${seen.grCold}`);
    process.stderr.write(
      `[cold ${i + 1}/${coldRuns}] go-ship ${s.shipCold.samples.at(-1)!.toFixed(0)} ms, loop ${s.loopCold.samples.at(-1)!.toFixed(0)} ms${gr.bin ? `, goreleaser ${s.grCold.samples.at(-1)!.toFixed(0)} ms` : ''}\n`,
    );
  }
  const warm = { ...base, GOCACHE: warmCache };
  await withCwd(src, () => loop(warm)); // fills the cache
  for (let i = 0; i < n; i++) {
    for (const [key, fn] of [
      ['shipWarm', ship],
      ['loopWarm', loop],
      ...(gr.bin ? [['grWarm', goreleaser] as const] : []),
    ] as const) {
      s[key].samples.push(await withCwd(src, () => fn(warm)));
      rmSync(join(src, 'dist'), { recursive: true, force: true });
      rmSync(join(src, 'out'), { recursive: true, force: true });
    }
    process.stderr.write(
      `[warm ${i + 1}/${n}] go-ship ${s.shipWarm.samples.at(-1)!.toFixed(0)} ms, loop ${s.loopWarm.samples.at(-1)!.toFixed(0)} ms${gr.bin ? `, goreleaser ${s.grWarm.samples.at(-1)!.toFixed(0)} ms` : ''}\n`,
    );
  }
  rmSync(warmCache, { recursive: true, force: true });
  const grSeries = gr.bin ? [s.grCold, s.grWarm] : [];
  return {
    title: 'build-matrix: hello-svc for 5 targets',
    setup: `examples/hello-svc for ${TARGETS.join(', ')}; -trimpath, -s -w, the same -X ldflags, CGO_ENABLED=0, ${cpus().length} CPUs (go-ship and GoReleaser run ${cpus().length} builds at a time). go-ship (\`goreleaser-config: .goreleaser.yaml\`) and GoReleaser (\`release --snapshot --skip=publish\`) read the same file and write the same outputs: the binaries, a tar.gz per target (zip for windows) and a checksums file; neither writes an SBOM (GoReleaser's need syft, which is not installed here); the loop only builds. Outputs compared after the first run of each: \`${seen.shipCold}\` on both sides. Cold: an empty GOCACHE per run; warm: a filled one. ${gr.bin ? '' : `GoReleaser not run: ${gr.why}. `}${coldRuns === n ? `${n} runs each` : `${coldRuns} cold and ${n} warm runs each`}, median go-ship cold ${(median(s.shipCold.samples) / 1000).toFixed(1)} s.`,
    series: [s.shipCold, s.loopCold, s.shipWarm, s.loopWarm, ...grSeries],
    ratios: [
      ['go-ship / sequential loop, cold', s.shipCold.name, s.loopCold.name],
      ['go-ship / sequential loop, warm', s.shipWarm.name, s.loopWarm.name],
      ...(gr.bin
        ? ([
            ['go-ship / GoReleaser, cold', s.shipCold.name, s.grCold.name],
            ['go-ship / GoReleaser, warm', s.shipWarm.name, s.grWarm.name],
          ] as [string, string, string][])
        : []),
    ],
    goal: 'at most 0.8x GoReleaser cold and 0.5x warm, with the same outputs on both sides',
  };
}

/** Runs fn with the process in `dir` (GoReleaser and the loop work in the current directory). */
export async function withCwd<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const before = process.cwd();
  process.chdir(dir);
  try {
    return await fn();
  } finally {
    process.chdir(before);
  }
}
