import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findFuncs } from '../../coverage/funcs.js';
import { changedLines, lineCoverage, type LineState } from '../../coverage/patch.js';
import { parseProfiles, type Profile, type ProfileSource } from '../../coverage/profile.js';
import {
  buildReport,
  formatRatio,
  meets,
  percent,
  type CoverageReport,
  type Ratio,
} from '../../coverage/report.js';
import { localModules, repoPath } from '../../coverage/source.js';
import { writeSummary } from '../../runner/action.js';
import { runCommand } from '../../runner/command.js';
import { inputError, UserError } from '../../runner/errors.js';
import { findFiles, GlobSet } from '../../runner/glob.js';
import { Inputs } from '../../runner/inputs.js';
import { log } from '../../runner/log.js';
import { Summary } from '../../runner/summary.js';
import * as workflow from '../../runner/workflow.js';

/** Thresholds in tenths of a percent (80 → 800), so every comparison is on integers. */
export interface Config {
  workspace: string;
  profiles: string[];
  expectedProfiles?: number;
  thresholdTotal?: number;
  thresholdPackage?: number;
  thresholdFile?: number;
  fileOverrides: { glob: GlobSet; pattern: string; tenths: number }[];
  thresholdPatch?: number;
  exclude: string[];
  excludeGenerated: boolean;
  baseRef?: string;
  annotate: boolean;
  reportFile: string;
}

function threshold(name: string, value: string): number {
  if (!/^\d+(\.\d)?$/.test(value) || Number(value) > 100)
    throw inputError(
      name,
      value,
      'a percentage from 0 to 100 with at most one decimal (e.g. `80` or `72.5`)',
    );
  return Math.round(Number(value) * 10);
}

export function getInputs(inputs = new Inputs(), env = process.env): Config {
  const root = env.GITHUB_WORKSPACE ?? process.cwd();
  const workspace = resolve(root, inputs.optional('working-directory') ?? '.');
  if (!existsSync(workspace))
    throw inputError('working-directory', inputs.string('working-directory'), 'a directory in the workspace');
  const optThreshold = (name: string) => {
    const v = inputs.optional(name);
    return v === undefined ? undefined : threshold(name, v);
  };
  let thresholdFile: number | undefined;
  const fileOverrides: Config['fileOverrides'] = [];
  for (const line of inputs.lines('threshold-file')) {
    const m = /^(.+?)\s*:\s*(\S+)$/.exec(line);
    if (m)
      fileOverrides.push({
        glob: new GlobSet([m[1]]),
        pattern: m[1],
        tenths: threshold('threshold-file', m[2]),
      });
    else if (thresholdFile === undefined) thresholdFile = threshold('threshold-file', line);
    else
      throw inputError(
        'threshold-file',
        line,
        'one default percentage and `glob: percentage` override lines',
      );
  }
  // On pull requests the base branch is known; elsewhere patch coverage needs base-ref.
  const baseRef =
    inputs.optional('base-ref') ?? (env.GITHUB_BASE_REF ? `origin/${env.GITHUB_BASE_REF}` : undefined);
  return {
    workspace,
    profiles: inputs.lines('profiles'),
    expectedProfiles: inputs.int('expected-profiles', { min: 1 }),
    thresholdTotal: optThreshold('threshold-total'),
    thresholdPackage: optThreshold('threshold-package'),
    thresholdFile,
    fileOverrides,
    thresholdPatch: optThreshold('threshold-patch'),
    exclude: inputs.lines('exclude'),
    excludeGenerated: inputs.boolean('exclude-generated'),
    baseRef,
    annotate: inputs.boolean('annotate'),
    reportFile: resolve(
      workspace,
      inputs.optional('report-file') ?? join(env.RUNNER_TEMP ?? workspace, 'coverage-report.json'),
    ),
  };
}

/** Profile files matched by the globs, and GOCOVERDIR directories converted with `go tool covdata`. */
async function loadProfiles(config: Config): Promise<ProfileSource[]> {
  const sources: ProfileSource[] = [];
  const dirs = config.profiles.filter((p) => {
    const full = join(config.workspace, p);
    return existsSync(full) && statSync(full).isDirectory();
  });
  for (const file of findFiles(
    config.workspace,
    config.profiles.filter((p) => !dirs.includes(p)),
  ))
    sources.push({ name: file, text: readFileSync(join(config.workspace, file)) });
  for (const dir of dirs) {
    const out = join(mkdtempSync(join(process.env.RUNNER_TEMP ?? '/tmp', 'covdata-')), 'profile.out');
    await runCommand('go', ['tool', 'covdata', 'textfmt', `-i=${join(config.workspace, dir)}`, `-o=${out}`]);
    sources.push({ name: `GOCOVERDIR ${dir}`, text: readFileSync(out) });
  }
  if (!sources.length)
    throw new UserError(
      `Input \`profiles\` got \`${config.profiles.join(', ')}\`; nothing under ${config.workspace} matches. It accepts globs of coverprofiles (\`go test -coverprofile=coverage.out\`) or GOCOVERDIR directories. Check that the test step wrote them, and that shards' artifacts were downloaded.`,
    );
  if (config.expectedProfiles !== undefined && sources.length !== config.expectedProfiles)
    throw new UserError(
      `Input \`expected-profiles\` is ${config.expectedProfiles}, but ${sources.length} matched (${sources.map((s) => s.name).join(', ')}). The gate will not judge a partial set of shards: check that every shard uploaded its profile.`,
    );
  return sources;
}

const GENERATED = /^\/\/ Code generated .* DO NOT EDIT\.$/m;

/** Go's convention: the marker line comes before the package clause. */
function isGenerated(src: string): boolean {
  const pkg = src.search(/^package\s/m);
  const head = pkg < 0 ? src : src.slice(0, pkg);
  return GENERATED.test(head);
}

export interface GateResult {
  name: string;
  ratio: Ratio;
  tenths: number;
  passed: boolean;
}

export interface PatchResult {
  base: string;
  ratio: Ratio;
  partial: number;
  files: { file: string; lines: Map<number, LineState> }[];
  notInProfile: string[];
}

export async function run(): Promise<void> {
  const config = getInputs();
  const sources = await loadProfiles(config);
  const profile = parseProfiles(sources);
  log.info(
    `Read ${sources.length} profile(s), mode ${profile.mode}: ${sources.map((s) => s.name).join(', ')}`,
  );

  const modules = localModules(config.workspace);
  const paths = new Map<string, string | undefined>();
  for (const file of profile.files.keys()) paths.set(file, repoPath(file, modules, config.workspace));

  // Exclusions apply before any total is computed.
  const exclude = new GlobSet(config.exclude);
  const excluded: { file: string; why: string }[] = [];
  const kept: Profile = { mode: profile.mode, files: new Map() };
  for (const [file, blocks] of profile.files) {
    const p = paths.get(file);
    if (!exclude.empty && exclude.matches(p ?? file)) excluded.push({ file, why: 'exclude' });
    else if (config.excludeGenerated && p && isGenerated(readFileSync(join(config.workspace, p), 'utf8')))
      excluded.push({ file, why: 'generated' });
    else kept.files.set(file, blocks);
  }
  const report = buildReport(kept, (file) => {
    const p = paths.get(file);
    return p ? findFuncs(readFileSync(join(config.workspace, p))) : undefined;
  });
  if (report.missingSource.length)
    log.warning(
      `No source found for ${report.missingSource.length} file(s) (${report.missingSource.slice(0, 3).join(', ')}${report.missingSource.length > 3 ? ', …' : ''}); their function totals count all blocks. Run coverage-gate in the module's checkout (working-directory).`,
    );

  const gates = evaluate(config, report, (file) => paths.get(file) ?? file);
  const patch = config.baseRef ? await patchCoverage(config, kept, paths) : undefined;
  if (patch && config.thresholdPatch !== undefined)
    gates.push({
      name: 'patch',
      ratio: patch.ratio,
      tenths: config.thresholdPatch,
      passed: meets(patch.ratio, config.thresholdPatch),
    });
  if (patch && config.annotate) annotate(patch);

  const passed = gates.every((g) => g.passed);
  const strip = (r: Ratio) => formatRatio(r).slice(0, -1);
  const reportFile = config.reportFile;
  writeFileSync(reportFile, JSON.stringify(toJson(report, gates, patch, excluded), null, 2));
  workflow.setOutput('total', strip(report.totalAll));
  workflow.setOutput('total-func', strip(report.totalFunc));
  workflow.setOutput('patch', patch ? strip(patch.ratio) : '');
  workflow.setOutput('passed', String(passed));
  workflow.setOutput('report-json', reportFile);
  log.info(
    `Coverage: ${formatRatio(report.totalFunc)} of statements in functions (go tool cover -func), ${formatRatio(report.totalAll)} of all statements (go test -cover)${patch ? `; patch ${formatRatio(patch.ratio)} of ${patch.ratio.total} changed lines` : ''}`,
  );
  writeSummary(summarize(report, gates, patch, excluded, passed));
  const failed = gates.filter((g) => !g.passed);
  if (failed.length) {
    throw new UserError(
      `Coverage gate failed: ${failed.map((g) => `${g.name} ${formatRatio(g.ratio)} is below ${(g.tenths / 10).toFixed(1)}%`).join('; ')}.`,
    );
  }
}

function evaluate(config: Config, report: CoverageReport, pathOf: (file: string) => string): GateResult[] {
  const gates: GateResult[] = [];
  const gate = (name: string, ratio: Ratio, tenths: number | undefined) => {
    if (tenths !== undefined) gates.push({ name, ratio, tenths, passed: meets(ratio, tenths) });
  };
  gate('total', report.totalFunc, config.thresholdTotal);
  for (const p of report.packages) gate(`package ${p.pkg}`, p.func, config.thresholdPackage);
  for (const f of report.files) {
    // Overrides are written as paths in the checkout, like `exclude`.
    const override = config.fileOverrides.find((o) => o.glob.matches(pathOf(f.file)));
    gate(`file ${f.file}`, f.func ?? f.all, override?.tenths ?? config.thresholdFile);
  }
  return gates;
}

async function patchCoverage(
  config: Config,
  profile: Profile,
  paths: Map<string, string | undefined>,
): Promise<PatchResult> {
  const top = (
    await runCommand('git', ['rev-parse', '--show-toplevel'], { cwd: config.workspace })
  ).stdout.trim();
  const { lines, base } = await changedLines(top, config.baseRef!);
  const byRepoPath = new Map<string, string>();
  const prefix = resolve(config.workspace).slice(resolve(top).length + 1);
  for (const [file, p] of paths) if (p) byRepoPath.set(prefix ? `${prefix}/${p}` : p, file);
  const result: PatchResult = {
    base,
    ratio: { covered: 0, total: 0 },
    partial: 0,
    files: [],
    notInProfile: [],
  };
  for (const [path, changed] of lines) {
    if (!path.endsWith('.go') || path.endsWith('_test.go') || !changed.length) continue;
    const file = byRepoPath.get(path);
    if (!file) {
      result.notInProfile.push(path);
      continue;
    }
    const blocks = profile.files.get(file);
    if (!blocks) continue; // excluded
    const states = lineCoverage(readFileSync(join(top, path)), blocks, changed);
    if (!states.size) continue;
    result.files.push({ file: path, lines: states });
    for (const s of states.values()) {
      result.ratio.total++;
      if (s === 'covered') result.ratio.covered++;
      if (s === 'partial') result.partial++;
    }
  }
  return result;
}

/** Consecutive line numbers as ranges: [3,4,5,9] → [[3,5],[9,9]]. */
function ranges(lines: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const l of lines) {
    const last = out.at(-1);
    if (last && l === last[1] + 1) last[1] = l;
    else out.push([l, l]);
  }
  return out;
}

function uncoveredRanges(lines: Map<number, LineState>): [number, number][] {
  return ranges([...lines].filter(([, s]) => s !== 'covered').map(([l]) => l));
}

const MAX_ANNOTATIONS = 50;

function annotate(patch: PatchResult): void {
  let n = 0;
  for (const f of patch.files) {
    for (const [from, to] of uncoveredRanges(f.lines)) {
      if (n++ >= MAX_ANNOTATIONS) return;
      workflow.warning(
        from === to
          ? 'Changed line not covered by tests'
          : `Changed lines ${from}-${to} not covered by tests`,
        {
          file: f.file,
          line: from,
          title: 'coverage-gate',
        },
      );
    }
  }
}

function toJson(
  report: CoverageReport,
  gates: GateResult[],
  patch: PatchResult | undefined,
  excluded: { file: string; why: string }[],
) {
  const pct = (r: Ratio) => ({ ...r, percent: formatRatio(r) });
  return {
    totalFunc: pct(report.totalFunc),
    totalAll: pct(report.totalAll),
    packages: report.packages.map((p) => ({ pkg: p.pkg, func: pct(p.func), all: pct(p.all) })),
    files: report.files.map((f) => ({ file: f.file, func: f.func && pct(f.func), all: pct(f.all) })),
    patch: patch && {
      base: patch.base,
      ...pct(patch.ratio),
      partial: patch.partial,
      uncovered: patch.files
        .map((f) => ({ file: f.file, ranges: uncoveredRanges(f.lines) }))
        .filter((f) => f.ranges.length),
      notInProfile: patch.notInProfile,
    },
    gates: gates.map((g) => ({ ...g, ratio: pct(g.ratio), threshold: g.tenths / 10 })),
    excluded,
    missingSource: report.missingSource,
  };
}

function summarize(
  report: CoverageReport,
  gates: GateResult[],
  patch: PatchResult | undefined,
  excluded: { file: string; why: string }[],
  passed: boolean,
): Summary {
  const gateFor = (name: string) => gates.find((g) => g.name === name);
  const verdict = (name: string) => {
    const g = gateFor(name);
    return g ? `${g.passed ? '✅' : '❌'} ≥ ${(g.tenths / 10).toFixed(1)}%` : '';
  };
  const s = new Summary()
    .heading(`coverage-gate: ${passed ? '✅ passed' : '❌ failed'}`)
    .table(
      ['measure', 'coverage', 'statements', 'gate'],
      [
        [
          'total, in functions (`go tool cover -func`)',
          formatRatio(report.totalFunc),
          `${report.totalFunc.covered} / ${report.totalFunc.total}`,
          verdict('total'),
        ],
        [
          'total, all statements (`go test -cover`)',
          formatRatio(report.totalAll),
          `${report.totalAll.covered} / ${report.totalAll.total}`,
          '',
        ],
        ...(patch
          ? [
              [
                `patch (changed lines since ${patch.base.slice(0, 7)})`,
                formatRatio(patch.ratio),
                `${patch.ratio.covered} / ${patch.ratio.total} lines${patch.partial ? `, ${patch.partial} partial` : ''}`,
                verdict('patch'),
              ],
            ]
          : []),
      ],
    );
  const worst = [...report.packages].sort((a, b) => percent(a.func) - percent(b.func));
  s.heading('Packages (lowest first)', 3).table(
    ['package', 'coverage', 'statements', 'gate'],
    worst
      .slice(0, 10)
      .map((p) => [
        p.pkg,
        formatRatio(p.func),
        `${p.func.covered} / ${p.func.total}`,
        verdict(`package ${p.pkg}`),
      ]),
  );
  s.barChart(
    'Coverage per package (%)',
    report.packages.map((p) => ({
      label: p.pkg.split('/').slice(-2).join('/'),
      value: percent(p.func),
    })),
    'percent',
  );
  const files = [...report.files].sort((a, b) => {
    const r = (f: typeof a) => percent(f.func ?? f.all);
    return r(a) - r(b);
  });
  s.details(
    'Files (lowest first)',
    new Summary()
      .table(
        ['file', 'coverage', 'statements', 'gate'],
        files.slice(0, 20).map((f) => {
          const r = f.func ?? f.all;
          return [f.file, formatRatio(r), `${r.covered} / ${r.total}`, verdict(`file ${f.file}`)];
        }),
      )
      .toString(),
  );
  if (patch) {
    const rows = patch.files
      .map((f) => ({ f, un: uncoveredRanges(f.lines) }))
      .filter((x) => x.un.length)
      .map(({ f, un }) => [f.file, un.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ')]);
    if (rows.length) s.heading('Changed lines without coverage', 3).table(['file', 'lines'], rows);
    if (patch.notInProfile.length)
      s.list([`Changed Go files in no profile (not counted): ${patch.notInProfile.join(', ')}`]);
  }
  if (excluded.length) s.list([`Excluded: ${excluded.map((e) => `${e.file} (${e.why})`).join(', ')}`]);
  if (report.missingSource.length)
    s.list([`No source for ${report.missingSource.join(', ')}: function totals count all their blocks.`]);
  return s;
}
