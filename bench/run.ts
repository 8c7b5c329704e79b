// `npm run bench -- <name> [--runs N] [--record]`: runs go-ship and what a user would use instead on
// the same input, prints medians and ratios, and with --record writes them into docs/benchmarks.md.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { basename, resolve } from 'node:path';
import { formatReport, record, type BenchReport } from './harness.js';

const BENCHES: Record<string, (runs: number) => Promise<BenchReport>> = {
  'cold-start': async (runs) => (await import('./cold-start.js')).bench(runs),
  'setup-go-cross': async (runs) => (await import('./setup-go-cross.js')).bench(runs),
  'cache-budget': async (runs) => (await import('./cache-budget.js')).bench(runs),
  'coverage-gate': async (runs) => (await import('./coverage-gate.js')).bench(runs),
  'semver-tag': async (runs) => (await import('./semver-tag.js')).bench(runs),
  'build-matrix': async (runs) => (await import('./build-matrix.js')).bench(runs),
  'build-matrix-project': async (runs) => (await import('./build-matrix-project.js')).bench(runs),
  'docker-multistage': async (runs) => (await import('./docker-multistage.js')).bench(runs),
  'deploy-bluegreen': async (runs) => (await import('./deploy-bluegreen.js')).bench(runs),
  'deploy-hosts': async (runs) => (await import('./deploy-hosts.js')).bench(runs),
  'quality-gate': async (runs) => (await import('./quality-gate.js')).bench(runs),
  'image-ko': async (runs) => (await import('./image-ko.js')).bench(runs),
  download: async (runs) => (await import('./download.js')).bench(runs),
};

const args = process.argv.slice(2);
const name = args.find((a) => !a.startsWith('--'));
const runsArg = args.indexOf('--runs');
if (!name || !BENCHES[name]) {
  console.error(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}> [--runs N] [--record]`);
  process.exit(2);
}
const runs = runsArg >= 0 ? Number(args[runsArg + 1]) : undefined;
const report = await BENCHES[name](runs ?? 0);
// The variables that changed what ran are part of the command that reproduces it; a checkout's path
// is this machine's, so it is named by what it is a clone of.
const vars = Object.entries(process.env)
  .filter(([k, v]) => k.startsWith('GO_SHIP_BENCH_') && v)
  .map(([k, v]) => `${k}=${k === 'GO_SHIP_BENCH_COLD_RUNS' ? v : `<${cloneOf(v!)}>`} `)
  .sort()
  .join('');
const command = `${vars}npm run bench -- ${name}${runs ? ` --runs ${runs}` : ''}`;
const md = formatReport(report, command);
console.log(`\n${md}\n`);
if (args.includes('--record')) {
  const when = `${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, bench harness on Node ${process.version}`;
  record(resolve(import.meta.dirname, '..'), name, md, when);
  console.log('recorded in docs/benchmarks.md');
}

/** `a clone of owner/name` from a checkout's origin, or the directory's own name. */
function cloneOf(dir: string): string {
  try {
    const url = execFileSync('git', ['remote', 'get-url', 'origin'], { cwd: dir, encoding: 'utf8' }).trim();
    const m = /([\w.-]+\/[\w.-]+?)(?:\.git)?\/?$/.exec(url);
    if (m) return `a clone of ${m[1]}`;
  } catch {
    // not a git checkout: its name says enough
  }
  return basename(dir);
}
