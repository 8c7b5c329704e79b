import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { readActionMetadata, type ActionMetadata } from '../runner/action-metadata.js';
import { UserError } from '../runner/errors.js';
import { parseKeyValueFile, parsePathFile } from './file-commands.js';
import { Inputs } from '../runner/inputs.js';
import { actionsIn, findProjectConfig, projectSection } from '../runner/project-config.js';
import { suggest } from '../runner/suggest.js';

export interface LocalRunOptions {
  /** Directory holding action.yml. */
  actionDir: string;
  with: Record<string, string>;
  /** Extra environment, applied last (it can override anything the runner sets). */
  env?: Record<string, string>;
  workspace?: string;
  /** Node binary for the step (default: the one running go-ship). */
  node?: string;
  /** Each line the step prints, tagged with the stream and step phase. */
  onLine?: (line: string, phase: StepPhase, stream: 'stdout' | 'stderr') => void;
  /**
   * A command run after main and before post, as a later workflow step would be: in the workspace,
   * with the environment and PATH the action exported. Its output is tagged phase `then`.
   */
  then?: string[];
}

export type StepPhase = 'pre' | 'main' | 'then' | 'post';

export interface PhaseResult {
  phase: StepPhase;
  exitCode: number;
  durationMs: number;
}

export interface LocalRunResult {
  action: string;
  exitCode: number;
  phases: PhaseResult[];
  outputs: Record<string, string>;
  /** Variables exported through GITHUB_ENV (what later steps would see). */
  exportedEnv: Record<string, string>;
  /** Directories added through GITHUB_PATH, in the order they end up on PATH. */
  addedPath: string[];
  state: Record<string, string>;
  summary: string;
}

/**
 * Runs a JavaScript action the way the Actions runner does: every declared input becomes `INPUT_*`
 * (given value or action.yml default), each phase gets fresh GITHUB_OUTPUT / GITHUB_ENV / GITHUB_PATH /
 * GITHUB_STATE / GITHUB_STEP_SUMMARY files, state saved by main reaches post as `STATE_*`, and
 * GITHUB_ENV / GITHUB_PATH changes carry into the post phase as they would into later steps.
 */
export async function runLocalAction(opts: LocalRunOptions): Promise<LocalRunResult> {
  const actionFile = ['action.yml', 'action.yaml']
    .map((f) => join(opts.actionDir, f))
    .find((f) => existsSync(f));
  if (!actionFile) throw new UserError(`No action.yml in ${opts.actionDir}.`);
  const meta = readActionMetadata(actionFile);
  const workspace = resolve(opts.workspace ?? process.cwd());
  if (!existsSync(workspace)) throw new UserError(`--workspace ${workspace} does not exist.`);
  const context = githubContext(workspace);
  // `.go-ship.yml` counts as given (so a required input may live there); --with wins over it.
  const projectFile = findProjectConfig(workspace);
  const project = projectFile
    ? projectSection(
        projectFile,
        actionsIn(dirname(resolve(opts.actionDir))),
        basename(opts.actionDir),
        opts.with?.environment,
      )
    : {};
  const inputEnv = resolveInputs(
    meta,
    basename(opts.actionDir),
    { ...project, ...opts.with },
    { ...context, ...opts.env },
  );

  // Inputs travel as environment variables, as on the runner; Linux refuses any one over 128 KiB
  // (spawn E2BIG). Say which input is too big instead.
  for (const [key, value] of Object.entries(inputEnv))
    if (Buffer.byteLength(key) + Buffer.byteLength(value) + 2 > MAX_ENV_STRING)
      throw new UserError(
        `Input \`${key.slice('INPUT_'.length).toLowerCase()}\` is ${Buffer.byteLength(value).toLocaleString('en')} bytes; inputs are passed as environment variables, which the system limits to ${MAX_ENV_STRING.toLocaleString('en')} bytes each. Put the value in a file and pass its path.`,
      );
  const tmp = mkdtempSync(join(tmpdir(), 'go-ship-run-'));
  const runnerTemp = join(tmp, 'runner-temp');
  mkdirSync(runnerTemp);
  const baseEnv: Record<string, string> = {
    ...stringEnv(process.env),
    ...context,
    ...inputEnv,
    // What --with gave, so the action's own reading of .go-ship.yml does not replace a value given
    // at the input's default (it cannot tell such a value from an absent one).
    GO_SHIP_GIVEN_INPUTS: Object.entries(opts.with)
      .filter(([, v]) => v !== '')
      .map(([k]) => k)
      .join(','),
    RUNNER_TEMP: runnerTemp,
    RUNNER_TOOL_CACHE: process.env.RUNNER_TOOL_CACHE ?? join(homedir(), '.cache', 'go-ship', 'tool-cache'),
    ...opts.env,
  };
  const result: LocalRunResult = {
    action: meta.name,
    exitCode: 0,
    phases: [],
    outputs: {},
    exportedEnv: {},
    addedPath: [],
    state: {},
    summary: '',
  };
  try {
    const phases: [StepPhase, string | undefined][] = [
      ['pre', meta.runs.pre],
      ['main', meta.runs.main],
      ['then', opts.then?.length ? 'then' : undefined],
      ['post', meta.runs.post],
    ];
    for (const [phase, entry] of phases) {
      if (!entry) continue;
      if (phase === 'then') {
        if (result.exitCode !== 0) continue;
        const env: Record<string, string> = { ...baseEnv, ...result.exportedEnv };
        env.PATH = [...result.addedPath, baseEnv.PATH ?? ''].join(delimiter);
        const started = Date.now();
        const [file, ...args] = opts.then!;
        const exitCode = await runProgram(file, args, workspace, env, (l, s) => opts.onLine?.(l, phase, s));
        result.phases.push({ phase, exitCode, durationMs: Date.now() - started });
        if (exitCode !== 0) result.exitCode = exitCode;
        continue;
      }
      if (phase === 'post' && result.exitCode !== 0 && !/always\(\)/.test(meta.runs['post-if'] ?? 'always()'))
        continue;
      if (phase === 'main' && result.exitCode !== 0) break;
      const files = freshFiles(tmp, phase);
      const env: Record<string, string> = { ...baseEnv, ...result.exportedEnv, ...files };
      env.PATH = [...result.addedPath, baseEnv.PATH ?? ''].join(delimiter);
      for (const [k, v] of Object.entries(result.state)) env[`STATE_${k}`] = v;
      const started = Date.now();
      const exitCode = await runNode(
        opts.node ?? process.execPath,
        join(opts.actionDir, entry),
        workspace,
        env,
        (l, s) => opts.onLine?.(l, phase, s),
      );
      result.phases.push({ phase, exitCode, durationMs: Date.now() - started });
      if (exitCode !== 0 && result.exitCode === 0) result.exitCode = exitCode;
      if (phase !== 'post')
        Object.assign(result.outputs, parseKeyValueFile(readFileSync(files.GITHUB_OUTPUT, 'utf8')));
      Object.assign(result.exportedEnv, parseKeyValueFile(readFileSync(files.GITHUB_ENV, 'utf8')));
      Object.assign(result.state, parseKeyValueFile(readFileSync(files.GITHUB_STATE, 'utf8')));
      result.addedPath.unshift(...parsePathFile(readFileSync(files.GITHUB_PATH, 'utf8')).reverse());
      result.summary += readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8');
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return result;
}

/** Builds INPUT_* from given values and defaults; rejects unknown and missing required inputs. */
function resolveInputs(
  meta: ActionMetadata,
  actionName: string,
  given: Record<string, string>,
  context: Record<string, string | undefined>,
): Record<string, string> {
  const valid = Object.keys(meta.inputs);
  for (const name of Object.keys(given)) {
    if (!(name in meta.inputs)) {
      const near = suggest(name, valid, 1)[0];
      throw new UserError(
        `Unknown input \`${name}\` for ${actionName}.${near ? ` Did you mean \`${near}\`?` : ''} Valid inputs: ${valid.join(', ') || '(none)'}.`,
      );
    }
  }
  const env: Record<string, string> = {};
  const missing: string[] = [];
  for (const [name, spec] of Object.entries(meta.inputs)) {
    const value =
      name in given
        ? given[name]
        : spec.default !== undefined
          ? evaluateDefault(name, spec.default, context)
          : undefined;
    if (value === undefined || value === '') {
      if (spec.required && !(name in given)) missing.push(name);
      if (value === undefined) continue;
    }
    env[Inputs.envName(name)] = value;
  }
  if (missing.length) {
    throw new UserError(
      `${actionName} needs ${missing.map((m) => `\`${m}\``).join(', ')}: pass ${missing.map((m) => `--with ${m}=VALUE`).join(' ')}.`,
    );
  }
  return env;
}

/** Defaults may use `${{ github.* }}`, `${{ runner.* }}` or `${{ env.* }}`; the CLI evaluates those. */
function evaluateDefault(input: string, value: string, context: Record<string, string | undefined>): string {
  return value.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, expr: string) => {
    const m = /^(github|runner|env)\.([A-Za-z_][\w]*)$/.exec(expr);
    if (!m)
      throw new UserError(
        `The default of input \`${input}\` uses \`\${{ ${expr} }}\`, which the CLI cannot evaluate; pass --with ${input}=VALUE.`,
      );
    const [, scope, key] = m;
    const name = scope === 'env' ? key : `${scope.toUpperCase()}_${key.toUpperCase()}`;
    return context[name] ?? (scope === 'github' && key === 'token' ? (context.GITHUB_TOKEN ?? '') : '');
  });
}

function freshFiles(tmp: string, phase: StepPhase): Record<string, string> {
  const dir = join(tmp, phase);
  mkdirSync(dir);
  const files: Record<string, string> = {};
  for (const name of ['GITHUB_OUTPUT', 'GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY']) {
    files[name] = join(dir, name.toLowerCase());
    writeFileSync(files[name], '');
  }
  return files;
}

function runNode(
  node: string,
  entry: string,
  cwd: string,
  env: Record<string, string>,
  onLine: (line: string, stream: 'stdout' | 'stderr') => void,
): Promise<number> {
  if (!existsSync(entry))
    throw new UserError(`The action's entry ${entry} does not exist; run \`npm run bundle\`.`);
  return runProgram(node, [entry], cwd, env, onLine);
}

/** Runs a program without a shell, passing its output on line by line; resolves to its exit code. */
/**
 * Each input fits, but together with the environment they pass what the system hands a program
 * (ARG_MAX, about 2 MiB on Linux): say so, with the biggest inputs, instead of `spawn E2BIG`.
 */
function tooBig(env: Record<string, string>): UserError {
  const inputs = Object.entries(env)
    .filter(([k]) => k.startsWith('INPUT_'))
    .map(([k, v]) => [k.slice('INPUT_'.length).toLowerCase(), Buffer.byteLength(v)] as const)
    .sort((a, b) => b[1] - a[1]);
  const total = Object.entries(env).reduce(
    (t, [k, v]) => t + Buffer.byteLength(k) + Buffer.byteLength(v) + 2,
    0,
  );
  return new UserError(
    `The inputs and environment add up to ${total.toLocaleString('en')} bytes, more than the system passes to a program (E2BIG). The biggest inputs: ${inputs
      .slice(0, 3)
      .map(([n, b]) => `\`${n}\` ${b.toLocaleString('en')} bytes`)
      .join(', ')}. Put large values in files and pass their paths.`,
  );
}

function runProgram(
  file: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
  onLine: (line: string, stream: 'stdout' | 'stderr') => void,
): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      return reject((e as NodeJS.ErrnoException).code === 'E2BIG' ? tooBig(env) : e);
    }
    for (const stream of ['stdout', 'stderr'] as const) {
      let pending = '';
      child[stream]!.on('data', (b: Buffer) => {
        pending += b.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) onLine(line, stream);
      });
      child[stream]!.on('end', () => pending && onLine(pending, stream));
    }
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'ENOENT' ? new UserError(`\`${file}\` was not found on PATH (${env.PATH}).`) : e),
    );
    child.on('close', (code, signal) => resolvePromise(code ?? (signal ? 128 : 1)));
  });
}

/** Linux's MAX_ARG_STRLEN: the longest single `NAME=value` an exec accepts. */
const MAX_ENV_STRING = 128 * 1024;

/** GITHUB_* context read from the local checkout, so actions see what they would see on GitHub. */
export function githubContext(workspace: string): Record<string, string> {
  const git = (...args: string[]): string => {
    try {
      return gitOutput(workspace, args);
    } catch {
      return '';
    }
  };
  const sha = git('rev-parse', 'HEAD');
  const branch = git('symbolic-ref', '--short', '-q', 'HEAD');
  const tag = branch ? '' : git('describe', '--tags', '--exact-match');
  const remote = git('remote', 'get-url', 'origin');
  const repo = /[:/]([^/:]+\/[^/]+?)(?:\.git)?\/?$/.exec(remote)?.[1] ?? `local/${basename(workspace)}`;
  const server = githubServerOf(remote);
  return {
    GITHUB_WORKSPACE: workspace,
    GITHUB_REPOSITORY: repo,
    GITHUB_REPOSITORY_OWNER: repo.split('/')[0],
    GITHUB_SHA: sha,
    GITHUB_REF: branch ? `refs/heads/${branch}` : tag ? `refs/tags/${tag}` : '',
    GITHUB_REF_NAME: branch || tag,
    GITHUB_REF_TYPE: tag ? 'tag' : 'branch',
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    // Only a GitHub remote makes a GitHub context: links built from it must lead somewhere. Empty,
    // not absent, so an outer job's values do not leak in.
    GITHUB_SERVER_URL: server?.web ?? '',
    GITHUB_API_URL: server?.api ?? '',
    GITHUB_RUN_ID: String(Date.now()),
    GITHUB_RUN_NUMBER: '1',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_ACTOR: process.env.USER ?? 'local',
    GITHUB_JOB: 'local',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: process.arch === 'arm64' ? 'ARM64' : 'X64',
    RUNNER_NAME: 'go-ship-local',
    RUNNER_ENVIRONMENT: 'self-hosted',
  };
}

/**
 * The GitHub server a remote lives on: github.com, or the GHES host that GITHUB_SERVER_URL names.
 * Undefined for any other forge (GitLab, Gitea, a bare path).
 */
export function githubServerOf(remote: string, env = process.env): { web: string; api: string } | undefined {
  const host = /^(?:[a-z+]+:\/\/)?(?:[^@/]+@)?([^/:]+)[:/]/i.exec(remote)?.[1]?.toLowerCase();
  if (!host) return undefined;
  if (host === 'github.com') return { web: 'https://github.com', api: 'https://api.github.com' };
  const ghes = env.GITHUB_SERVER_URL ? URL.parse(env.GITHUB_SERVER_URL) : null;
  if (ghes && ghes.host.toLowerCase() === host)
    return { web: ghes.origin, api: env.GITHUB_API_URL ?? `${ghes.origin}/api/v3` };
  return undefined;
}

function gitOutput(cwd: string, args: string[]): string {
  // Synchronous on purpose: the context is read once, before the step starts.
  return execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
    .toString()
    .trim();
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    // A go-ship run inside a GitHub job must not leak the outer step's inputs or files into this one.
    if (
      v !== undefined &&
      !k.startsWith('INPUT_') &&
      !k.startsWith('STATE_') &&
      !/^GITHUB_(OUTPUT|ENV|PATH|STATE|STEP_SUMMARY)$/.test(k)
    )
      out[k] = v;
  }
  return out;
}
