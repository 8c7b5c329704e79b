import type { GlobSet } from '../runner/glob.js';
import { type Baseline, formatDelta, withinDrop } from './baseline.js';
import { formatRatio, meets, type CoverageReport, type Ratio } from './report.js';

/** The thresholds a gate is judged by, in tenths of a percent (undefined: no gate). */
export interface Thresholds {
  thresholdTotal?: number;
  thresholdPackage?: number;
  thresholdFile?: number;
  /** Per-file thresholds by glob over paths in the checkout; the first match wins. */
  fileOverrides: { glob: GlobSet; tenths: number }[];
}

/** A gate's verdict: which ratio, against what rule. */
export interface GateResult {
  name: string;
  ratio: Ratio;
  /** The rule as shown: `≥ 80.0%`, or `≤ 0.5 below 81.2%` for max-drop. */
  rule: string;
  passed: boolean;
  /** Why it failed, in a sentence. */
  failure: string;
}

const tenthsText = (tenths: number) => (tenths / 10).toFixed(1);

export function thresholdGate(name: string, ratio: Ratio, tenths: number): GateResult {
  return {
    name,
    ratio,
    rule: `≥ ${tenthsText(tenths)}%`,
    passed: meets(ratio, tenths),
    failure: `${name} ${formatRatio(ratio)} is below ${tenthsText(tenths)}%`,
  };
}

/**
 * The threshold gates of total, packages and files: on this run's report, or (comment-from) on the
 * integers of another run's report, judged by this job's thresholds.
 */
export function evaluate(
  config: Thresholds,
  report: Pick<CoverageReport, 'totalFunc'> & {
    packages: { pkg: string; func: Ratio }[];
    files: { file: string; func?: Ratio; all: Ratio }[];
  },
  pathOf: (file: string) => string,
): GateResult[] {
  const gates: GateResult[] = [];
  const gate = (name: string, ratio: Ratio, tenths: number | undefined) => {
    if (tenths !== undefined) gates.push(thresholdGate(name, ratio, tenths));
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

/** max-drop: the total may fall at most `maxDrop` tenths of a point below the baseline's. */
export function maxDropGate(now: Ratio, baseline: Baseline, maxDrop: number): GateResult {
  const base = formatRatio(baseline.totalFunc);
  return {
    name: 'max-drop',
    ratio: now,
    rule: `≤ ${tenthsText(maxDrop)} below ${base}`,
    passed: withinDrop(now, baseline.totalFunc, maxDrop),
    failure: `total ${formatRatio(now)} is ${formatDelta(now, baseline.totalFunc).slice(1)} points below the baseline's ${base} (${baseline.source}); max-drop allows ${tenthsText(maxDrop)}`,
  };
}
