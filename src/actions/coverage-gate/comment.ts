import { formatDelta } from '../../coverage/baseline.js';
import { formatRatio } from '../../coverage/report.js';
import { UserError } from '../../runner/errors.js';
import { mdCode, mdText, Summary } from '../../runner/summary.js';

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
export function readUntrustedReport(text: string, file: string): { report: ReportJson; dropped: number } {
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
  const obj = (v: unknown, what: string): Record<string, unknown> =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : bad(`${what} is not an object`);
  const int = (v: unknown, what: string): number =>
    Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : bad(`${what} is not a whole number`);
  const pct = (v: unknown, what: string): Pct => {
    const o = obj(v, what);
    const r = { covered: int(o.covered, `${what}.covered`), total: int(o.total, `${what}.total`) };
    if (r.covered > r.total) bad(`${what} covers more statements than it has`);
    return { ...r, percent: formatRatio(r) };
  };
  const list = (v: unknown, what: string): unknown[] =>
    Array.isArray(v) && v.length <= MAX_ENTRIES
      ? v
      : bad(`${what} is not a list (of at most ${MAX_ENTRIES})`);
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
    },
    dropped,
  };
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
  const module = r.workingDirectory === '.' ? '' : ` (${mdCode(r.workingDirectory)})`;
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
      .map((f) => [mdCode(f.file), f.ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ')]);
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
          failed.slice(0, MAX_ROWS).map((g) => [mdCode(g.name), g.ratio.percent, g.rule]),
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
          worst.map((p) => [mdCode(p.pkg), p.func.percent, `${p.func.covered} / ${p.func.total}`]),
        )
        .toString(),
    );
  }
  const notes = [
    r.wholeProfile
      ? `in functions, after excluding ${r.excluded?.length ?? 0} file(s); on the whole profile \`go tool cover -func\` says ${r.wholeProfile.totalFunc.percent}, \`go test -cover\` ${r.wholeProfile.totalAll.percent}`
      : `\`go tool cover -func\` total; all statements (\`go test -cover\`): ${r.totalAll.percent}`,
    r.baseline ? `compared with ${mdText(r.baseline.source)}: ${r.baseline.totalFunc.percent}` : undefined,
    r.patch ? `changed lines since ${r.patch.base.slice(0, 7)}` : undefined,
    `commit ${r.commit.slice(0, 7)}`,
    runUrl ? `[run](${runUrl})` : undefined,
  ].filter(Boolean);
  return `${s.toString()}\n<sub>${notes.join(' · ')} · go-ship coverage-gate</sub>\n`;
}
