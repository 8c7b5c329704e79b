import type { PackageResult, TestCase } from './gotest.js';
import { trimmedOutput } from './gotest.js';

/** Text as XML 1.0 allows it: the five escapes, and no control characters XML cannot hold. */
function xml(text: string): string {
  return text
    .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

/**
 * JUnit XML as gotestsum writes it and Jenkins, GitLab, SonarQube and Codecov read it: a testsuite per
 * package, a testcase per test (classname = the package). A package that failed outside its tests (a
 * build failure, a panic in TestMain) is one failed testcase named after it, so it is not lost. A flaky
 * test passes here unless `failOnFlaky`, and says what happened in its system-out.
 */
export function junitXml(packages: PackageResult[], tests: TestCase[], failOnFlaky: boolean): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const suites: string[] = [];
  let total = 0;
  let failures = 0;
  let skipped = 0;
  let time = 0;
  for (const p of packages) {
    const cases: string[] = [];
    let f = 0;
    let s = 0;
    for (const t of tests.filter((t) => t.pkg === p.pkg)) {
      const body: string[] = [];
      const failedHere = t.status === 'fail' && (!t.flaky || failOnFlaky);
      if (failedHere) {
        f++;
        const why = t.race
          ? 'data race'
          : t.flaky
            ? 'flaky: failed, then passed when run again alone'
            : 'Failed';
        body.push(
          `      <failure message="${xml(why)}" type="">${xml(trimmedOutput(t, 200).join('\n'))}</failure>`,
        );
      } else if (t.status === 'skip') {
        s++;
        body.push(`      <skipped message="${xml(trimmedOutput(t, 1)[0]?.trim() ?? 'skipped')}"></skipped>`);
      } else if (t.flaky) {
        body.push(
          `      <system-out>${xml(['flaky: failed, then passed when run again alone', ...trimmedOutput(t, 200)].join('\n'))}</system-out>`,
        );
      }
      cases.push(
        body.length
          ? `    <testcase classname="${xml(t.pkg)}" name="${xml(t.name)}" time="${seconds(t.elapsedMs)}">\n${body.join('\n')}\n    </testcase>`
          : `    <testcase classname="${xml(t.pkg)}" name="${xml(t.name)}" time="${seconds(t.elapsedMs)}"></testcase>`,
      );
    }
    const own = tests.filter((t) => t.pkg === p.pkg);
    const failedOutside = p.status === 'fail' && !own.some((t) => t.status === 'fail');
    if (failedOutside) {
      f++;
      const why = p.buildFailed ? 'build failed' : 'failed outside any test';
      cases.push(
        `    <testcase classname="${xml(p.pkg)}" name="${xml(p.buildFailed ? '[build failed]' : '[package]')}" time="${seconds(p.elapsedMs)}">\n      <failure message="${xml(why)}" type="">${xml(p.output.slice(-200).join('\n'))}</failure>\n    </testcase>`,
      );
    }
    const count = own.length + (failedOutside ? 1 : 0);
    total += count;
    failures += f;
    skipped += s;
    time += p.elapsedMs;
    suites.push(
      `  <testsuite name="${xml(p.pkg)}" tests="${count}" failures="${f}" errors="0" skipped="${s}" time="${seconds(p.elapsedMs)}">\n${cases.join('\n')}${cases.length ? '\n' : ''}  </testsuite>`,
    );
  }
  out.push(
    `<testsuites tests="${total}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(time)}">`,
    ...suites,
    '</testsuites>',
    '',
  );
  return out.join('\n');
}
