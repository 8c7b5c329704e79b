import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCommand } from '../src/runner/command.js';
import type { BenchReport } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..');
const BUNDLE = join(ROOT, 'dist', 'coverage-gate', 'index.js');
const LINES = 2_000_000;

/** Wall time and peak RSS of one run, from GNU time (`%e %M`). */
function timed(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ ms: number; rssMB: number }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '@@%e %M', file, ...args], {
      env,
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (b) => (err += b));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /@@([\d.]+) (\d+)/.exec(err);
      if (code !== 0 || !m)
        return reject(new Error(`${file} ${args.join(' ')} exited ${code}: ${err.slice(-1500)}`));
      resolvePromise({ ms: Number(m[1]) * 1000, rssMB: Number(m[2]) / 1024 });
    });
  });
}

const GTC_MODULE = 'github.com/vladopajic/go-test-coverage/v2';
const GTC_VERSION = 'latest';

/** go-test-coverage from the Go module proxy (GOPROXY as configured), or why it could not be had. */
async function installGoTestCoverage(
  dir: string,
  env: NodeJS.ProcessEnv,
): Promise<{ bin?: string; why?: string }> {
  const gobin = mkdtempSync(join(tmpdir(), 'bench-gtc-'));
  try {
    await runCommand('go', ['install', `${GTC_MODULE}@${GTC_VERSION}`], {
      cwd: dir,
      env: { ...env, GOBIN: gobin, GOFLAGS: '' },
    });
    return { bin: join(gobin, 'go-test-coverage') };
  } catch (e) {
    const last = String((e as Error).message)
      .trim()
      .split('\n')
      .filter(Boolean)
      .slice(-2)
      .join(' ');
    return {
      why: `\`go install ${GTC_MODULE}@${GTC_VERSION}\` failed on this machine (${last.replace(/https?:\/\/\S+/g, '<GOPROXY>')})`,
    };
  }
}

/**
 * A 2-million-line count-mode profile of the fixture module (its real blocks, repeated, so most
 * lines are duplicates to merge), read by go-ship's coverage-gate bundle and by `go tool cover -func`.
 */
export async function bench(runs: number): Promise<BenchReport> {
  const n = runs || 5;
  const dir = join(mkdtempSync(join(tmpdir(), 'bench-cov-')), 'covmod');
  cpSync(join(ROOT, '__tests__', 'fixtures', 'covmod'), dir, { recursive: true });
  const env = { ...process.env, GOFLAGS: '-buildvcs=false', GOTOOLCHAIN: 'local' };
  await runCommand('go', ['test', '-covermode=count', '-coverpkg=./...', '-coverprofile=one.out', './...'], {
    cwd: dir,
    env,
  });
  const blocks = readFileSync(join(dir, 'one.out'), 'utf8').trim().split('\n').slice(1);
  const out: string[] = ['mode: count'];
  for (let i = 0; out.length <= LINES; i++) out.push(blocks[i % blocks.length]);
  writeFileSync(join(dir, 'big.out'), `${out.join('\n')}\n`);
  const size = readFileSync(join(dir, 'big.out')).length;
  await runCommand('go', ['tool', 'cover', '-func=big.out'], { cwd: dir, env }); // builds the cover tool once

  const gtc = await installGoTestCoverage(dir, env);
  if (gtc.bin)
    writeFileSync(
      join(dir, '.testcoverage.yml'),
      'profile: big.out\nlocal-prefix: example.com/covmod\nthreshold:\n  total: 0\n',
    );

  const stepDir = mkdtempSync(join(tmpdir(), 'bench-cov-step-'));
  const stepEnv = {
    ...env,
    GITHUB_WORKSPACE: dir,
    RUNNER_TEMP: stepDir,
    GITHUB_OUTPUT: join(stepDir, 'out'),
    GITHUB_STEP_SUMMARY: join(stepDir, 'summary'),
    INPUT_PROFILES: 'big.out',
    'INPUT_EXCLUDE-GENERATED': 'false',
  };
  for (const f of ['out', 'summary']) writeFileSync(join(stepDir, f), '');
  const s = {
    ship: { name: 'go-ship coverage-gate (bundle)', samples: [] as number[] },
    cover: { name: 'go tool cover -func', samples: [] as number[] },
    gtc: { name: 'go-test-coverage', samples: [] as number[] },
  };
  const rss = { ship: 0, cover: 0, gtc: 0 };
  for (let i = 0; i < n; i++) {
    const a = await timed(process.execPath, [BUNDLE], stepEnv, dir);
    const b = await timed('go', ['tool', 'cover', '-func=big.out'], env, dir);
    const c = gtc.bin ? await timed(gtc.bin, ['--config=.testcoverage.yml'], env, dir) : undefined;
    s.ship.samples.push(a.ms);
    s.cover.samples.push(b.ms);
    if (c) s.gtc.samples.push(c.ms);
    rss.ship = Math.max(rss.ship, a.rssMB);
    rss.cover = Math.max(rss.cover, b.rssMB);
    rss.gtc = Math.max(rss.gtc, c?.rssMB ?? 0);
    process.stderr.write(
      `[${i + 1}/${n}] go-ship ${a.ms.toFixed(0)} ms ${a.rssMB.toFixed(0)} MB, go tool cover ${b.ms.toFixed(0)} ms ${b.rssMB.toFixed(0)} MB${c ? `, go-test-coverage ${c.ms.toFixed(0)} ms ${c.rssMB.toFixed(0)} MB` : ''}\n`,
    );
  }
  // Both must print the same total, or the timing means nothing.
  const ours = /total-func<<(\S+)\n([\d.]+)\n/.exec(readFileSync(join(stepDir, 'out'), 'utf8'))?.[2];
  const theirs = /total:\s+\(statements\)\s+([\d.]+)%/.exec(
    (await runCommand('go', ['tool', 'cover', '-func=big.out'], { cwd: dir, env })).stdout,
  )?.[1];
  if (!ours || ours !== theirs) throw new Error(`totals differ: go-ship ${ours}, go tool cover ${theirs}`);
  return {
    title: 'coverage-gate: reading a 2-million-line profile',
    setup: `${LINES.toLocaleString('en')} block lines (${(size / 1e6).toFixed(0)} MB, the fixture module's ${blocks.length} real blocks repeated: duplicates to merge), count mode; both print the same total (${ours}%, checked after the runs). Peak RSS (GNU time): go-ship ${rss.ship.toFixed(0)} MB, go tool cover ${rss.cover.toFixed(0)} MB${gtc.bin ? `, go-test-coverage ${rss.gtc.toFixed(0)} MB` : ''}. ${gtc.bin ? `go-test-coverage ${GTC_MODULE}@${GTC_VERSION}.` : `go-test-coverage not run: ${gtc.why}`} ${n} interleaved runs each.`,
    series: gtc.bin ? Object.values(s) : [s.ship, s.cover],
    ratios: [
      ['go-ship / go tool cover -func', s.ship.name, s.cover.name],
      ...(gtc.bin
        ? [['go-ship / go-test-coverage', s.ship.name, s.gtc.name] as [string, string, string]]
        : []),
    ],
    goal: 'faster than go tool cover -func, under 300 MB',
  };
}
