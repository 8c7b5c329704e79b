import { passedNames } from '../../runner/child-env.js';
import { inputError } from '../../runner/errors.js';
import { Inputs, checkPathToWrite } from '../../runner/inputs.js';
import { splitCommandLine } from '../../runner/command.js';
import { eventPayload } from '../../runner/workflow.js';
import { DEFAULTS } from './defaults.js';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const CHECKS = ['lint', 'test'] as const;
export type Check = (typeof CHECKS)[number];

export interface Config {
  workspace: string;
  checks: Check[];
  packages: string[];
  testFlags: string[];
  race: 'auto' | 'true' | 'false';
  coverprofile?: string;
  retries: number;
  failOnFlaky: boolean;
  /** undefined: golangci-lint is off. */
  golangciLintVersion?: string;
  baseRef?: string;
  annotate: boolean;
  testEnv: string[];
  junitFile: string;
  sarifFile: string;
  reportFile: string;
  /** The step's temporary folder (golangci-lint's lock file). */
  scratch: string;
}

/** Flags go-ship sets itself: given in test-flags they would fight its own (or break -json). */
const OWN_FLAGS = /^--?(json|race|coverprofile|covermode|o|c|exec)(=|$)/;
/** `go test` flags that name a file or folder go test writes: held to the rules of every path a step writes. */
const WRITING_FLAGS =
  /^--?(?:test\.)?(cpuprofile|memprofile|blockprofile|mutexprofile|trace|outputdir)(?:=(.*))?$/;

/**
 * The files test-flags makes go test write, each checked as a path to write: relative ones land in
 * `-outputdir` (default: the working directory), as go test puts them.
 */
function checkWritingFlags(flags: string[], workspace: string, shown: string): void {
  const named: { flag: string; value: string }[] = [];
  for (let i = 0; i < flags.length; i++) {
    const m = WRITING_FLAGS.exec(flags[i]);
    if (!m) continue;
    const value = m[2] ?? flags[++i];
    if (value === undefined || value === '')
      throw inputError(
        'test-flags',
        shown,
        'go test flags',
        `\`${flags[i - 1] ?? flags[i]}\` needs a path after it.`,
      );
    named.push({ flag: m[1], value });
  }
  const outputdir = named.find((n) => n.flag === 'outputdir');
  const base = outputdir
    ? checkWritable(resolve(workspace, outputdir.value), workspace, 'folder', outputdir, shown)
    : workspace;
  for (const n of named)
    if (n !== outputdir) checkWritable(resolve(base, n.value), workspace, 'file', n, shown);
}

function checkWritable(
  path: string,
  workspace: string,
  kind: 'file' | 'folder',
  n: { flag: string; value: string },
  shown: string,
): string {
  return checkPathToWrite(path, workspace, kind, (why) =>
    inputError(
      'test-flags',
      shown,
      `go test flags whose files are inside the workspace, RUNNER_TEMP or the temp folder`,
      `\`-${n.flag}\`: ${why}.`,
    ),
  );
}

export function getInputs(inputs = new Inputs(process.env, DEFAULTS), env = process.env): Config {
  const workspace = inputs.workingDirectory(env);
  const checks = inputs.list('checks');
  for (const c of checks)
    if (!(CHECKS as readonly string[]).includes(c))
      throw inputError(
        'checks',
        inputs.string('checks'),
        '`lint`, `test` or both (comma- or newline-separated)',
      );
  if (!checks.length) throw inputError('checks', '', '`lint`, `test` or both');
  const testFlags = splitCommandLine(inputs.optional('test-flags') ?? '');
  const own = testFlags.find((f) => OWN_FLAGS.test(f));
  if (own)
    throw inputError(
      'test-flags',
      inputs.string('test-flags'),
      'flags for `go test` other than the ones go-ship sets',
      `\`${own}\` is go-ship's own: use the \`race\` and \`coverprofile\` inputs; -json is always on.`,
    );
  checkWritingFlags(testFlags, workspace, inputs.optional('test-flags') ?? '');
  const version = inputs.string('golangci-lint-version');
  if (version !== 'off' && !/^v2\.\d+\.\d+$/.test(version))
    throw inputError(
      'golangci-lint-version',
      version,
      'a golangci-lint v2 release such as `v2.15.0`, or `off`',
      /^v?1\./.test(version)
        ? 'golangci-lint v1 is no longer supported upstream: move to v2 (`golangci-lint migrate` converts its config).'
        : undefined,
    );
  const temp = join(env.RUNNER_TEMP ?? tmpdir(), 'go-ship-quality');
  const testEnv = passedNames('test-env', inputs.list('test-env'), 'DATABASE_URL');
  return {
    workspace,
    checks: CHECKS.filter((c) => checks.includes(c)),
    packages: inputs.lines('packages'),
    testFlags,
    race: inputs.oneOf('race', ['auto', 'true', 'false'] as const, { required: true }),
    coverprofile: inputs.pathToWrite('coverprofile', workspace, 'file'),
    retries: inputs.int('retries', { required: true, min: 0, max: 5 })!,
    failOnFlaky: inputs.boolean('fail-on-flaky'),
    golangciLintVersion: version === 'off' ? undefined : version,
    baseRef: inputs.optional('base-ref') ?? defaultBase(env),
    annotate: inputs.boolean('annotate'),
    testEnv,
    junitFile: inputs.pathToWrite('junit-file', workspace, 'file', join(temp, 'junit.xml'))!,
    sarifFile: inputs.pathToWrite('sarif-file', workspace, 'file', join(temp, 'lint.sarif'))!,
    scratch: join(temp, 'tmp'),
    reportFile: inputs.pathToWrite('report-file', workspace, 'file', join(temp, 'quality.json'))!,
  };
}

/**
 * What a change is compared with when base-ref is not given: a pull request's base branch, or the
 * commit a push moved the branch from (as golangci-lint-action's only-new-issues does); none elsewhere.
 */
function defaultBase(env: NodeJS.ProcessEnv): string | undefined {
  if (env.GITHUB_BASE_REF) return `origin/${env.GITHUB_BASE_REF}`;
  if (env.GITHUB_EVENT_NAME !== 'push') return undefined;
  const before = eventPayload(env).before;
  return typeof before === 'string' && /^[0-9a-f]{40}$/.test(before) && !/^0+$/.test(before)
    ? before
    : undefined;
}
