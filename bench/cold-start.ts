import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NODE20, NODE24 } from '../__tests__/helpers/cli.js';
import { median, timeToFirstOutput, type BenchReport } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..');

/**
 * Cold start of an action bundle: process start to first output when the action does nothing but
 * parse its inputs (here it rejects one, so it stops right after parsing). The floor is Node itself
 * printing one line; the difference is what loading and running the bundle costs.
 */
export async function bench(runs: number): Promise<BenchReport> {
  const n = runs || 30;
  const bundle = join(ROOT, 'dist', 'setup-go-cross', 'index.js');
  const env = {
    PATH: process.env.PATH ?? '',
    RUNNER_TOOL_CACHE: mkdtempSync(join(tmpdir(), 'cold-')),
    'INPUT_GO-VERSION': 'banana',
  };
  const series = [
    { name: 'go-ship bundle, Node 24', samples: [] as number[] },
    { name: 'node -e (floor), Node 24', samples: [] as number[] },
    { name: 'go-ship bundle, Node 20', samples: [] as number[] },
    { name: 'node -e (floor), Node 20', samples: [] as number[] },
  ];
  const floor = ['-e', 'process.stdout.write("x")'];
  for (let i = 0; i < n; i++) {
    // Interleaved so drift in machine load hits every series alike.
    series[0].samples.push((await timeToFirstOutput(NODE24, [bundle], env)).ms);
    series[1].samples.push((await timeToFirstOutput(NODE24, floor, env)).ms);
    series[2].samples.push((await timeToFirstOutput(NODE20, [bundle], env)).ms);
    series[3].samples.push((await timeToFirstOutput(NODE20, floor, env)).ms);
  }
  return {
    title: 'cold-start: action bundle to first output',
    setup: `dist/setup-go-cross/index.js with an invalid \`go-version\`, so it stops after parsing inputs; ${n} interleaved runs each. actions/setup-go's bundle cannot be fetched on this machine (no GitHub), so the comparison is Node's own start-up floor.`,
    series,
    ratios: [
      ['Node 24: bundle / floor', series[0].name, series[1].name],
      ['Node 20: bundle / floor', series[2].name, series[3].name],
    ],
    goal: `under 150 ms to first output (median here: ${median(series[0].samples).toFixed(0)} ms on Node 24)`,
  };
}
