import { eventPayload } from '../runner/workflow.js';
import { pullRequestOf } from '../github/rest.js';
import { UserError } from '../runner/errors.js';
import { type Baseline, formatDelta } from './baseline.js';
import { type GateResult, type Thresholds, evaluate, maxDropGate, thresholdGate } from './gates.js';
import { type PatchResult, uncoveredRanges } from './patch.js';
import { type CoverageReport, type Ratio, formatRatio } from './report.js';
import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

export interface Pct {
  covered: number;
  total: number;
  percent: string;
}

/** The JSON report (report-file): every figure, and what a later comment-only run needs. */
export interface ReportJson {
  schema: 'go-ship/coverage-report@1';
  commit: string;
  /** The module's directory in the repository ('.' at the root): one sticky comment per module. */
  workingDirectory: string;
  pullRequest?: { number: number; headSha: string };
  passed: boolean;
  /** After exclusions: the figures the gates judge. */
  totalFunc: Pct;
  totalAll: Pct;
  /** When files were excluded: `go tool cover -func`'s and `go test -cover`'s totals on the whole profile. */
  wholeProfile?: { totalFunc: Pct; totalAll: Pct };
  packages: { pkg: string; func: Pct; all: Pct }[];
  /** Per file, and per function as `go tool cover -func` lists them (no funcs without the source). */
  files: { file: string; func?: Pct; all: Pct; funcs?: (Pct & { name: string; line: number })[] }[];
  patch?: Pct & {
    base: string;
    partial: number;
    uncovered: { file: string; ranges: [number, number][] }[];
    notInProfile: string[];
  };
  baseline?: { source: string; commit?: string; totalFunc: Pct; delta: string };
  gates: { name: string; ratio: Pct; rule: string; passed: boolean }[];
  excluded: { file: string; why: string }[];
  missingSource: string[];
  /** The same run's tests, from quality-gate's report (`test-results`), shown beside the coverage. */
  tests?: TestResults;
}

/** What the comment says of a test run: counts and names, no output (a test's output is not the comment's). */
export interface TestResults {
  total: number;
  passed: number;
  skipped: number;
  race: boolean;
  failed: { pkg: string; name: string; file?: string; line?: number; race: boolean }[];
  flaky: { pkg: string; name: string }[];
  /** Packages that failed outside their tests (a build failure). */
  broken: string[];
}

/** A Go test or package name as the comment may show it; others are dropped and counted. */
const SAFE_NAME = /^[\w.@+~/#:=,()[\]-]{1,300}$/;

/** The checks every report read as data uses: each failure is `bad(what)`, which throws. */
function shapeChecks(bad: (what: string) => never) {
  return {
    obj: (v: unknown, what: string): Record<string, unknown> =>
      v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : bad(`${what} is not an object`),
    int: (v: unknown, what: string): number =>
      Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : bad(`${what} is not a whole number`),
    list: (v: unknown, what: string): unknown[] =>
      Array.isArray(v) && v.length <= MAX_ENTRIES ? v : bad(`${what} is not a list (of at most ${MAX_ENTRIES})`),
  };
}

/**
 * Test results read as data whichever run wrote them (a fork's report too): counts as whole numbers,
 * names only when they are plain names (others dropped and counted), places only when plain paths.
 */
export function readTestResults(raw: unknown, bad: (what: string) => never): { tests: TestResults; dropped: number } {
  const { obj, int, list } = shapeChecks(bad);
  let dropped = 0;
  const plain = (v: unknown): v is string => {
    const ok = typeof v === 'string' && SAFE_NAME.test(v);
    if (!ok) dropped++;
    return ok;
  };
  const t = obj(raw, 'tests');
  const failed = list(t.failed, 'tests.failed').flatMap((x, i) => {
    const f = obj(x, `tests.failed[${i}]`);
    if (!plain(f.pkg) || !plain(f.name)) return [];
    const file = typeof f.file === 'string' && SAFE_PATH.test(f.file) && !f.file.split('/').includes('..') ? f.file : undefined;
    return [{ pkg: f.pkg, name: f.name, race: f.race === true, ...(file ? { file, line: int(f.line, `tests.failed[${i}].line`) } : {}) }];
  });
  const flaky = list(t.flaky, 'tests.flaky').flatMap((x, i) => {
    const f = obj(x, `tests.flaky[${i}]`);
    return plain(f.pkg) && plain(f.name) ? [{ pkg: f.pkg, name: f.name }] : [];
  });
  const tests: TestResults = {
    total: int(t.total, 'tests.total'),
    passed: int(t.passed, 'tests.passed'),
    skipped: int(t.skipped, 'tests.skipped'),
    race: t.race === true,
    failed,
    flaky,
    broken: list(t.broken, 'tests.broken').filter(plain),
  };
  return { tests, dropped };
}

/** quality-gate's report-file (its `test` part) in the shape the coverage report carries, then read as data. */
export function testResultsOfQualityReport(text: string, file: string): { tests: TestResults; dropped: number } {
  const bad = (what: string): never => {
    throw new UserError(
      `Input \`test-results\`: ${file} is not a quality-gate report with tests (${what}). Give quality-gate's report-file output from a run with \`checks: test\`.`,
    );
  };
  let raw: { test?: Record<string, unknown> };
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch (e) {
    return bad(`not JSON: ${(e as Error).message.slice(0, 100)}`);
  }
  const t = raw?.test;
  if (!t || typeof t !== 'object') return bad('no `test` section');
  const rows = (v: unknown) => (Array.isArray(v) ? (v as Record<string, unknown>[]) : []);
  return readTestResults(
    {
      total: t.tests,
      passed: t.passed,
      skipped: t.skipped,
      race: (t.race as { on?: unknown } | undefined)?.on === true,
      failed: rows(t.failed).map((f) => {
        const place = f.place as { file?: unknown; line?: unknown } | undefined;
        return { pkg: f.pkg, name: f.name, race: f.race, file: place?.file, line: place?.line };
      }),
      flaky: t.flaky,
      broken: rows(t.brokenPackages).map((p) => p.pkg),
    },
    bad,
  );
}

/** A path as Go and git write them: what a file or package name in a report may look like. */
const SAFE_PATH = /^[\w.@+~/-]{1,400}$/;
const MAX_ENTRIES = 100_000;

/**
 * A report-file from another run (comment-from: a fork's pull request wrote it) read as untrusted
 * data: the shape is checked, every percentage is recomputed from its integers, names that are not
 * plain paths are dropped (counted), free text (the baseline's source) is replaced by go-ship's own
 * words, and the fork's gates and verdict are discarded: the privileged job decides them again.
 * Anything malformed is refused with what was wrong.
 */
function readUntrustedReport(text: string, file: string): { report: ReportJson; dropped: number } {
  const bad = (what: string): never => {
    throw new UserError(
      `Input \`comment-from\`: ${file} is not a coverage-gate report (${what}). Upload coverage-gate's report-file, unchanged, in the pull request workflow.`,
    );
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return bad(`not JSON: ${(e as Error).message.slice(0, 100)}`);
  }
  const { obj, int, list } = shapeChecks(bad);
  const pct = (v: unknown, what: string): Pct => {
    const o = obj(v, what);
    const r = { covered: int(o.covered, `${what}.covered`), total: int(o.total, `${what}.total`) };
    if (r.covered > r.total) bad(`${what} covers more statements than it has`);
    return { ...r, percent: formatRatio(r) };
  };
  let dropped = 0;
  const safe = (v: unknown): v is string => {
    const ok = typeof v === 'string' && SAFE_PATH.test(v) && !v.split('/').includes('..');
    if (!ok) dropped++;
    return ok;
  };
  const r = obj(raw, 'the report');
  if (r.schema !== 'go-ship/coverage-report@1') bad(`schema \`${String(r.schema).slice(0, 40)}\``);
  const commit =
    typeof r.commit === 'string' && /^([0-9a-f]{40})?$/.test(r.commit) ? r.commit : bad('commit');
  const workingDirectory =
    r.workingDirectory === '.' || (typeof r.workingDirectory === 'string' && safe(r.workingDirectory))
      ? (r.workingDirectory as string)
      : bad('workingDirectory is not a path in the repository');
  let pullRequest: ReportJson['pullRequest'];
  if (r.pullRequest !== undefined) {
    const pr = obj(r.pullRequest, 'pullRequest');
    const headSha =
      typeof pr.headSha === 'string' && /^[0-9a-f]{40}$/.test(pr.headSha)
        ? pr.headSha
        : bad('pullRequest.headSha');
    pullRequest = { number: int(pr.number, 'pullRequest.number'), headSha };
  }
  const totalFunc = pct(r.totalFunc, 'totalFunc');
  const totalAll = pct(r.totalAll, 'totalAll');
  const whole = r.wholeProfile === undefined ? undefined : obj(r.wholeProfile, 'wholeProfile');
  const packages = list(r.packages, 'packages').flatMap((x, i) => {
    const p = obj(x, `packages[${i}]`);
    return safe(p.pkg)
      ? [{ pkg: p.pkg, func: pct(p.func, `packages[${i}].func`), all: pct(p.all, `packages[${i}].all`) }]
      : [];
  });
  const files = list(r.files, 'files').flatMap((x, i) => {
    const f = obj(x, `files[${i}]`);
    return safe(f.file)
      ? [
          {
            file: f.file,
            all: pct(f.all, `files[${i}].all`),
            ...(f.func === undefined ? {} : { func: pct(f.func, `files[${i}].func`) }),
          },
        ]
      : [];
  });
  let patch: ReportJson['patch'];
  if (r.patch !== undefined) {
    const p = obj(r.patch, 'patch');
    const base = typeof p.base === 'string' && /^[0-9a-f]{7,40}$/.test(p.base) ? p.base : bad('patch.base');
    const range = (v: unknown, what: string): [number, number] => {
      const a = list(v, what);
      return a.length === 2 ? [int(a[0], what), int(a[1], what)] : bad(`${what} is not [from, to]`);
    };
    patch = {
      base,
      ...pct(p, 'patch'),
      partial: int(p.partial, 'patch.partial'),
      uncovered: list(p.uncovered, 'patch.uncovered').flatMap((x, i) => {
        const u = obj(x, `patch.uncovered[${i}]`);
        return safe(u.file)
          ? [
              {
                file: u.file,
                ranges: list(u.ranges, `patch.uncovered[${i}].ranges`).map((g, j) =>
                  range(g, `patch.uncovered[${i}].ranges[${j}]`),
                ),
              },
            ]
          : [];
      }),
      notInProfile: list(p.notInProfile, 'patch.notInProfile').filter(safe),
    };
  }
  let tests: TestResults | undefined;
  if (r.tests !== undefined) {
    const read = readTestResults(r.tests, bad);
    tests = read.tests;
    dropped += read.dropped;
  }
  let baseline: ReportJson['baseline'];
  if (r.baseline !== undefined) {
    const b = obj(r.baseline, 'baseline');
    const base = pct(b.totalFunc, 'baseline.totalFunc');
    baseline = { source: 'the base branch', totalFunc: base, delta: formatDelta(totalFunc, base) };
  }
  return {
    report: {
      schema: 'go-ship/coverage-report@1',
      commit,
      workingDirectory,
      pullRequest,
      passed: false,
      totalFunc,
      totalAll,
      wholeProfile: whole && {
        totalFunc: pct(whole.totalFunc, 'wholeProfile.totalFunc'),
        totalAll: pct(whole.totalAll, 'wholeProfile.totalAll'),
      },
      packages,
      files,
      patch,
      baseline,
      gates: [],
      excluded: list(r.excluded ?? [], 'excluded').map(() => ({ file: '', why: '' })),
      missingSource: [],
      tests,
    },
    dropped,
  };
}

/**
 * The report-file: the gated figures (after exclusions), the whole profile's when files were
 * excluded, every function as `go tool cover -func` lists it, patch, baseline and gates.
 */
export function toReportJson(
  workspace: string,
  report: CoverageReport,
  whole: CoverageReport,
  gates: GateResult[],
  patch: PatchResult | undefined,
  excluded: { file: string; why: string }[],
  baseline: Baseline | undefined,
  passed: boolean,
): ReportJson {
  const pct = (r: Ratio) => ({ covered: r.covered, total: r.total, percent: formatRatio(r) });
  const root = process.env.GITHUB_WORKSPACE ?? process.cwd();
  return {
    schema: 'go-ship/coverage-report@1',
    commit: process.env.GITHUB_SHA ?? '',
    workingDirectory: relative(resolve(root), workspace) || '.',
    pullRequest: pullRequestOf(eventPayload()),
    passed,
    totalFunc: pct(report.totalFunc),
    totalAll: pct(report.totalAll),
    wholeProfile: excluded.length
      ? { totalFunc: pct(whole.totalFunc), totalAll: pct(whole.totalAll) }
      : undefined,
    packages: report.packages.map((p) => ({ pkg: p.pkg, func: pct(p.func), all: pct(p.all) })),
    files: report.files.map((f) => ({
      file: f.file,
      func: f.func && pct(f.func),
      all: pct(f.all),
      // The lines of `go tool cover -func`: file:line, function name, percent.
      funcs: f.funcs.map((fn) => ({
        name: fn.name,
        line: fn.line,
        covered: fn.covered,
        total: fn.total,
        percent: formatRatio(fn),
      })),
    })),
    patch: patch && {
      base: patch.base,
      ...pct(patch.ratio),
      partial: patch.partial,
      uncovered: patch.files
        .map((f) => ({ file: f.file, ranges: uncoveredRanges(f.lines) }))
        .filter((f) => f.ranges.length),
      notInProfile: patch.notInProfile,
    },
    baseline: baseline && {
      source: baseline.source,
      commit: baseline.commit,
      totalFunc: pct(baseline.totalFunc),
      delta: formatDelta(report.totalFunc, baseline.totalFunc),
    },
    gates: gates.map((g) => ({ name: g.name, ratio: pct(g.ratio), rule: g.rule, passed: g.passed })),
    excluded,
    missingSource: report.missingSource,
  };
}

/**
 * comment-from, first half: another run's report-file read as untrusted data, and judged again by
 * this job's thresholds (its own gates and verdict are discarded).
 */
export function judgeUntrustedReport(
  file: string,
  thresholds: Thresholds & { thresholdPatch?: number },
  trusted: { baseline?: Baseline; maxDrop?: number } = {},
): { json: ReportJson; dropped: number } {
  if (!existsSync(file))
    throw new UserError(
      `Input \`comment-from\` names ${file}, which does not exist. Download the pull request run's report artifact first (actions/download-artifact with run-id: \${{ github.event.workflow_run.id }}).`,
    );
  // The report is the fork's file: data to check, never text to trust or a verdict to repeat.
  const { report: json, dropped } = readUntrustedReport(readFileSync(file, 'utf8'), file);
  const gates = evaluate(thresholds, json, (f) => f);
  if (json.patch && thresholds.thresholdPatch !== undefined)
    gates.push(thresholdGate('patch', json.patch, thresholds.thresholdPatch));
  // The fork's own baseline figure is a number it chose: never shown as the base branch's. Only
  // this job's baseline (its `baseline` input, found with its token) gives the delta and max-drop.
  json.baseline = trusted.baseline && {
    source: trusted.baseline.source,
    commit: trusted.baseline.commit,
    totalFunc: { ...trusted.baseline.totalFunc, percent: formatRatio(trusted.baseline.totalFunc) },
    delta: formatDelta(json.totalFunc, trusted.baseline.totalFunc),
  };
  if (trusted.baseline && trusted.maxDrop !== undefined)
    gates.push(maxDropGate(json.totalFunc, trusted.baseline, trusted.maxDrop));
  json.gates = gates.map((g) => ({
    name: g.name,
    ratio: { ...g.ratio, percent: formatRatio(g.ratio) },
    rule: g.rule,
    passed: g.passed,
  }));
  json.passed = json.gates.every((g) => g.passed);
  return { json, dropped };
}
