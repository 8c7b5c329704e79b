import { goTool } from '../go/tools.js';
import { runCommand } from '../runner/command.js';
import { UserError } from '../runner/errors.js';
import { changedLines } from '../runner/git.js';
import { formatDuration } from '../runner/log.js';
import { type Dirent, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FormattedRecord, gofmtVersion } from './formatted.js';
import { type Finding, type Judged, type Linter, dedupe, judge, repoPath } from './findings.js';

/** Where a lint run looks, and how its tools run (an allow-listed environment: they read the user's code). */
export interface LintScope {
  /** The module's directory (the `working-directory`). */
  workspace: string;
  /**
   * The repository's top: findings are relative to it. It may still be coming (git answers while
   * the linters start): each tool awaits it only once it has its findings.
   */
  top: string | PromiseLike<string>;
  /** Package patterns, as `go vet` takes them (`./...`). */
  packages: string[];
  env: Record<string, string>;
  /** The step's own temporary folder: golangci-lint keeps its lock file there, not in the machine's /tmp. */
  scratch: string;
}

/**
 * The Go files of the packages the patterns match, tests and other platforms' files included: the
 * files gofmt should see. testdata, vendor, `_` and `.` folders and nested modules are not packages
 * of the module, so they are left out (by hand, `gofmt -l .` would read them too). Directory
 * patterns (`./...`, `./cmd/...`, `.`) are walked as the go command walks them, without starting it;
 * any other pattern is asked of `go list`.
 */
async function goFiles(scope: LintScope): Promise<string[]> {
  const local = scope.packages.map(localPattern);
  if (local.every((l) => l !== undefined))
    return [...new Set(local.flatMap((l) => goFilesUnder(resolve(scope.workspace, l.dir), l.recursive)))];
  const fields = ['GoFiles', 'CgoFiles', 'TestGoFiles', 'XTestGoFiles', 'IgnoredGoFiles'];
  const format = `{{$d := .Dir}}${fields.map((f) => `{{range .${f}}}{{$d}}/{{.}}\n{{end}}`).join('')}`;
  const r = await runCommand('go', ['list', '-e', '-f', format, ...scope.packages], {
    cwd: scope.workspace,
    env: scope.env,
    inheritEnv: false,
    check: false,
  });
  if (r.code !== 0)
    throw new UserError(
      `\`go list ${scope.packages.join(' ')}\` failed in ${scope.workspace}: ${r.stderr.trim().slice(-800)}`,
    );
  return [...new Set(r.stdout.split('\n').filter((f) => f.endsWith('.go')))];
}

/**
 * A package pattern that names a folder of the module (`.`, `./...`, `./cmd/...`, `./internal/x`):
 * the folder and whether `...` reaches below it. Anything else (an import path, `..`, a wildcard
 * inside a name, `all`) is left to `go list`.
 */
export function localPattern(pattern: string): { dir: string; recursive: boolean } | undefined {
  const m = /^\.((?:\/[^/\s]+)*?)(\/\.\.\.)?\/?$/.exec(pattern);
  if (!m || m[1].split('/').some((part) => part === '..' || part === '.' || part.includes('...')))
    return undefined;
  return { dir: `.${m[1]}`, recursive: Boolean(m[2]) };
}

/**
 * `dir`'s Go files, and with `recursive` those of the folders below it the go command's `...` would
 * match: not testdata, vendor, names starting with `_` or `.`, nor a folder with its own go.mod (another
 * module). Links to folders are not followed, as the go command does not follow them.
 */
export function goFilesUnder(dir: string, recursive: boolean): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return; // a pattern naming no folder matches nothing, as with go list -e
    }
    const subdirs: string[] = [];
    for (const e of entries) {
      if (e.name.startsWith('_') || e.name.startsWith('.')) continue;
      if (e.isFile() && e.name.endsWith('.go')) out.push(join(d, e.name));
      else if (recursive && e.isDirectory() && e.name !== 'testdata' && e.name !== 'vendor')
        subdirs.push(join(d, e.name));
    }
    for (const sub of subdirs) if (!existsSync(join(sub, 'go.mod'))) walk(sub);
  };
  walk(dir);
  return out;
}

/**
 * Where `gofmt -d` would change a file: one finding per run of changed lines, at its first line in
 * the file as it is now (an insertion is reported at the line it comes before).
 */
export function gofmtHunks(diff: string): number[] {
  const lines: number[] = [];
  let old = 0;
  let inRun = false;
  for (const text of diff.split('\n')) {
    const hunk = /^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@/.exec(text);
    if (hunk) {
      old = Number(hunk[1]);
      inRun = false;
    } else if (text.startsWith('---') || text.startsWith('+++') || text.startsWith('diff ')) {
      continue;
    } else if (text.startsWith('-') || text.startsWith('+')) {
      if (!inRun) lines.push(Math.max(old, 1));
      inRun = true;
      if (text.startsWith('-')) old++;
    } else if (text.startsWith(' ')) {
      old++;
      inRun = false;
    }
  }
  return lines;
}

/** `items` in runs whose total length stays under `max` bytes (a command line's limit is 128 KiB an argument, 2 MiB in all). */
export function argBatches(items: string[], max: number): string[][] {
  const out: string[][] = [];
  let size = Infinity;
  for (const item of items) {
    if (size + item.length + 1 > max) {
      out.push([]);
      size = 0;
    }
    out[out.length - 1].push(item);
    size += item.length + 1;
  }
  return out;
}

/** `gofmt -l` over the module's packages, and where each listed file differs (`gofmt -d`). */
export async function gofmt(scope: LintScope): Promise<Finding[]> {
  const record = FormattedRecord.open(scope.env);
  const files = record.unknown(await goFiles(scope));
  const unformatted: string[] = [];
  let parsedAll = true;
  // As few gofmt runs as the command line allows (gofmt formats its files in parallel itself).
  for (const batch of argBatches(files, 100_000)) {
    const r = await runCommand('gofmt', ['-l', ...batch], {
      env: scope.env,
      inheritEnv: false,
      check: false,
    });
    // gofmt prints a file it cannot parse on stderr; go vet and golangci-lint report those with a reason.
    unformatted.push(...r.stdout.split('\n').filter(Boolean));
    parsedAll &&= r.code === 0;
  }
  // A file gofmt could not parse is not listed, but not formatted either: such a run records nothing.
  if (parsedAll) record.save(unformatted);
  const findings: Finding[] = [];
  const top = await scope.top;
  for (const file of unformatted) {
    const d = await runCommand('gofmt', ['-d', file], { env: scope.env, inheritEnv: false, check: false });
    const path = repoPath(top, scope.workspace, file);
    for (const line of gofmtHunks(d.stdout))
      findings.push({
        linter: 'gofmt',
        rule: 'gofmt',
        file: path,
        line,
        message: 'File is not gofmt-ed: `gofmt -w` would change this line',
        severity: 'error',
      });
  }
  return findings;
}

/**
 * `go vet -json`'s report: per package, per analyzer, a list of findings, as JSON objects between
 * `# package` lines. A package that does not compile prints the compiler's error instead; those are
 * returned as `broken` (go vet exits non-zero then).
 */
export function parseVet(output: string): { posn: string; analyzer: string; message: string }[] {
  const out: { posn: string; analyzer: string; message: string }[] = [];
  for (const object of jsonObjects(output)) {
    for (const analyzers of Object.values(object as Record<string, Record<string, unknown>>)) {
      for (const [analyzer, list] of Object.entries(analyzers ?? {})) {
        if (!Array.isArray(list)) continue; // {"error": "..."} for an analyzer that could not run
        for (const f of list as { posn?: string; message?: string }[])
          if (f.posn && f.message) out.push({ posn: f.posn, analyzer, message: f.message });
      }
    }
  }
  return out;
}

/** Top-level JSON objects in text that has other lines between them. */
function jsonObjects(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"' && depth > 0) inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && depth > 0 && --depth === 0) {
      try {
        out.push(JSON.parse(text.slice(start, i + 1)));
      } catch {
        // not JSON after all (a compiler message with braces); skipped
      }
    }
  }
  return out;
}

/** `file:line:col` as go vet prints a position (the file may hold colons on some systems). */
function position(posn: string): { file: string; line: number; column?: number } {
  const m = /^(.*?):(\d+)(?::(\d+))?$/.exec(posn);
  return m
    ? { file: m[1], line: Number(m[2]), column: m[3] ? Number(m[3]) : undefined }
    : { file: posn, line: 0 };
}

export async function goVet(scope: LintScope): Promise<Finding[]> {
  const r = await runCommand('go', ['vet', '-json', ...scope.packages], {
    cwd: scope.workspace,
    env: scope.env,
    inheritEnv: false,
    check: false,
  });
  const text = r.stderr + r.stdout;
  const found = parseVet(text);
  if (r.code !== 0 && !found.length)
    throw new UserError(
      `\`go vet ${scope.packages.join(' ')}\` could not check the code (exit code ${r.code}); the module must build first:\n${text.trim().split('\n').slice(-15).join('\n')}`,
    );
  const top = await scope.top;
  return found.map((f) => {
    const p = position(f.posn);
    return {
      linter: 'go vet',
      rule: f.analyzer,
      file: repoPath(top, scope.workspace, p.file),
      line: p.line,
      column: p.column,
      message: f.message,
      severity: 'error',
    };
  });
}

/** golangci-lint v2's module: the version a project pins in `.go-ship.yml` is built from it. */
const GOLANGCI_PKG = 'github.com/golangci/golangci-lint/v2/cmd/golangci-lint';

export async function golangciLintBinary(version: string): Promise<string> {
  return goTool({
    pkg: GOLANGCI_PKG,
    version,
    probe: ['version'],
    expect: new RegExp(`version ${version.replace(/^v/, '').replace(/\./g, '\\.')} `),
    neededFor: 'the lint check',
    fix: 'set `golangci-lint-version: off` to lint with gofmt and go vet only',
  });
}

interface GolangciIssue {
  FromLinter: string;
  Text: string;
  Severity?: string;
  Pos: { Filename: string; Line: number; Column?: number };
}

/** What one golangci-lint run found, and which of its linters and formatters the repository's config had on. */
export interface GolangciRun {
  findings: Finding[];
  enabled: Set<string>;
}

/**
 * golangci-lint's JSON report (`--output.json.path=stdout`), paths absolute (`--path-mode=abs`): its
 * issues, and from `Report.Linters` the linters the configuration turned on.
 */
export function parseGolangci(json: string, scope: { top: string; workspace: string }): GolangciRun {
  const report = JSON.parse(json) as {
    Issues?: GolangciIssue[] | null;
    Report?: { Linters?: { Name: string; Enabled?: boolean }[] };
  };
  return {
    findings: (report.Issues ?? []).map((i) => ({
      linter: 'golangci-lint',
      rule: i.FromLinter,
      file: repoPath(scope.top, scope.workspace, i.Pos.Filename),
      line: i.Pos.Line,
      column: i.Pos.Column || undefined,
      message: i.Text,
      severity: i.Severity === 'warning' ? 'warning' : i.Severity === 'info' ? 'note' : 'error',
    })),
    enabled: new Set((report.Report?.Linters ?? []).filter((l) => l.Enabled).map((l) => l.Name)),
  };
}

/**
 * golangci-lint run as a person would in the module (its own config found the way it finds it: a
 * `.golangci.yml` here or above), with only the output made machine-readable. With `uncapped` its
 * limits on repeated findings are lifted: against a base, a finding on a changed line must not be
 * hidden behind three like it on old lines (golangci-lint-action's only-new-issues filters before
 * the limits for the same reason).
 */
export async function golangciLint(scope: LintScope, binary: string, uncapped = false): Promise<GolangciRun> {
  mkdirSync(scope.scratch, { recursive: true });
  const r = await runCommand(
    binary,
    [
      'run',
      '--output.json.path=stdout',
      '--show-stats=false',
      '--path-mode=abs',
      '--allow-serial-runners',
      ...(uncapped ? ['--max-issues-per-linter=0', '--max-same-issues=0'] : []),
      ...scope.packages,
    ],
    {
      cwd: scope.workspace,
      env: { ...scope.env, TMPDIR: scope.scratch },
      inheritEnv: false,
      check: false,
      timeoutMs: 30 * 60_000,
    },
  );
  const json = r.stdout.split('\n').find((l) => l.startsWith('{"Issues"'));
  if ((r.code !== 0 && r.code !== 1) || !json) {
    const why = r.stderr.trim().split('\n').slice(-10).join('\n');
    const v1 = /configuration file for golangci-lint v1/.test(why);
    throw new UserError(
      `golangci-lint could not lint ${scope.workspace} (exit code ${r.code}):\n${why}\n${
        v1
          ? "The repository's golangci-lint config is for v1: run `golangci-lint migrate` on it, or set `golangci-lint-version: off`."
          : 'Run `golangci-lint run` there to see it; fix its config, or set `golangci-lint-version: off`.'
      }`,
    );
  }
  return parseGolangci(json, { top: await scope.top, workspace: scope.workspace });
}

export interface LintResult {
  findings: Judged[];
  /** The tools' versions, for SARIF and the summary (a tool that did not run has none). */
  versions: Partial<Record<Linter, string>>;
  /** Who ran go vet's analyzers: go vet itself, or golangci-lint's govet with the repository's settings. */
  vetBy: 'go vet' | 'golangci-lint';
  /** The merge base findings were judged against, when there was one. */
  base?: string;
}

/**
 * gofmt, go vet and golangci-lint (unless `golangciLintVersion` is undefined) over the same packages,
 * one finding per place and message, judged against the lines changed since `baseRef`'s merge base.
 * go vet's analyzers run once: golangci-lint's govet runs go vet's own list (as of Go 1.26) under
 * the repository's settings and `nolint` comments, so `go vet` runs separately only when
 * golangci-lint is off or its config turns govet off.
 */
export async function lintModule(
  scope: LintScope,
  o: { golangciLintVersion?: string; baseRef?: string; progress: (line: string) => void },
): Promise<LintResult> {
  const timed = async <T extends Finding[] | GolangciRun>(name: string, fn: () => Promise<T>) => {
    const t0 = Date.now();
    const found = await fn();
    const n = Array.isArray(found) ? found.length : found.findings.length;
    o.progress(`${name}: ${n} finding${n === 1 ? '' : 's'} in ${formatDuration(Date.now() - t0)}`);
    return found;
  };
  const binary = o.golangciLintVersion ? await golangciLintBinary(o.golangciLintVersion) : undefined;
  const vet = () => timed('go vet', () => goVet(scope));
  // gofmt and golangci-lint read the same files and do not depend on each other: run side by side,
  // each finding list kept in the linters' order so the result does not depend on which finished first.
  // golangci-lint starts first: it takes longest, and gofmt's folder walk would hold it back.
  // go vet runs as the go command picks its toolchain (GOTOOLCHAIN may switch it); gofmt is the
  // binary on PATH, whose version its own Go root says without starting a process.
  const goVersion = () =>
    runCommand('go', ['env', 'GOVERSION'], { cwd: scope.workspace, env: scope.env, inheritEnv: false }).then(
      (r) => r.stdout.trim(),
    );
  const [golangci, vetVersion, fmtFound, vetFound] = await Promise.all([
    binary
      ? timed(`golangci-lint ${o.golangciLintVersion}`, () => golangciLint(scope, binary, Boolean(o.baseRef)))
      : undefined,
    binary ? undefined : goVersion(),
    timed('gofmt', () => gofmt(scope)),
    binary ? undefined : vet(),
  ]);
  const vetBy = golangci?.enabled.has('govet') ? 'golangci-lint' : 'go vet';
  if (vetBy === 'golangci-lint') o.progress("go vet: its analyzers ran as golangci-lint's govet");
  const versions: LintResult['versions'] = { gofmt: gofmtVersion(scope.env) ?? (await goVersion()) };
  const all = [...fmtFound];
  if (vetBy === 'go vet') {
    all.push(...(vetFound ?? (await vet())));
    versions['go vet'] = vetVersion ?? (await goVersion());
  }
  if (golangci) {
    all.push(...golangci.findings);
    versions['golangci-lint'] = o.golangciLintVersion!.replace(/^v/, '');
  }
  const changed = o.baseRef ? await changedLines(await scope.top, o.baseRef, 'the lint check') : undefined;
  return { findings: judge(dedupe(all), changed?.lines), versions, vetBy, base: changed?.base };
}
