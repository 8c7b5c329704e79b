import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { NODE20, NODE24 } from '../__tests__/helpers/cli.js';
import { median, timeToFirstOutput, type BenchReport } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..');

/**
 * Cold start of an action bundle: process start to first output when the action does nothing but
 * parse its inputs (here it rejects one, so it stops right after parsing). The floor is Node itself
 * printing one line; the difference is what loading and running the bundle costs.
 */
/**
 * What actions/setup-go loads before its first output: its entry imports @actions/core,
 * @actions/tool-cache, @actions/cache, @actions/exec, @actions/io and @actions/http-client. The bundle
 * is made here with ncc from those packages (setup-go's own bundle cannot be fetched on this machine):
 * it is the packages' start-up cost, not setup-go's.
 */
function setupGoPackagesBundle(): string {
  const dir = mkdtempSync(join(ROOT, 'node_modules', '.cold-start-'));
  const entry = join(dir, 'entry.mjs');
  writeFileSync(
    entry,
    [
      "import * as core from '@actions/core';",
      "import * as tc from '@actions/tool-cache';",
      "import * as cache from '@actions/cache';",
      "import * as exec from '@actions/exec';",
      "import * as io from '@actions/io';",
      "import * as httpm from '@actions/http-client';",
      'if (!core.getInput("go-version")) core.setFailed("no go-version");',
      'else core.info(`loaded ${[tc, cache, exec, io, httpm].length} packages`);',
      '',
    ].join('\n'),
  );
  execFileSync(process.execPath, [
    join(ROOT, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js'),
    'build',
    entry,
    '-o',
    join(dir, 'out'),
    '--minify',
    '--quiet',
  ]);
  return join(dir, 'out', 'index.mjs');
}

export async function bench(runs: number): Promise<BenchReport> {
  const n = runs || 30;
  const bundle = join(ROOT, 'dist', 'setup-go-cross', 'index.js');
  const packages = setupGoPackagesBundle();
  const env = {
    PATH: process.env.PATH ?? '',
    RUNNER_TOOL_CACHE: mkdtempSync(join(tmpdir(), 'cold-')),
    'INPUT_GO-VERSION': 'banana',
  };
  const series = [
    { name: 'go-ship bundle, Node 24', samples: [] as number[] },
    { name: 'node -e (floor), Node 24', samples: [] as number[] },
    { name: "setup-go's packages bundled, Node 24", samples: [] as number[] },
    { name: 'go-ship bundle, Node 20', samples: [] as number[] },
    { name: 'node -e (floor), Node 20', samples: [] as number[] },
  ];
  const floor = ['-e', 'process.stdout.write("x")'];
  for (let i = 0; i < n; i++) {
    // Interleaved so drift in machine load hits every series alike.
    series[0].samples.push((await timeToFirstOutput(NODE24, [bundle], env)).ms);
    series[1].samples.push((await timeToFirstOutput(NODE24, floor, env)).ms);
    series[2].samples.push((await timeToFirstOutput(NODE24, [packages], env)).ms);
    series[3].samples.push((await timeToFirstOutput(NODE20, [bundle], env)).ms);
    series[4].samples.push((await timeToFirstOutput(NODE20, floor, env)).ms);
  }
  rmSync(dirname(dirname(packages)), { recursive: true, force: true });
  return {
    title: 'cold-start: action bundle to first output',
    setup: `dist/setup-go-cross/index.js with an invalid \`go-version\`, so it stops after parsing inputs; ${n} interleaved runs each. actions/setup-go's bundle cannot be fetched on this machine (no GitHub); for scale, a bundle of the packages its entry imports (@actions/core, tool-cache, cache, exec, io, http-client; built here with ncc) that prints one line, and Node's own start-up floor.`,
    series,
    ratios: [
      ['Node 24: bundle / floor', series[0].name, series[1].name],
      ["Node 24: bundle / setup-go's packages", series[0].name, series[2].name],
      ['Node 20: bundle / floor', series[3].name, series[4].name],
    ],
    goal: `under 150 ms to first output (median here: ${median(series[0].samples).toFixed(0)} ms on Node 24)`,
  };
}
