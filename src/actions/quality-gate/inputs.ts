import { inputError } from '../../runner/errors.js';
import { Inputs } from '../../runner/inputs.js';
import { splitCommandLine } from '../../runner/command.js';
import { eventPayload } from '../../runner/workflow.js';
import { DEFAULTS } from './defaults.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  const testEnv = inputs.list('test-env');
  const badName = testEnv.find((n) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n));
  if (badName)
    throw inputError('test-env', inputs.string('test-env'), 'environment variable names, comma-separated');
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
