import type { Judged, Linter } from './findings.js';
import {
  type PackageResult,
  type Place,
  type RaceChoice,
  type TestCase,
  type TestRun,
  failedLeaves,
  trimmedOutput,
} from './gotest.js';

export interface FailedTest {
  pkg: string;
  name: string;
  place?: Place;
  race: boolean;
  output: string[];
}

export interface TestReport {
  race: RaceChoice;
  tests: number;
  passed: number;
  skipped: number;
  /** Real failures (flaky ones too with fail-on-flaky), leaves only. */
  failed: FailedTest[];
  flaky: { pkg: string; name: string }[];
  /** Packages that failed outside their tests: a build failure, a panic in TestMain. */
  brokenPackages: {
    pkg: string;
    buildFailed: boolean;
    output: string[];
    errors: PackageResult['buildErrors'];
  }[];
  slowest: { pkg: string; name: string; elapsedMs: number }[];
  elapsedMs: number;
}

/** The JSON report-file: what failed and why, for the summary and whoever reads it next. */
export interface QualityReport {
  passed: boolean;
  lint?: {
    base?: string;
    versions: Partial<Record<Linter, string>>;
    /** Who ran go vet's analyzers (golangci-lint's govet when the repository's config has it on). */
    vetBy?: 'go vet' | 'golangci-lint';
    findings: Judged[];
  };
  test?: TestReport;
}

const failure = (t: TestCase): FailedTest => ({
  pkg: t.pkg,
  name: t.name,
  place: t.place,
  race: t.race,
  output: trimmedOutput(t),
});

/** The verdict on a test run: real failures fail; a flaky test fails only with `failOnFlaky`. */
export function testReport(run: TestRun, race: RaceChoice, failOnFlaky: boolean): TestReport {
  const flaky = run.tests.filter((t) => t.flaky && !t.name.includes('/'));
  const failed = failedLeaves(run.tests).map(failure);
  if (failOnFlaky) failed.push(...flaky.map(failure));
  const broken = run.packages.filter(
    (p) => p.status === 'fail' && !run.tests.some((t) => t.pkg === p.pkg && t.status === 'fail'),
  );
  return {
    race,
    tests: run.tests.length,
    passed: run.tests.filter((t) => t.status === 'pass').length,
    skipped: run.tests.filter((t) => t.status === 'skip').length,
    failed,
    flaky: flaky.map((t) => ({ pkg: t.pkg, name: t.name })),
    brokenPackages: broken.map((p) => ({
      pkg: p.pkg,
      buildFailed: p.buildFailed,
      output: p.output.slice(-30),
      errors: p.buildErrors,
    })),
    slowest: run.tests
      .filter((t) => !t.name.includes('/') && t.elapsedMs > 0)
      .sort((a, b) => b.elapsedMs - a.elapsedMs)
      .slice(0, 5)
      .map((t) => ({ pkg: t.pkg, name: t.name, elapsedMs: t.elapsedMs })),
    elapsedMs: run.packages.reduce((s, p) => s + p.elapsedMs, 0),
  };
}

export const testsPassed = (t: TestReport): boolean => !t.failed.length && !t.brokenPackages.length;
