import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCommand } from '../src/runner/command.js';
import { writeGoModule } from './go-module.js';
import { actionStep, median, type BenchReport, type Series } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..');
const BUNDLE = join(ROOT, 'dist', 'coverage-gate', 'index.js');
const GO_ENV = { ...process.env, GOFLAGS: '-buildvcs=false', GOTOOLCHAIN: 'local' };

/** Wall time of one run (measured here, to the microsecond) and its peak RSS (GNU time's `%M`). */
function timed(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ ms: number; rssMB: number }> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
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
      resolvePromise({ ms: performance.now() - started, rssMB: Number(m[2]) / 1024 });
    });
  });
}

/** A profile to read, in the module `dir` it was written for. */
interface Case {
  key: string;
  label: string;
  dir: string;
  profile: string;
  shape: string;
}

async function coverpkgCase(): Promise<Case> {
  // Shaped like an expression engine's own `go test -coverpkg=./... ./...` run (524,469 lines,
  // 9,358 distinct blocks in 87 files, every block reported again by each of its test binaries).
  const dir = mkdtempSync(join(tmpdir(), 'bench-cov-pkg-'));
  writeGoModule(dir, { module: 'example.com/engine', packages: 56, files: 87, funcsPerFile: 11 });
  await runCommand('go', ['test', '-covermode=count', '-coverpkg=./...', '-coverprofile=cov.out', './...'], {
    cwd: dir,
    env: GO_ENV,
  });
  return { key: 'coverpkg', label: '-coverpkg profile', dir, profile: 'cov.out', shape: '' };
}

async function uniqueCase(): Promise<Case> {
  // A large module without -coverpkg: every block once, over thousands of files.
  const dir = mkdtempSync(join(tmpdir(), 'bench-cov-big-'));
  writeGoModule(dir, { module: 'example.com/big', packages: 150, files: 3000, funcsPerFile: 4 });
  await runCommand('go', ['test', '-covermode=count', '-coverprofile=cov.out', './...'], {
    cwd: dir,
    env: GO_ENV,
  });
  return { key: 'unique', label: '3,000 files, unique blocks', dir, profile: 'cov.out', shape: '' };
}

async function repeatedCase(): Promise<Case> {
  // The first version of this benchmark: the fixture's 81 blocks repeated to 2 million lines. It
  // flatters (a handful of keys merged over and over); kept as the third row.
  const dir = join(mkdtempSync(join(tmpdir(), 'bench-cov-rep-')), 'covmod');
  cpSync(join(ROOT, '__tests__', 'fixtures', 'covmod'), dir, { recursive: true });
  await runCommand('go', ['test', '-covermode=count', '-coverpkg=./...', '-coverprofile=one.out', './...'], {
    cwd: dir,
    env: GO_ENV,
  });
  const blocks = readFileSync(join(dir, 'one.out'), 'utf8').trim().split('\n').slice(1);
  const out: string[] = ['mode: count'];
  for (let i = 0; out.length <= 2_000_000; i++) out.push(blocks[i % blocks.length]);
  writeFileSync(join(dir, 'big.out'), `${out.join('\n')}\n`);
  return { key: 'repeated', label: 'fixture repeated to 2M lines', dir, profile: 'big.out', shape: '' };
}

/** Lines, distinct blocks and files of a profile, as a sentence. */
function shapeOf(c: Case): string {
  const lines = readFileSync(join(c.dir, c.profile), 'utf8').trim().split('\n').slice(1);
  const keys = new Set(lines.map((l) => l.slice(0, l.lastIndexOf(' '))));
  const files = new Set(lines.map((l) => l.slice(0, l.lastIndexOf(':'))));
  return `${lines.length.toLocaleString('en')} lines, ${keys.size.toLocaleString('en')} distinct blocks in ${files.size.toLocaleString('en')} files`;
}

/**
 * coverage-gate's bundle (on the Node running the bench: Node 24 under `npm run`) and
 * `go tool cover -func` on the same profiles, interleaved, each case checked to print the same total.
 */
export async function bench(runs: number): Promise<BenchReport> {
  const n = runs || 7;
  process.stderr.write('preparing: generated modules and their go test profiles (a minute or two)\n');
  const cases = [await coverpkgCase(), await uniqueCase(), await repeatedCase()];
  for (const c of cases) {
    c.shape = shapeOf(c);
    await runCommand('go', ['tool', 'cover', `-func=${c.profile}`], { cwd: c.dir, env: GO_ENV }); // builds the tool once
  }
  const series: Series[] = [];
  const ratios: [string, string, string][] = [];
  const notes: string[] = [];
  for (const c of cases) {
    const step = mkdtempSync(join(tmpdir(), 'bench-cov-step-'));
    const stepEnv = {
      ...GO_ENV,
      INPUT_PROFILES: c.profile,
      'INPUT_EXCLUDE-GENERATED': 'false',
    };
    const ship: Series = { name: `${c.label}: go-ship coverage-gate (bundle)`, samples: [] };
    const cover: Series = { name: `${c.label}: go tool cover -func`, samples: [] };
    const rss = { ship: 0, cover: 0 };
    for (let i = 0; i < n; i++) {
      const a = await timed(process.execPath, [BUNDLE], { ...stepEnv, ...actionStep(step, c.dir) }, c.dir);
      const b = await timed('go', ['tool', 'cover', `-func=${c.profile}`], GO_ENV, c.dir);
      ship.samples.push(a.ms);
      cover.samples.push(b.ms);
      rss.ship = Math.max(rss.ship, a.rssMB);
      rss.cover = Math.max(rss.cover, b.rssMB);
      process.stderr.write(
        `[${c.key} ${i + 1}/${n}] go-ship ${a.ms.toFixed(0)} ms ${a.rssMB.toFixed(0)} MB, go tool cover ${b.ms.toFixed(0)} ms ${b.rssMB.toFixed(0)} MB\n`,
      );
    }
    // Both must print the same total, or the timing means nothing.
    const ours = /total-func<<(\S+)\n([\d.]+)\n/.exec(readFileSync(join(step, 'out'), 'utf8'))?.[2];
    const theirs = /total:\s+\(statements\)\s+([\d.]+)%/.exec(
      (await runCommand('go', ['tool', 'cover', `-func=${c.profile}`], { cwd: c.dir, env: GO_ENV })).stdout,
    )?.[1];
    if (!ours || ours !== theirs)
      throw new Error(`${c.key}: totals differ: go-ship ${ours}, go tool cover ${theirs}`);
    series.push(ship, cover);
    ratios.push([`${c.label}: go-ship / go tool cover -func`, ship.name, cover.name]);
    notes.push(
      `**${c.label}**: ${c.shape}; both print ${ours}%; peak RSS go-ship ${rss.ship.toFixed(0)} MB, go tool cover ${rss.cover.toFixed(0)} MB; go-ship median ${median(ship.samples).toFixed(0)} ms.`,
    );
  }
  return {
    title: 'coverage-gate: reading real go test profiles',
    setup: `Three count-mode profiles, each read by go-ship's coverage-gate bundle (the whole action: profile, every source file's functions, report, JSON, summary) and by \`go tool cover -func\`, ${n} interleaved runs each. The first two come from \`go test\` on modules generated by bench/go-module.ts (functions of about ten blocks, tests that cover about half). ${notes.join(' ')} Wall time includes starting the program under GNU time (for its peak RSS), alike for both.`,
    series,
    ratios,
    goal: 'at most 0.6x go tool cover -func on the -coverpkg profile (the performance issue), 0.7x on the 3,000-file one; peak memory at most 1x',
  };
}
