import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureBuilderImage } from '../__tests__/helpers/docker.js';
import { median, type BenchReport, type Series } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'go-ship.js');
const REGISTRY = process.env.GO_SHIP_TEST_REGISTRY ?? '127.0.0.1:5055';

/** Runs a go-ship action through the CLI and returns its wall time in ms; a failure ends the bench. */
function goShip(action: string, dir: string, withs: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(
    process.execPath,
    [CLI, action, '--workspace', dir, ...withs.flatMap((w) => ['--with', w])],
    {
      env,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`${action} failed: ${r.stderr.slice(-1500)}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/**
 * A two-platform (linux/amd64, linux/arm64) image of examples/hello-svc pushed to the loopback
 * registry: build-matrix + docker-multistage prebuilt, the prebuilt step alone, and docker-multistage
 * dockerfile (BuildKit, cross-compiling on the build platform); cold (empty Go build cache, pruned
 * BuildKit cache) and warm. The emulated variant needs binfmt/qemu-user-static, which is reported
 * when absent.
 */
export async function bench(runs: number): Promise<BenchReport> {
  const n = runs || 3;
  const builder = await ensureBuilderImage();
  const dir = join(mkdtempSync(join(tmpdir(), 'bench-dms-')), 'hello-svc');
  cpSync(join(ROOT, 'examples', 'hello-svc'), dir, { recursive: true });
  writeFileSync(join(dir, '.gitignore'), '/dist/\n');
  const git = (...a: string[]) =>
    execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@example.com', ...a], { cwd: dir });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'bench');
  const base = {
    ...process.env,
    PATH: `/usr/bin:${process.env.PATH}`,
    GOFLAGS: '-buildvcs=false',
    GOTOOLCHAIN: 'local',
  };
  const image = (kind: string) => `image=${REGISTRY}/go-ship-bench/${kind}`;
  const s = {
    pipeCold: { name: 'build-matrix + prebuilt, cold', samples: [] } as Series,
    dfCold: { name: 'dockerfile mode (BuildKit), cold', samples: [] } as Series,
    pipeWarm: { name: 'build-matrix + prebuilt, warm', samples: [] } as Series,
    preWarm: { name: 'prebuilt step alone, warm', samples: [] } as Series,
    dfWarm: { name: 'dockerfile mode (BuildKit), warm', samples: [] } as Series,
  };
  const bm = ['targets=linux/amd64,linux/arm64', 'version=1.0.0'];
  const pre = [image('prebuilt'), 'version=1.0.0'];
  const df = [
    'mode=dockerfile',
    image('dockerfile'),
    'version=1.0.0',
    `builder-image=${builder}`,
    'binary=hello-svc',
  ];
  for (let i = 0; i < n; i++) {
    const cache = mkdtempSync(join(tmpdir(), 'bench-dms-gocache-'));
    s.pipeCold.samples.push(
      goShip('build-matrix', dir, bm, { ...base, GOCACHE: cache }) +
        goShip('docker-multistage', dir, pre, base),
    );
    rmSync(cache, { recursive: true, force: true });
    execFileSync('/usr/bin/docker', ['builder', 'prune', '-af'], { stdio: 'ignore' });
    s.dfCold.samples.push(goShip('docker-multistage', dir, df, base));
    process.stderr.write(
      `[cold ${i + 1}/${n}] build-matrix+prebuilt ${s.pipeCold.samples.at(-1)!.toFixed(0)} ms, dockerfile ${s.dfCold.samples.at(-1)!.toFixed(0)} ms\n`,
    );
  }
  const warmCache = mkdtempSync(join(tmpdir(), 'bench-dms-gocache-warm-'));
  goShip('build-matrix', dir, bm, { ...base, GOCACHE: warmCache });
  for (let i = 0; i < n; i++) {
    const bmMs = goShip('build-matrix', dir, bm, { ...base, GOCACHE: warmCache });
    const preMs = goShip('docker-multistage', dir, pre, base);
    s.pipeWarm.samples.push(bmMs + preMs);
    s.preWarm.samples.push(preMs);
    s.dfWarm.samples.push(goShip('docker-multistage', dir, df, base));
    process.stderr.write(
      `[warm ${i + 1}/${n}] build-matrix+prebuilt ${s.pipeWarm.samples.at(-1)!.toFixed(0)} ms (prebuilt ${preMs.toFixed(0)} ms), dockerfile ${s.dfWarm.samples.at(-1)!.toFixed(0)} ms\n`,
    );
  }
  rmSync(warmCache, { recursive: true, force: true });
  const binfmt = existsSync('/proc/sys/fs/binfmt_misc/qemu-aarch64');
  return {
    title: 'docker-multistage: a two-platform image of hello-svc',
    setup: `linux/amd64 + linux/arm64 pushed to a loopback Distribution registry, through the go-ship CLI (each run includes Node and CLI start-up). Docker engine 20.10 (Debian), vfs storage; builder image made locally from the machine's GOROOT. Cold: empty GOCACHE for build-matrix, \`docker builder prune -af\` before dockerfile mode; warm: repeated runs. ${binfmt ? '' : 'The emulated variant (no $BUILDPLATFORM) was not run: binfmt_misc has no qemu-aarch64 handler on this machine. '}${n} runs each; prebuilt step alone, warm: median ${(median(s.preWarm.samples) / 1000).toFixed(2)} s.`,
    series: Object.values(s),
    ratios: [
      ['build-matrix + prebuilt / dockerfile mode, cold', s.pipeCold.name, s.dfCold.name],
      ['build-matrix + prebuilt / dockerfile mode, warm', s.pipeWarm.name, s.dfWarm.name],
    ],
    goal: 'prebuilt mode under 3 s warm for two platforms',
  };
}
