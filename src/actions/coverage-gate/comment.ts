import { Summary } from '../../runner/summary.js';

interface Pct {
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
}

export function commentMarker(workingDirectory: string): string {
  return `<!-- go-ship:coverage-gate ${workingDirectory} -->`;
}

const MAX_ROWS = 15;

/**
 * The sticky PR comment, rendered from the JSON report alone, so the fork-safe second workflow
 * (comment-from) writes exactly what the PR workflow would have.
 */
export function renderComment(r: ReportJson, runUrl?: string): string {
  const gate = (name: string) => {
    const g = r.gates.find((x) => x.name === name);
    return g ? `${g.passed ? '✅' : '❌'} ${g.rule}` : '';
  };
  const module = r.workingDirectory === '.' ? '' : ` (\`${r.workingDirectory}\`)`;
  const s = new Summary()
    .heading(`${r.passed ? '✅' : '❌'} Coverage${module}: ${r.totalFunc.percent}`, 3)
    .table(
      ['', 'coverage', 'statements', 'gate'],
      [
        [
          'total',
          `**${r.totalFunc.percent}**${r.baseline ? ` (${r.baseline.delta})` : ''}`,
          `${r.totalFunc.covered} / ${r.totalFunc.total}`,
          [gate('total'), gate('max-drop')].filter(Boolean).join('<br>'),
        ],
        ...(r.patch
          ? [
              [
                'changed lines',
                `**${r.patch.percent}**`,
                `${r.patch.covered} / ${r.patch.total}${r.patch.partial ? ` (${r.patch.partial} partial)` : ''}`,
                gate('patch'),
              ],
            ]
          : []),
      ],
    );
  if (r.patch?.uncovered.length) {
    const rows = r.patch.uncovered
      .slice(0, MAX_ROWS)
      .map((f) => [`\`${f.file}\``, f.ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ')]);
    const more = r.patch.uncovered.length - rows.length;
    s.details(
      `Changed lines without tests (${r.patch.uncovered.length} file${r.patch.uncovered.length === 1 ? '' : 's'})`,
      new Summary().table(['file', 'lines'], rows).toString() +
        (more > 0 ? `\n…and ${more} more in the job summary.\n` : ''),
    );
  }
  const failed = r.gates.filter(
    (g) => !g.passed && g.name !== 'total' && g.name !== 'patch' && g.name !== 'max-drop',
  );
  if (failed.length)
    s.details(
      `Failing package and file gates (${failed.length})`,
      new Summary()
        .table(
          ['', 'coverage', 'gate'],
          failed.slice(0, MAX_ROWS).map((g) => [`\`${g.name}\``, g.ratio.percent, g.rule]),
        )
        .toString(),
    );
  if (r.packages.length > 1) {
    const pct = (p: Pct) => (p.total ? p.covered / p.total : 1);
    const worst = [...r.packages].sort((a, b) => pct(a.func) - pct(b.func)).slice(0, 10);
    s.details(
      `Packages, lowest first (${r.packages.length})`,
      new Summary()
        .table(
          ['package', 'coverage', 'statements'],
          worst.map((p) => [`\`${p.pkg}\``, p.func.percent, `${p.func.covered} / ${p.func.total}`]),
        )
        .toString(),
    );
  }
  const notes = [
    r.wholeProfile
      ? `in functions, after excluding ${r.excluded?.length ?? 0} file(s); on the whole profile \`go tool cover -func\` says ${r.wholeProfile.totalFunc.percent}, \`go test -cover\` ${r.wholeProfile.totalAll.percent}`
      : `\`go tool cover -func\` total; all statements (\`go test -cover\`): ${r.totalAll.percent}`,
    r.baseline ? `compared with ${r.baseline.source}: ${r.baseline.totalFunc.percent}` : undefined,
    r.patch ? `changed lines since ${r.patch.base.slice(0, 7)}` : undefined,
    `commit ${r.commit.slice(0, 7)}`,
    runUrl ? `[run](${runUrl})` : undefined,
  ].filter(Boolean);
  return `${s.toString()}\n<sub>${notes.join(' · ')} · go-ship coverage-gate</sub>\n`;
}
