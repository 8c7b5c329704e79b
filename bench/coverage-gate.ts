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
  };
  const rss = { ship: 0, cover: 0 };
  for (let i = 0; i < n; i++) {
    const a = await timed(process.execPath, [BUNDLE], stepEnv, dir);
    const b = await timed('go', ['tool', 'cover', '-func=big.out'], env, dir);
    s.ship.samples.push(a.ms);
    s.cover.samples.push(b.ms);
    rss.ship = Math.max(rss.ship, a.rssMB);
    rss.cover = Math.max(rss.cover, b.rssMB);
    process.stderr.write(
      `[${i + 1}/${n}] go-ship ${a.ms.toFixed(0)} ms ${a.rssMB.toFixed(0)} MB, go tool cover ${b.ms.toFixed(0)} ms ${b.rssMB.toFixed(0)} MB\n`,
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
    setup: `${LINES.toLocaleString('en')} block lines (${(size / 1e6).toFixed(0)} MB, the fixture module's ${blocks.length} real blocks repeated: duplicates to merge), count mode; both print the same total (${ours}%, checked after the runs). Peak RSS (GNU time): go-ship ${rss.ship.toFixed(0)} MB, go tool cover ${rss.cover.toFixed(0)} MB. go-test-coverage is not in this run yet. ${n} interleaved runs each.`,
    series: Object.values(s),
    ratios: [['go-ship / go tool cover -func', s.ship.name, s.cover.name]],
    goal: 'faster than go tool cover -func, under 300 MB',
  };
}
