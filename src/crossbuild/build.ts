import { mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { runCommand, CommandError } from '../runner/command.js';
import { UserError } from '../runner/errors.js';
import type { Target } from '../go/targets.js';
import type { GitFacts } from './source.js';
import { sha256 } from '../runner/digest.js';
import { formatBytes, formatDuration } from '../runner/log.js';
import { DEFAULT_VARIANTS, renderTemplate, type TemplateFields } from './template.js';

export interface MainPackage {
  /** As given (`./cmd/tool`), and as Go names it (`example.com/m/cmd/tool`). */
  pattern: string;
  importPath: string;
  binary: string;
  /** Its own name per target, when the name is a template of the target (`hello-{{ .Os }}`). */
  binaryFor?: (target: Target) => string;
  /** The targets it is built for, when not every target of the run (GoReleaser builds per OS). */
  targets?: string[];
}

/** The packages built for `target`. */
export const packagesFor = (packages: MainPackage[], target: Target) =>
  packages.filter((p) => !p.targets || p.targets.includes(target.name));

/** The -ldflags a build gets when none are given (build-matrix, docker-multistage's go mode). */
export const DEFAULT_LDFLAGS =
  '-X main.version={{.Version}} -X main.commit={{.Commit}} -X main.date={{.CommitDate}}';

/** How every binary is built: the flags a user sets (build-matrix's inputs of the same names). */
export interface BuildFlags {
  ldflags: string;
  tags: string[];
  env: Record<string, string>;
  /** CGO_ENABLED; undefined leaves it to Go (a GoReleaser config that does not set it). */
  cgo?: boolean;
  trimpath: boolean;
  strip: boolean;
  /** Other `go build` flags, as they are (a GoReleaser config's `flags`: -mod=readonly, -buildvcs=false). */
  flags?: string[];
}

/** What every build of one run shares: the source, the flags and the version stamped into binaries. */
export interface BuildSpec extends BuildFlags {
  dir: string;
  packages: MainPackage[];
  version: string;
  commit: string;
  /** git's abbreviation of the commit, for {{.ShortCommit}} (GoReleaser runs `git rev-parse --short`). */
  shortCommit: string;
  /** The commit time: build date in ldflags and mtime in archives, so rebuilds are identical. */
  commitTime: number;
  /** For templates: `.ProjectName`, `.Tag`, `.IsSnapshot`. */
  project?: string;
  tag?: string;
  snapshot?: boolean;
  /** GoReleaser's git fields (`.Branch`, `.PreviousTag`, `.Summary`, ...). */
  git?: GitFacts;
  /** The run builds one target: GoReleaser's `.IsSingleTarget`. */
  singleTarget?: boolean;
}

/** A spec with every template field set, for checking and rendering templates before anything is built. */
export const UNBUILT_SPEC: BuildSpec = {
  dir: '',
  packages: [],
  ldflags: '',
  tags: [],
  env: {},
  cgo: false,
  trimpath: false,
  strip: false,
  version: '0.0.0',
  commit: '',
  shortCommit: '',
  commitTime: 0,
};

export interface BuiltBinary {
  target: Target;
  pkg: MainPackage;
  file: string;
  name: string;
  size: number;
  sha256: string;
  ms: number;
}

export interface BuildFailure {
  target: Target;
  pkg: MainPackage;
  command: string;
  output: string;
}

/** `go build` names a binary after the last element of the import path that is not a /vN suffix. */
export function binaryNameOf(importPath: string): string {
  const parts = importPath.split('/');
  const last = parts.at(-1)!;
  return /^v[2-9]\d*$/.test(last) && parts.length > 1 ? parts.at(-2)! : last;
}

/**
 * Resolves the `packages` input with `go list`: every entry must be a main package (a library would
 * build to nothing). Errors name the package and what it is.
 */
export async function resolvePackages(
  dir: string,
  patterns: string[],
  binaryName?: string,
): Promise<MainPackage[]> {
  // -find: the names are all this needs, and not resolving the imports halves the time `go list`
  // holds back the first build (an import that does not resolve fails that build, with go's words).
  const r = await runCommand('go', ['list', '-find', '-f', '{{.Name}} {{.ImportPath}}', ...patterns], {
    cwd: dir,
    check: false,
  });
  if (r.code !== 0)
    throw new UserError(
      `Input \`packages\` got \`${patterns.join(', ')}\`; \`go list\` refused it:\n${r.stderr.trim().split('\n').slice(-5).join('\n')}\nIt accepts Go package patterns of main packages, relative to working-directory (e.g. \`.\` or \`./cmd/server\`).`,
    );
  const listed = r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' '));
  const notMain = listed.filter(([name]) => name !== 'main');
  if (notMain.length) {
    const mains = await mainPackages(dir);
    throw new UserError(
      `Input \`packages\`: ${notMain.map(([name, path]) => `${path} is package ${name}`).join('; ')}, not a main package, so it builds no binary. List the command packages (\`package main\` with \`func main\`)${mains.length ? `; this module has ${mains.map((m) => `\`${m}\``).join(', ')}` : ', e.g. `./cmd/...`'}.`,
    );
  }
  if (binaryName && listed.length > 1)
    throw new UserError(
      `Input \`binary-name\` is \`${binaryName}\`, but \`packages\` has ${listed.length} main packages; each binary needs its own name. Leave binary-name empty to name each after its package.`,
    );
  const out = listed.map(([, importPath], i) => ({
    pattern: patterns[Math.min(i, patterns.length - 1)],
    // A `.go` file (GoReleaser's `main: ./main.go`) is go's command-line-arguments package: built by
    // naming the file, as `go build ./main.go` does.
    importPath:
      importPath === 'command-line-arguments' ? patterns[Math.min(i, patterns.length - 1)] : importPath,
    binary: binaryName || binaryNameOf(importPath),
  }));
  const dup = out.find((p, i) => out.findIndex((q) => q.binary === p.binary) !== i);
  if (dup)
    throw new UserError(
      `Two main packages would both build a binary called \`${dup.binary}\` (${out
        .filter((p) => p.binary === dup.binary)
        .map((p) => p.importPath)
        .join(', ')}); rename one of the directories.`,
    );
  return out;
}

/**
 * The module's main packages as `./dir` patterns (`.` for the root), from `go list` over `./...`:
 * what to build when nothing says which (a module whose command lives in `cmd/app`).
 */
export async function mainPackages(dir: string): Promise<string[]> {
  const r = await runCommand('go', ['list', '-e', '-f', '{{if eq .Name "main"}}{{.Dir}}{{end}}', './...'], {
    cwd: dir,
    check: false,
  });
  if (r.code !== 0) return [];
  const base = realpathSync(dir); // go list prints real paths
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((d) => relative(base, d).split(sep).join('/'))
    .map((rel) => (rel ? `./${rel}` : '.'));
}

/**
 * GoReleaser's template fields (internal/tmpl) for a build or an archive of `target`. `.Date` and
 * `.Timestamp` are the commit's, not the clock's: the same commit builds the same bytes anywhere.
 * `.Target` keeps go-ship's `os/arch` spelling.
 */
export function templateFields(spec: BuildSpec, target?: Target): TemplateFields {
  const date = new Date(spec.commitTime * 1000).toISOString().replace('.000Z', 'Z');
  const [, major = '0', minor = '0', patch = '0', pre = ''] =
    /^(\d+)\.(\d+)\.(\d+)(?:-([^+]*))?/.exec(spec.version) ?? [];
  const variant = target ? (target.variant ?? DEFAULT_VARIANTS[target.goarch] ?? '') : '';
  const of = (...arches: string[]) => (target && arches.includes(target.goarch) ? variant : '');
  return {
    ProjectName: spec.project ?? '',
    Version: spec.version,
    RawVersion: `${major}.${minor}.${patch}`,
    Tag: spec.tag || 'v0.0.0',
    Commit: spec.commit,
    FullCommit: spec.commit,
    ShortCommit: spec.shortCommit,
    CommitDate: date,
    CommitTimestamp: spec.commitTime,
    Date: date,
    Timestamp: spec.commitTime,
    Major: Number(major),
    Minor: Number(minor),
    Patch: Number(patch),
    Prerelease: pre,
    IsSnapshot: spec.snapshot ?? false,
    Env: envFields({ ...process.env, ...spec.env }),
    Target: target?.name ?? '',
    Os: target?.goos ?? '',
    Arch: target?.goarch ?? '',
    Amd64: of('amd64'),
    I386: of('386'),
    Arm: of('arm'),
    Arm64: of('arm64'),
    Mips: of('mips', 'mipsle', 'mips64', 'mips64le'),
    Ppc64: of('ppc64', 'ppc64le'),
    Riscv64: of('riscv64'),
    // The rest of GoReleaser OSS's documented fields (customization/templates). `.Now` is the commit
    // time too, not the clock: a template that prints it keeps the build reproducible.
    IsRelease: !(spec.snapshot ?? false),
    IsNightly: false,
    IsDraft: false,
    IsSingleTarget: spec.singleTarget ?? false,
    IsGitDirty: spec.git?.dirty ?? false,
    IsGitClean: !(spec.git?.dirty ?? false),
    GitTreeState: spec.git?.dirty ? 'dirty' : 'clean',
    Branch: spec.git?.branch ?? '',
    PreviousTag: spec.git?.previousTag ?? '',
    Summary: spec.git?.summary ?? '',
    GitURL: spec.git?.url ?? '',
    TagSubject: spec.git?.tagSubject ?? '',
    TagContents: spec.git?.tagContents ?? '',
    TagBody: spec.git?.tagBody ?? '',
    ModulePath: spec.git?.modulePath ?? '',
    Now: date,
    Runtime: {
      Goos: process.platform === 'win32' ? 'windows' : process.platform,
      Goarch: goarchOf(process.arch),
    },
  };
}

/** Node's process.arch in Go's spelling (`.Runtime.Goarch`). */
function goarchOf(arch: string): string {
  return ({ x64: 'amd64', ia32: '386', arm: 'arm', arm64: 'arm64' } as Record<string, string>)[arch] ?? arch;
}

const envFields = (env: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));

/** The `go build` arguments and environment of one binary; no shell, ldflags is one argument. */
function buildCommand(spec: BuildSpec, target: Target, pkg: MainPackage, file: string) {
  const ldflags = [
    spec.strip ? '-s -w' : '',
    renderTemplate('ldflags', spec.ldflags, templateFields(spec, target)),
  ]
    .filter(Boolean)
    .join(' ');
  const args = [
    'build',
    '-o',
    file,
    ...(spec.trimpath ? ['-trimpath'] : []),
    ...(spec.tags.length ? ['-tags', spec.tags.join(',')] : []),
    ...(ldflags ? ['-ldflags', ldflags] : []),
    ...(spec.flags ?? []).map((f) => renderTemplate('flags', f, templateFields(spec, target))),
    pkg.importPath,
  ];
  const env = {
    ...spec.env,
    ...target.env,
    ...(spec.cgo === undefined ? {} : { CGO_ENABLED: spec.cgo ? '1' : '0' }),
  };
  return { args, env };
}

/**
 * Builds every package for every target, `parallelism` `go build`s at a time (they share the build
 * cache; compiling one target overlaps linking another). A failing target does not stop the others;
 * all failures come back together.
 */
export async function buildAll(
  spec: BuildSpec,
  targets: Target[],
  outDir: string,
  parallelism: number,
  /** `data`: a built binary's bytes, read once here for its sha256 and handed on (to its archive). */
  onDone: (result: BuiltBinary | BuildFailure, done: number, total: number, data?: Buffer) => void,
): Promise<{ built: BuiltBinary[]; failed: BuildFailure[] }> {
  const jobs = targets.flatMap((target) =>
    packagesFor(spec.packages, target).map((pkg) => ({ target, pkg })),
  );
  const built: BuiltBinary[] = [];
  const failed: BuildFailure[] = [];
  let next = 0;
  let done = 0;
  const finishing: Promise<void>[] = [];
  const worker = async () => {
    while (next < jobs.length) {
      const { target, pkg } = jobs[next++];
      const name = `${pkg.binaryFor?.(target) ?? pkg.binary}${target.goos === 'windows' ? '.exe' : ''}`;
      const dir = join(outDir, target.id);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, name);
      const { args, env } = buildCommand(spec, target, pkg, file);
      const started = Date.now();
      const failure = await runCommand('go', args, { cwd: spec.dir, env }).then(
        () => undefined,
        (e: unknown) => e,
      );
      const ms = Date.now() - started;
      // The next `go build` starts first: reading and hashing this binary (and onDone's archive)
      // on Node's one thread would otherwise hold it back by 20-30 ms on every handover.
      const finish = afterThisTurn(() => {
        let result: BuiltBinary | BuildFailure;
        let data: Buffer | undefined;
        if (failure === undefined) {
          data = readFileSync(file);
          result = { target, pkg, file, name, size: data.length, sha256: sha256(data), ms };
          built.push(result);
        } else {
          if (!(failure instanceof CommandError)) throw failure;
          result = {
            target,
            pkg,
            command: failure.result.display,
            output: (failure.result.stderr || failure.result.stdout).trim(),
          };
          failed.push(result);
        }
        onDone(result, ++done, jobs.length, data);
      });
      finish.catch(() => undefined); // awaited below
      finishing.push(finish);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallelism, jobs.length)) }, worker));
  await Promise.all(finishing);
  const order = (t: Target) => targets.indexOf(t);
  built.sort((a, b) => order(a.target) - order(b.target) || a.name.localeCompare(b.name));
  return { built, failed };
}

/** Runs `fn` once the code running now has yielded (a `setImmediate`), and settles with it. */
function afterThisTurn(fn: () => void): Promise<void> {
  return new Promise((resolve, reject) =>
    setImmediate(() => {
      try {
        fn();
        resolve();
      } catch (e) {
        reject(e);
      }
    }),
  );
}

/** The progress line of one finished build: `[2/5] ✓ linux/arm64 app 6.05 MB in 330ms`. */
export function builtLine(r: BuiltBinary, done: number, total: number): string {
  return `[${done}/${total}] ✓ ${r.target.name} ${r.name} ${formatBytes(r.size)} in ${formatDuration(r.ms)}`;
}

/** The first `n` failed builds, each its command and the head of its output, for an error message. */
export function failureDetails(failed: BuildFailure[], n: number): string {
  return failed
    .slice(0, n)
    .map((f) => `--- ${f.target.name}: ${f.command}\n${f.output.split('\n').slice(0, 15).join('\n')}`)
    .join('\n');
}
