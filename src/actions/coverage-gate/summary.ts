import type { GateResult } from '../../coverage/gates.js';
import { uncoveredRanges, type PatchResult } from '../../coverage/patch.js';
import { type Baseline, formatDelta } from '../../coverage/baseline.js';
import { type CoverageReport, formatRatio, percent } from '../../coverage/report.js';
import { Summary, mdCode } from '../../runner/summary.js';

export function excludedText(excluded: { file: string; why: string }[]): string {
  const by = (why: string) => excluded.filter((e) => e.why === why).length;
  const parts = [
    by('generated') ? `${by('generated')} generated` : '',
    by('exclude') ? `${by('exclude')} by \`exclude\`` : '',
  ].filter(Boolean);
  return `${excluded.length} file${excluded.length === 1 ? '' : 's'} (${parts.join(', ')})`;
}

export function summarize(
  report: CoverageReport,
  whole: CoverageReport,
  gates: GateResult[],
  patch: PatchResult | undefined,
  excluded: { file: string; why: string }[],
  passed: boolean,
  baseline: Baseline | undefined,
): Summary {
  const gateFor = (name: string) => gates.find((g) => g.name === name);
  const verdict = (name: string) => {
    const g = gateFor(name);
    return g ? `${g.passed ? '✅' : '❌'} ${g.rule}` : '';
  };
  const s = new Summary().heading(`coverage-gate: ${passed ? '✅ passed' : '❌ failed'}`).table(
    ['measure', 'coverage', 'statements', 'gate'],
    [
      [
        excluded.length
          ? `total, in functions, after excluding ${excludedText(excluded)}`
          : 'total, in functions (`go tool cover -func`)',
        formatRatio(report.totalFunc),
        `${report.totalFunc.covered} / ${report.totalFunc.total}`,
        verdict('total'),
      ],
      ...(baseline
        ? [
            [
              `baseline (${baseline.source})`,
              `${formatRatio(baseline.totalFunc)} → ${formatDelta(report.totalFunc, baseline.totalFunc)}`,
              `${baseline.totalFunc.covered} / ${baseline.totalFunc.total}`,
              verdict('max-drop'),
            ],
          ]
        : []),
      [
        excluded.length
          ? `total, all statements, after excluding ${excludedText(excluded)}`
          : 'total, all statements (`go test -cover`)',
        formatRatio(report.totalAll),
        `${report.totalAll.covered} / ${report.totalAll.total}`,
        '',
      ],
      ...(excluded.length
        ? [
            [
              'whole profile, in functions (`go tool cover -func`)',
              formatRatio(whole.totalFunc),
              `${whole.totalFunc.covered} / ${whole.totalFunc.total}`,
              '',
            ],
            [
              'whole profile, all statements (`go test -cover`)',
              formatRatio(whole.totalAll),
              `${whole.totalAll.covered} / ${whole.totalAll.total}`,
              '',
            ],
          ]
        : []),
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
  s.heading(`Packages (lowest first${excluded.length ? ', excluded files left out' : ''})`, 3).table(
    ['package', 'coverage', 'statements', 'gate'],
    worst
      .slice(0, 10)
      .map((p) => [
        mdCode(p.pkg),
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
          return [mdCode(f.file), formatRatio(r), `${r.covered} / ${r.total}`, verdict(`file ${f.file}`)];
        }),
      )
      .toString(),
  );
  if (patch) {
    const rows = patch.files
      .map((f) => ({ f, un: uncoveredRanges(f.lines) }))
      .filter((x) => x.un.length)
      .map(({ f, un }) => [mdCode(f.file), un.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ')]);
    if (rows.length) s.heading('Changed lines without coverage', 3).table(['file', 'lines'], rows);
    if (patch.notInProfile.length)
      s.list([
        `Changed Go files in no profile (not counted): ${patch.notInProfile.map((f) => mdCode(f)).join(', ')}`,
      ]);
  }
  if (excluded.length)
    s.list([`Excluded: ${excluded.map((e) => `${mdCode(e.file)} (${e.why})`).join(', ')}`]);
  if (report.missingSource.length)
    s.list([`No source for ${report.missingSource.join(', ')}: function totals count all their blocks.`]);
  return s;
}
