import { runCommand } from '../runner/command.js';
import { UserError } from '../runner/errors.js';
import { repoPath } from './findings.js';
import { join } from 'node:path';

/** One event of `go test -json` (cmd/test2json), build events included (Go 1.24+). */
interface TestEvent {
  Action: string;
  Package?: string;
  Test?: string;
  Elapsed?: number;
  Output?: string;
  ImportPath?: string;
  FailedBuild?: string;
}

export interface Place {
  /** Relative to the repository's top; '' when the output named no file in it. */
  file: string;
  line: number;
}

export interface TestCase {
  pkg: string;
  /** `TestX` or `TestX/sub` as `go test -run` matches it. */
  name: string;
  status: 'pass' | 'fail' | 'skip';
  elapsedMs: number;
  /** Its own output, without the `=== RUN` and `--- FAIL` framing. */
  output: string[];
  /** The race detector stopped it (`WARNING: DATA RACE`). */
  race: boolean;
  /** Where it failed: the racing access, or the `file.go:N:` line of its first message. */
  place?: Place;
  /** Failed, then passed when run again alone. */
  flaky?: boolean;
}

export interface PackageResult {
  pkg: string;
  status: 'pass' | 'fail' | 'skip';
  elapsedMs: number;
  /** Output outside any test: a panic in TestMain or init, a build failure's compiler lines. */
  output: string[];
  buildFailed: boolean;
  /** Compiler errors with their places, for annotations. */
  buildErrors: { place: Place; message: string }[];
}

export interface TestRun {
  packages: PackageResult[];
  tests: TestCase[];
}

/** What the parser needs to turn the paths test output prints into repository paths. */
export interface PathContext {
  top: string;
  /** The directory `go test` ran in (compiler errors are relative to it). */
  workspace: string;
  /** Each package's directory (from `go list`): t.Errorf prints only a file's base name. */
  dirs: Map<string, string>;
}

const FRAME = /^\s+(\/.*\.go|[A-Za-z]:\\.*\.go):(\d+)(?: \+0x[0-9a-f]+)?$/;
const MESSAGE = /^\s+([\w.-]+\.go):(\d+): /;
const COMPILER = /^(\S+\.go):(\d+)(?::\d+)?: (.*)$/;

/** `go test -json`'s stream as packages and tests, with each failure's place. */
export function parseTestEvents(stream: string, paths: PathContext): TestRun {
  const tests = new Map<string, TestCase>();
  const packages = new Map<string, PackageResult>();
  const buildOutput = new Map<string, string[]>();
  const pkgOf = (name: string) => {
    let p = packages.get(name);
    if (!p) {
      p = { pkg: name, status: 'pass', elapsedMs: 0, output: [], buildFailed: false, buildErrors: [] };
      packages.set(name, p);
    }
    return p;
  };
  for (const line of stream.split('\n')) {
    if (!line.startsWith('{')) continue;
    let e: TestEvent;
    try {
      e = JSON.parse(line) as TestEvent;
    } catch {
      continue;
    }
    if (e.Action === 'build-output' && e.ImportPath) {
      buildOutput.set(e.ImportPath, [
        ...(buildOutput.get(e.ImportPath) ?? []),
        (e.Output ?? '').replace(/\n$/, ''),
      ]);
      continue;
    }
    if (!e.Package) continue;
    if (!e.Test) {
      const p = pkgOf(e.Package);
      if (e.Action === 'output' && e.Output) p.output.push(e.Output.replace(/\n$/, ''));
      if (e.Action === 'pass' || e.Action === 'fail' || e.Action === 'skip') {
        p.status = e.Action;
        p.elapsedMs = Math.round((e.Elapsed ?? 0) * 1000);
        if (e.FailedBuild) {
          p.buildFailed = true;
          for (const text of buildOutput.get(e.FailedBuild) ?? []) {
            const m = COMPILER.exec(text);
            if (m)
              p.buildErrors.push({
                place: { file: repoPath(paths.top, paths.workspace, m[1]), line: Number(m[2]) },
                message: m[3],
              });
          }
          p.output.unshift(...(buildOutput.get(e.FailedBuild) ?? []));
        }
      }
      continue;
    }
    const key = `${e.Package}\u0000${e.Test}`;
    let t = tests.get(key);
    if (!t) {
      t = { pkg: e.Package, name: e.Test, status: 'pass', elapsedMs: 0, output: [], race: false };
      tests.set(key, t);
    }
    if (e.Action === 'output' && e.Output !== undefined) {
      const text = e.Output.replace(/\n$/, '');
      if (/^(=== (RUN|PAUSE|CONT|NAME)|--- (PASS|FAIL|SKIP):)/.test(text.trimStart())) continue;
      t.output.push(text);
      if (text === 'WARNING: DATA RACE') t.race = true;
    } else if (e.Action === 'pass' || e.Action === 'fail' || e.Action === 'skip') {
      t.status = e.Action;
      t.elapsedMs = Math.round((e.Elapsed ?? 0) * 1000);
    }
  }
  for (const t of tests.values()) if (t.status === 'fail') t.place = placeOf(t, paths);
  return { packages: [...packages.values()], tests: [...tests.values()] };
}

/**
 * Where a failed test points: for a race, the first frame in the repository after the warning (the
 * racing access); else the first `file.go:N:` message line (t.Errorf, t.Fatalf), in its package's
 * folder; else, for a panic, the first frame in the repository (the line that panicked).
 */
function placeOf(t: TestCase, paths: PathContext): Place | undefined {
  const firstFrame = (lines: string[]) => {
    for (const text of lines) {
      const m = FRAME.exec(text);
      const file = m && repoPath(paths.top, paths.workspace, m[1]);
      if (file) return { file, line: Number(m[2]) };
    }
    return undefined;
  };
  if (t.race) {
    const at = firstFrame(t.output.slice(t.output.indexOf('WARNING: DATA RACE')));
    if (at) return at;
  }
  const dir = paths.dirs.get(t.pkg);
  for (const text of t.output) {
    const m = MESSAGE.exec(text);
    if (m && dir) return { file: repoPath(paths.top, paths.workspace, join(dir, m[1])), line: Number(m[2]) };
  }
  const panicked = t.output.findIndex((l) => l.startsWith('panic: '));
  return panicked >= 0 ? firstFrame(t.output.slice(panicked)) : undefined;
}

/** The failed tests worth reading: a parent that failed only through its subtests is left out. */
export function failedLeaves(tests: TestCase[]): TestCase[] {
  const failed = tests.filter((t) => t.status === 'fail' && !t.flaky);
  return failed.filter(
    (t) => !failed.some((o) => o.pkg === t.pkg && o.name.startsWith(`${t.name}/`)) || hasOwnMessage(t),
  );
}

const hasOwnMessage = (t: TestCase): boolean =>
  t.output.some((l) => MESSAGE.test(l) || l === 'WARNING: DATA RACE');

/** The lines that say why, not every line: the messages and the race report, at most `max`. */
export function trimmedOutput(t: TestCase, max = 30): string[] {
  const lines = t.output.filter((l) => l.trim() !== '');
  return lines.length > max ? [...lines.slice(0, max - 1), `… ${lines.length - max + 1} more lines`] : lines;
}

/** The platforms Go's race detector runs on (Go's own list, internal/platform.RaceDetectorSupported). */
export function raceSupported(goos: string, goarch: string): boolean {
  switch (goos) {
    case 'linux':
      return ['amd64', 'arm64', 'loong64', 'ppc64le', 'riscv64', 's390x'].includes(goarch);
    case 'darwin':
      return goarch === 'amd64' || goarch === 'arm64';
    case 'freebsd':
    case 'netbsd':
    case 'windows':
      return goarch === 'amd64';
    default:
      return false;
  }
}

export interface RaceChoice {
  on: boolean;
  /** Why it is off, for the summary (`cgo is off: CGO_ENABLED=0`). */
  why?: string;
}

/** `race: auto` turns -race on where the platform and cgo allow it; `true` insists, `false` declines. */
export async function chooseRace(
  mode: 'auto' | 'true' | 'false',
  cwd: string,
  env: Record<string, string>,
): Promise<RaceChoice> {
  if (mode === 'false') return { on: false, why: 'turned off (`race: false`)' };
  const r = await runCommand('go', ['env', 'GOOS', 'GOARCH', 'CGO_ENABLED'], { cwd, env, inheritEnv: false });
  const [goos, goarch, cgo] = r.stdout.trim().split('\n');
  const why = !raceSupported(goos, goarch)
    ? `Go has no race detector for ${goos}/${goarch}`
    : cgo !== '1'
      ? 'it needs cgo, and cgo is off here (CGO_ENABLED=0, or no C compiler on PATH)'
      : undefined;
  if (why && mode === 'true')
    throw new UserError(
      `Input \`race\` is \`true\`, but ${why}. Install a C compiler (gcc) and leave CGO_ENABLED unset, or set race to \`auto\` (on where it can be) or \`false\`.`,
    );
  return why ? { on: false, why } : { on: true };
}

/** Each matched package's directory, so a test's `file.go:N` message becomes a repository path. */
export async function packageDirs(
  cwd: string,
  packages: string[],
  env: Record<string, string>,
): Promise<Map<string, string>> {
  const r = await runCommand('go', ['list', '-e', '-f', '{{.ImportPath}}\t{{.Dir}}', ...packages], {
    cwd,
    env,
    inheritEnv: false,
    check: false,
  });
  return new Map(
    r.stdout
      .split('\n')
      .filter((l) => l.includes('\t'))
      .map((l) => l.split('\t') as [string, string]),
  );
}

export interface TestOptions {
  cwd: string;
  top: string;
  env: Record<string, string>;
  /** One `go test` run per entry: its package patterns. */
  packages: string[];
  /** The user's own flags (`-tags=integration`, `-run=Unit`), before go-ship's. */
  flags: string[];
  race: boolean;
  /** A coverage profile to write (relative to cwd), or none. */
  coverprofile?: string;
  /** How many times a failed test runs again alone before it is called a real failure. */
  retries: number;
}

/** A top-level test's name as a `-run` pattern that matches it alone. */
export const runPattern = (name: string): string =>
  `^${name.split('/')[0].replace(/[\\^$.|?*+()[\]{}]/g, '\\$&')}$`;

/**
 * Runs the tests with `-json`, and each failed top-level test again alone (with the same flags) up to
 * `retries` times: one that then passes is flaky. A test the race detector stopped is never retried:
 * a data race is a bug even when the next run misses it.
 */
export async function runTests(o: TestOptions, progress: (line: string) => void): Promise<TestRun> {
  const run: TestRun = { packages: [], tests: [] };
  const dirs = await packageDirs(o.cwd, o.packages, o.env);
  const paths = { top: o.top, workspace: o.cwd, dirs };
  const common = ['-json', ...(o.race ? ['-race'] : []), ...o.flags];
  for (const [i, patterns] of o.packages.entries()) {
    const profile = o.coverprofile
      ? o.packages.length > 1
        ? o.coverprofile.replace(/(\.[^./]*)?$/, `.${i + 1}$1`)
        : o.coverprofile
      : undefined;
    const args = [
      'test',
      ...common,
      ...(profile ? ['-covermode=atomic', `-coverprofile=${profile}`] : []),
      ...patterns.split(/\s+/),
    ];
    const r = await runCommand('go', args, {
      cwd: o.cwd,
      env: o.env,
      inheritEnv: false,
      check: false,
      timeoutMs: 60 * 60_000,
    });
    if (r.code !== 0 && !r.stdout.includes('"Action"'))
      throw new UserError(
        `\`go ${args.join(' ')}\` did not run (exit code ${r.code}): ${r.stderr.trim().split('\n').slice(-10).join('\n')}`,
      );
    const part = parseTestEvents(r.stdout, paths);
    for (const p of part.packages) progress(packageLine(p, part.tests));
    run.packages.push(...part.packages);
    run.tests.push(...part.tests);
  }
  for (const t of run.tests.filter((t) => t.status === 'fail' && !t.name.includes('/') && !t.race)) {
    const pkg = run.packages.find((p) => p.pkg === t.pkg);
    if (pkg?.buildFailed) continue;
    for (let attempt = 1; attempt <= o.retries; attempt++) {
      const again = await runCommand(
        'go',
        ['test', ...common, '-count=1', `-run=${runPattern(t.name)}`, t.pkg],
        { cwd: o.cwd, env: o.env, inheritEnv: false, check: false, timeoutMs: 30 * 60_000 },
      );
      const rerun = parseTestEvents(again.stdout, paths).tests.find((x) => x.name === t.name);
      if (rerun?.status === 'pass') {
        progress(`${t.name} (${t.pkg}) failed, then passed when run again alone (attempt ${attempt}): flaky`);
        for (const x of run.tests)
          if (
            x.pkg === t.pkg &&
            (x.name === t.name || x.name.startsWith(`${t.name}/`)) &&
            x.status === 'fail'
          )
            x.flaky = true;
        break;
      }
    }
  }
  return run;
}

function packageLine(p: PackageResult, tests: TestCase[]): string {
  const mine = tests.filter((t) => t.pkg === p.pkg);
  const failed = mine.filter((t) => t.status === 'fail').length;
  const word = p.buildFailed
    ? 'FAIL (build failed)'
    : p.status === 'fail'
      ? 'FAIL'
      : p.status === 'skip'
        ? '?   '
        : 'ok  ';
  return `${word} ${p.pkg} ${(p.elapsedMs / 1000).toFixed(2)}s  ${mine.length} tests${failed ? `, ${failed} failed` : ''}`;
}
