import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NODE24 } from '../__tests__/helpers/cli.js';
import { actionStep, median, timeWithUsage, type BenchReport, type Series } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..');
const REGISTRY = process.env.GO_SHIP_TEST_REGISTRY ?? '127.0.0.1:5055';
const DOCKER = '/usr/bin/docker';
const KO_VERSION = 'v0.19.1';
const LDFLAGS = '-s -w -X main.version=1.0.0';

/** ko from the Go module proxy, kept under ~/.cache/go-ship like the other tools the benches build. */
function installKo(): string {
  const dir = join(homedir(), '.cache', 'go-ship', 'ko', KO_VERSION);
  const bin = join(dir, 'ko');
  if (existsSync(bin)) return bin;
  process.stderr.write(`installing ko ${KO_VERSION} from the Go module proxy (a few minutes)...\n`);
  mkdirSync(dir, { recursive: true });
  execFileSync('go', ['install', `github.com/google/ko@${KO_VERSION}`], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, GOBIN: dir, GOFLAGS: '', GOTOOLCHAIN: 'local' },
  });
  return bin;
}

/**
 * examples/hello-svc as a linux/amd64 image pushed to the loopback registry, warm: go-ship as a
 * workflow runs it (docker-multistage's mode: go in one step; and build-matrix then mode: prebuilt,
 * each a Node 24 process as GitHub starts it) against ko (`ko build`, one process). Both build with the same flags
 * (-trimpath, the same -s -w -X ldflags, CGO off) onto the same base, an image with one empty layer
 * pushed to the registry first; neither writes an SBOM; build-matrix also writes its tar.gz and
 * checksums as it does by default (a release needs them; ko writes neither).
 */
export async function bench(runs: number): Promise<BenchReport> {
  const n = runs || 9;
  const ko = installKo();
  const work = mkdtempSync(join(tmpdir(), 'bench-ko-'));
  const src = join(work, 'hello-svc');
  cpSync(join(ROOT, 'examples', 'hello-svc'), src, { recursive: true });
  writeFileSync(join(src, '.gitignore'), '/dist/\n');
  const base = `${REGISTRY}/go-ship-bench/empty-base:1`;
  writeFileSync(
    join(src, '.ko.yaml'),
    [
      `defaultBaseImage: ${base}`,
      'builds:',
      '  - id: hello-svc',
      '    main: .',
      '    env: [CGO_ENABLED=0]',
      '    flags: [-trimpath]',
      `    ldflags: ['${LDFLAGS}']`,
      '',
    ].join('\n'),
  );
  const git = (...a: string[]) =>
    execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@example.com', ...a], { cwd: src });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'bench');
  const sha7 = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: src, encoding: 'utf8' }).slice(0, 7);
  // The same base on both sides: one empty layer, made here and pushed (no image can be pulled).
  execFileSync('sh', ['-c', `tar -cf - --files-from /dev/null | ${DOCKER} import - ${base}`], {
    stdio: 'ignore',
  });
  execFileSync(DOCKER, ['push', '--quiet', base], { stdio: 'ignore' });

  const cache = mkdtempSync(join(tmpdir(), 'bench-ko-gocache-'));
  const env = {
    ...process.env,
    PATH: `/usr/bin:${process.env.PATH}`,
    GOCACHE: cache,
    GOFLAGS: '-buildvcs=false',
    GOTOOLCHAIN: 'local',
  };
  const step = (action: string, inputs: Record<string, string>) => {
    const dir = mkdtempSync(join(work, `step-${action}-`));
    const vars: NodeJS.ProcessEnv = { ...env, ...actionStep(dir, src) };
    for (const [k, v] of Object.entries(inputs)) vars[`INPUT_${k.toUpperCase()}`] = v;
    return timeWithUsage(NODE24, [join(ROOT, 'dist', action, 'index.js')], vars);
  };
  const goShip = async () => {
    rmSync(join(src, 'dist'), { recursive: true, force: true });
    const a = await step('build-matrix', {
      targets: 'linux/amd64',
      version: '1.0.0',
      ldflags: '-X main.version=1.0.0', // strip (on by default) adds -s -w
    });
    const b = await step('docker-multistage', {
      mode: 'prebuilt',
      image: `${REGISTRY}/go-ship-bench/ko-go-ship`,
      'base-image': base,
      version: '1.0.0',
      latest: 'false',
    });
    return { ms: a.ms + b.ms, cpuMs: a.cpuMs + b.cpuMs, buildMs: a.ms };
  };
  // mode: go: the same image in one step and one process, no archive (what ko does).
  const goMode = () =>
    step('docker-multistage', {
      mode: 'go',
      image: `${REGISTRY}/go-ship-bench/ko-go-mode`,
      'base-image': base,
      version: '1.0.0',
      latest: 'false',
      platforms: 'linux/amd64',
      ldflags: '-X main.version=1.0.0',
    });
  const koBuild = () =>
    timeWithUsage(
      ko, // The tags go-ship's rules give this release, so both push the same names.
      ['build', '--bare', '--platform=linux/amd64', '--sbom=none', `--tags=1.0.0,1.0,1,sha-${sha7}`, '.'],
      {
        ...env,
        KO_DOCKER_REPO: `${REGISTRY}/go-ship-bench/ko-ko`,
        KO_CONFIG_PATH: src,
        PWD: src,
      },
    );
  const inSrc = async <T>(fn: () => Promise<T>): Promise<T> => {
    const before = process.cwd();
    process.chdir(src);
    try {
      return await fn();
    } finally {
      process.chdir(before);
    }
  };

  // Warm: Go's build cache filled and each image pushed once by both sides.
  await goShip();
  await goMode();
  await inSrc(koBuild);
  const s = {
    ship: { name: 'go-ship build-matrix + docker-multistage prebuilt', samples: [] } as Series,
    shipCpu: { name: 'go-ship, CPU (user + system)', samples: [] } as Series,
    build: { name: 'go-ship build-matrix alone', samples: [] } as Series,
    go: { name: 'go-ship docker-multistage, mode: go (one step)', samples: [] } as Series,
    goCpu: { name: 'go-ship mode: go, CPU (user + system)', samples: [] } as Series,
    ko: { name: `ko ${KO_VERSION} build`, samples: [] } as Series,
    koCpu: { name: `ko ${KO_VERSION}, CPU (user + system)`, samples: [] } as Series,
  };
  for (let i = 0; i < n; i++) {
    const g = await goShip();
    const m = await goMode();
    const k = await inSrc(koBuild);
    s.go.samples.push(m.ms);
    s.goCpu.samples.push(m.cpuMs);
    s.ship.samples.push(g.ms);
    s.shipCpu.samples.push(g.cpuMs);
    s.build.samples.push(g.buildMs);
    s.ko.samples.push(k.ms);
    s.koCpu.samples.push(k.cpuMs);
    process.stderr.write(
      `[${i + 1}/${n}] go-ship ${g.ms.toFixed(0)} ms (build-matrix ${g.buildMs.toFixed(0)} ms), mode: go ${m.ms.toFixed(0)} ms, ko ${k.ms.toFixed(0)} ms\n`,
    );
  }
  rmSync(cache, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
  spawnSync(DOCKER, ['rmi', '-f', base], { stdio: 'ignore' });
  return {
    title: 'A prebuilt image against ko: hello-svc, linux/amd64, warm',
    setup: `examples/hello-svc built for linux/amd64 and pushed to a loopback Distribution registry as an image on the same base (one empty layer, pushed there first), warm (Go's build cache filled, both images pushed once). go-ship as a workflow runs it, each step a Node 24 process started as GitHub starts an action: docker-multistage with mode: go (one step: go build, then the image; no archive), and build-matrix then docker-multistage with mode: prebuilt (two steps; build-matrix writes its tar.gz and checksums file as by default, for a release). ko ${KO_VERSION} (built from the Go module proxy): \`ko build --bare --platform=linux/amd64 --sbom=none\` with the four tags go-ship's rules give (1.0.0, 1.0, 1, sha-<commit>). Both: -trimpath, ldflags \`${LDFLAGS}\`, CGO_ENABLED=0, no SBOM. ${n} interleaved runs; go-ship's build-matrix step alone, median ${(median(s.build.samples) / 1000).toFixed(2)} s.`,
    series: Object.values(s),
    ratios: [
      ['go-ship mode: go / ko, wall', s.go.name, s.ko.name],
      ['go-ship mode: go / ko, CPU', s.goCpu.name, s.koCpu.name],
      ['build-matrix + prebuilt / ko, wall', s.ship.name, s.ko.name],
      ['build-matrix + prebuilt / ko, CPU', s.shipCpu.name, s.koCpu.name],
    ],
    goal: 'at or below ko (1.0x), warm',
  };
}
