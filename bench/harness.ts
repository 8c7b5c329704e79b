import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Sample {
  ms: number;
}

export interface Series {
  name: string;
  samples: number[];
}

export interface BenchReport {
  title: string;
  /** What was compared, in a sentence: inputs, sizes, machine notes. */
  setup: string;
  series: Series[];
  /** Ratios to print: [label, numerator series, denominator series]. */
  ratios: [string, string, string][];
  goal?: string;
  /** A table of counts (not times) printed instead of, or after, the timings. */
  table?: string;
}

/**
 * The variables the runner gives an action step: the workspace, RUNNER_TEMP and the command files
 * (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_ENV, GITHUB_PATH, GITHUB_STATE) in `dir`, emptied.
 * Call it again before each run for fresh files.
 */
export function actionStep(dir: string, workspace?: string): Record<string, string> {
  const env: Record<string, string> = {
    RUNNER_TEMP: dir,
    ...(workspace ? { GITHUB_WORKSPACE: workspace } : {}),
  };
  for (const [name, file] of Object.entries(STEP_FILES)) {
    env[name] = join(dir, file);
    writeFileSync(env[name], '');
  }
  return env;
}

const STEP_FILES = {
  GITHUB_OUTPUT: 'out',
  GITHUB_STEP_SUMMARY: 'summary',
  GITHUB_ENV: 'env',
  GITHUB_PATH: 'path',
  GITHUB_STATE: 'state',
};

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Milliseconds from spawn until the first byte on stdout (or exit), and the exit code. */
export function timeToFirstOutput(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ ms: number; code: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    let first: bigint | undefined;
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.once('data', () => (first ??= process.hrtime.bigint()));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ ms: Number((first ?? process.hrtime.bigint()) - t0) / 1e6, code: code ?? -1 }),
    );
  });
}

/** Runs a program to completion and returns its wall time; a non-zero exit fails the benchmark. */
export function timeRun(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    let stderr = '';
    let stdout = '';
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0)
        reject(
          new Error(
            `${file} ${args.join(' ')} exited ${code}\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`,
          ),
        );
      else resolve(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  });
}

export function formatReport(r: BenchReport, command: string): string {
  const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
  const byName = new Map(r.series.map((s) => [s.name, s]));
  const lines = [
    `### ${r.title}`,
    '',
    `Command: \`${command}\``,
    '',
    r.setup,
    '',
    ...(r.series.length
      ? [
          '| what | runs | median | min | max |',
          '| --- | ---: | ---: | ---: | ---: |',
          ...r.series.map(
            (s) =>
              `| ${s.name.replace(/\|/g, '\\|')} | ${s.samples.length} | ${fmt(median(s.samples))} | ${fmt(Math.min(...s.samples))} | ${fmt(Math.max(...s.samples))} |`,
          ),
          '',
        ]
      : []),
    ...(r.table ? [r.table, ''] : []),
    ...r.ratios.map(
      ([label, a, b]) =>
        `- ${label}: **${(median(byName.get(a)!.samples) / median(byName.get(b)!.samples)).toFixed(2)}x** (median ${a} / median ${b})`,
    ),
    ...(r.goal ? [`- Goal: ${r.goal}`] : []),
  ];
  return lines.join('\n');
}

/** Replaces this benchmark's section in docs/benchmarks.md (between its markers), keeping the rest. */
export function record(root: string, name: string, markdown: string, measuredOn: string): void {
  const file = join(root, 'docs', 'benchmarks.md');
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n${markdown}\n\nMeasured ${measuredOn}.\n${end}`;
  let doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  doc =
    a >= 0 && b > a ? doc.slice(0, a) + block + doc.slice(b + end.length) : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, doc);
}

/**
 * One run's wall time (measured here), CPU time (user + system) and peak RSS, as GNU time reports
 * them for the process and what it waited for; a non-zero exit is an error with its output.
 */
export function timeWithUsage(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ ms: number; cpuMs: number; rssMB: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '@@%U %S %M', file, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /@@([\d.]+) ([\d.]+) (\d+)/.exec(err);
      if (code !== 0 || !m)
        return reject(
          new Error(`${file} ${args.join(' ')} exited ${code}\n${out.slice(-1500)}\n${err.slice(-1500)}`),
        );
      resolve({
        ms: performance.now() - started,
        cpuMs: (Number(m[1]) + Number(m[2])) * 1000,
        rssMB: Number(m[3]) / 1024,
      });
    });
  });
}
