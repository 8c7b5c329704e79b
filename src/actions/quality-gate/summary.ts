import type { QualityReport } from '../../quality/report.js';
import { formatDuration } from '../../runner/log.js';
import { Summary, mdCode, mdText } from '../../runner/summary.js';
import type { Config } from './inputs.js';

const MAX_ROWS = 50;
const where = (file: string, line: number): string => (file ? mdCode(`${file}:${line}`) : '');

export function summarize(report: QualityReport, config: Config): Summary {
  const s = new Summary().heading(`quality-gate: ${report.passed ? '✅ passed' : '❌ failed'}`);
  const rows: string[][] = [];
  const lint = report.lint;
  if (lint) {
    const failing = lint.findings.filter((f) => f.failing).length;
    const tools = Object.entries(lint.versions)
      .map(([t, v]) => `${t} ${v}`)
      .join(', ');
    const vet = lint.vetBy === 'golangci-lint' ? " (go vet's analyzers as its govet)" : '';
    rows.push([
      'lint',
      `${failing ? '❌' : '✅'} ${failing} failing, ${lint.findings.length - failing} listed`,
      `${tools}${vet}; ${lint.base ? `only lines changed since ${lint.base.slice(0, 12)} fail` : 'every finding fails (no base ref)'}`,
    ]);
  }
  const t = report.test;
  if (t) {
    const bad = t.failed.length + t.brokenPackages.length;
    rows.push([
      'test',
      `${bad ? '❌' : '✅'} ${t.passed} passed, ${t.failed.length} failed, ${t.flaky.length} flaky, ${t.skipped} skipped`,
      `go test -json${t.race.on ? ' -race' : ''} (${t.race.on ? 'race detector on' : `race detector off: ${t.race.why}`}); ${t.tests} tests in ${formatDuration(t.elapsedMs)} of package time`,
    ]);
  }
  s.table(['check', 'result', 'how'], rows);
  if (t?.failed.length) {
    s.heading('Failed tests', 3).table(
      ['test', 'package', 'where', 'why'],
      t.failed
        .slice(0, MAX_ROWS)
        .map((f) => [
          mdCode(f.name),
          mdCode(f.pkg),
          f.place ? where(f.place.file, f.place.line) : '',
          f.race ? 'data race' : mdText(f.output.find((l) => /\.go:\d+: /.test(l))?.trim() ?? 'failed', 120),
        ]),
    );
    for (const f of t.failed.slice(0, 10))
      s.details(`${f.name} output`, '```\n' + f.output.join('\n').replace(/```/g, "'''") + '\n```');
  }
  for (const p of t?.brokenPackages ?? [])
    s.details(
      `${p.pkg}: ${p.buildFailed ? 'build failed' : 'failed outside its tests'}`,
      '```\n' + p.output.join('\n').replace(/```/g, "'''") + '\n```',
    );
  if (t?.flaky.length)
    s.heading('Flaky tests', 3)
      .paragraph(
        `Failed, then passed when run again alone (retries: ${config.retries}); ${config.failOnFlaky ? 'failing (`fail-on-flaky`)' : 'not failing: set `fail-on-flaky: true` to fail on them'}.`,
      )
      .list(t.flaky.map((f) => `${mdCode(f.name)} in ${mdCode(f.pkg)}`));
  if (t?.slowest.length) {
    s.heading('Slowest tests', 3).table(
      ['test', 'package', 'time'],
      t.slowest.map((x) => [mdCode(x.name), mdCode(x.pkg), formatDuration(x.elapsedMs)]),
      ['left', 'left', 'right'],
    );
  }
  if (lint?.findings.length) {
    const sorted = [...lint.findings].sort((a, b) => Number(b.failing) - Number(a.failing));
    s.heading('Lint findings', 3).table(
      ['', 'linter', 'rule', 'where', 'message'],
      sorted
        .slice(0, MAX_ROWS)
        .map((f) => [
          f.failing ? '❌' : 'listed',
          f.linter,
          mdCode(f.rule),
          where(f.file, f.line),
          mdText(f.message, 200),
        ]),
    );
    if (sorted.length > MAX_ROWS)
      s.paragraph(`${sorted.length - MAX_ROWS} more in the SARIF file and the JSON report.`);
  }
  return s;
}
