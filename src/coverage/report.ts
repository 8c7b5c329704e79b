import { posix } from 'node:path';
import type { Blocks, Profile } from './profile.js';
import type { FuncExtent } from './funcs.js';

/** Statements covered out of statements: kept as integers so no rounding ever reaches a threshold. */
export interface Ratio {
  covered: number;
  total: number;
}

export interface FuncCoverage extends Ratio {
  file: string;
  name: string;
  line: number;
}

export interface FileCoverage {
  file: string;
  /** All blocks (what `go test -cover` counts). */
  all: Ratio;
  /** Blocks inside function declarations (what `go tool cover -func` counts); undefined without source. */
  func?: Ratio;
  funcs: FuncCoverage[];
}

export interface CoverageReport {
  files: FileCoverage[];
  packages: { pkg: string; all: Ratio; func: Ratio }[];
  /** `go tool cover -func`'s total: blocks inside functions (files without source count all blocks). */
  totalFunc: Ratio;
  /** `go test -cover`'s figure: every block. */
  totalAll: Ratio;
  /** Files whose source was not found; their -func figure falls back to all blocks. */
  missingSource: string[];
}

const add = (a: Ratio, b: Ratio): Ratio => ({ covered: a.covered + b.covered, total: a.total + b.total });
const ZERO: Ratio = { covered: 0, total: 0 };

function ratioOf(blocks: Blocks): Ratio {
  let covered = 0;
  let total = 0;
  for (let i = 0; i < blocks.length; i++) {
    total += blocks.numStmt(i);
    if (blocks.count(i) > 0) covered += blocks.numStmt(i);
  }
  return { covered, total };
}

/**
 * cmd/cover's FuncExtent.coverage: blocks that overlap [start, end) of the function. `from` is where
 * the previous function's blocks began: functions and blocks are both in source order, so a file is
 * walked once rather than once per function.
 */
function funcCoverage(file: string, f: FuncExtent, b: Blocks, from: { i: number }): FuncCoverage {
  let covered = 0;
  let total = 0;
  while (from.i < b.length && (b.endLine(from.i) < f.startLine || (b.endLine(from.i) === f.startLine && b.endCol(from.i) <= f.startCol)))
    from.i++;
  for (let i = from.i; i < b.length; i++) {
    if (b.startLine(i) > f.endLine || (b.startLine(i) === f.endLine && b.startCol(i) >= f.endCol)) break;
    if (b.endLine(i) < f.startLine || (b.endLine(i) === f.startLine && b.endCol(i) <= f.startCol)) continue;
    total += b.numStmt(i);
    if (b.count(i) > 0) covered += b.numStmt(i);
  }
  return { file, name: f.name, line: f.startLine, covered, total };
}

/**
 * Totals per function, file, package and overall. `funcsOf` returns a file's function extents, or
 * undefined when its source cannot be found.
 */
export function buildReport(
  profile: Profile,
  funcsOf: (file: string) => FuncExtent[] | undefined,
): CoverageReport {
  const files: FileCoverage[] = [];
  const missingSource: string[] = [];
  for (const file of [...profile.files.keys()].sort()) {
    const blocks = profile.files.get(file)!;
    const extents = funcsOf(file);
    if (!extents) missingSource.push(file);
    const from = { i: 0 };
    const funcs = (extents ?? []).map((f) => funcCoverage(file, f, blocks, from));
    files.push({
      file,
      all: ratioOf(blocks),
      func: extents ? funcs.reduce<Ratio>(add, ZERO) : undefined,
      funcs,
    });
  }
  return totalsOf(files, missingSource);
}

/**
 * The same report over some of its files (coverage-gate's exclusions), with packages and totals
 * summed again; the whole report stays what `go tool cover -func` says about the whole profile.
 */
export function narrowReport(report: CoverageReport, keep: (file: string) => boolean): CoverageReport {
  const files = report.files.filter((f) => keep(f.file));
  return totalsOf(
    files,
    report.missingSource.filter((f) => keep(f)),
  );
}

function totalsOf(files: FileCoverage[], missingSource: string[]): CoverageReport {
  const byPkg = new Map<string, { all: Ratio; func: Ratio }>();
  for (const f of files) {
    const pkg = posix.dirname(f.file);
    const p = byPkg.get(pkg) ?? { all: ZERO, func: ZERO };
    byPkg.set(pkg, { all: add(p.all, f.all), func: add(p.func, f.func ?? f.all) });
  }
  return {
    files,
    packages: [...byPkg].map(([pkg, r]) => ({ pkg, ...r })).sort((a, b) => (a.pkg < b.pkg ? -1 : 1)),
    totalFunc: files.reduce<Ratio>((s, f) => add(s, f.func ?? f.all), ZERO),
    totalAll: files.reduce<Ratio>((s, f) => add(s, f.all), ZERO),
    missingSource,
  };
}

/** The float64 percentage Go computes (`100 * covered / total`; an empty total counts as 1). */
export function percent(r: Ratio): number {
  return (100 * r.covered) / (r.total || 1);
}

/**
 * `%.1f` as Go's fmt prints a float64: the exact binary value, rounded half to even. JavaScript's
 * toFixed rounds exact ties up (31.25 becomes 31.3; Go prints 31.2). A float64 lies exactly halfway
 * between two tenths only when it is an odd multiple of 0.25, that is when x*4 is an odd integer.
 */
export function formatPercent(x: number): string {
  const quarters = x * 4;
  if (Number.isInteger(quarters) && quarters % 2 !== 0) {
    const tenths = Math.floor(x * 10); // x*10 = k + 0.5 exactly
    const even = tenths % 2 === 0 ? tenths : tenths + 1;
    return (even / 10).toFixed(1);
  }
  return x.toFixed(1);
}

export function formatRatio(r: Ratio): string {
  return `${formatPercent(percent(r))}%`;
}

/** covered/total >= threshold%, in integers: threshold is given in tenths of a percent. */
export function meets(r: Ratio, thresholdTenths: number): boolean {
  if (r.total === 0) return true;
  return r.covered * 1000 >= thresholdTenths * r.total;
}
