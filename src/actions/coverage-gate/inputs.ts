import { inputError } from '../../runner/errors.js';
import { type NotifySettings, notifySettings } from '../../notify/notify.js';
import { GlobSet } from '../../runner/glob.js';
import { Inputs } from '../../runner/inputs.js';
import { DEFAULTS } from './defaults.js';
import { join } from 'node:path';

/** Thresholds in tenths of a percent (80 → 800), so every comparison is on integers. */
export interface Config {
  notify: NotifySettings;
  workspace: string;
  profiles: string[];
  expectedProfiles?: number;
  thresholdTotal?: number;
  thresholdPackage?: number;
  thresholdFile?: number;
  fileOverrides: { glob: GlobSet; pattern: string; tenths: number }[];
  thresholdPatch?: number;
  exclude: string[];
  excludeGenerated: boolean;
  baseRef?: string;
  annotate: boolean;
  reportFile: string;
  comment: boolean;
  /** A report-file from an earlier run whose comment this run posts (the fork-safe workflow_run). */
  commentFrom?: string;
  githubToken: string;
  baseline?: { kind: 'file'; path: string } | { kind: 'artifact'; name: string };
  maxDrop?: number;
  badge?: string;
  /** quality-gate's report-file, whose tests the comment shows. */
  testResults?: string;
}

function threshold(name: string, value: string): number {
  if (!/^\d+(\.\d)?$/.test(value) || Number(value) > 100)
    throw inputError(
      name,
      value,
      'a percentage from 0 to 100 with at most one decimal (e.g. `80` or `72.5`)',
    );
  return Math.round(Number(value) * 10);
}

export function getInputs(inputs = new Inputs(process.env, DEFAULTS), env = process.env): Config {
  const workspace = inputs.workingDirectory(env);
  const optThreshold = (name: string) => {
    const v = inputs.optional(name);
    return v === undefined ? undefined : threshold(name, v);
  };
  let thresholdFile: number | undefined;
  const fileOverrides: Config['fileOverrides'] = [];
  for (const line of inputs.lines('threshold-file')) {
    const m = /^(.+?)\s*:\s*(\S+)$/.exec(line);
    if (m)
      fileOverrides.push({
        glob: new GlobSet([m[1]]),
        pattern: m[1],
        tenths: threshold('threshold-file', m[2]),
      });
    else if (thresholdFile === undefined) thresholdFile = threshold('threshold-file', line);
    else
      throw inputError(
        'threshold-file',
        line,
        'one default percentage and `glob: percentage` override lines',
      );
  }
  // On pull requests the base branch is known; elsewhere patch coverage needs base-ref.
  const baseRef =
    inputs.optional('base-ref') ?? (env.GITHUB_BASE_REF ? `origin/${env.GITHUB_BASE_REF}` : undefined);
  const baselineText = inputs.optional('baseline');
  const artifact = baselineText && /^artifact:(.+)$/.exec(baselineText);
  if (artifact && !/^[\w.-]+$/.test(artifact[1].trim()))
    throw inputError(
      'baseline',
      baselineText!,
      'a file path or `artifact:NAME` (letters, digits, `.`, `_`, `-`)',
    );
  const baseline: Config['baseline'] = artifact
    ? { kind: 'artifact', name: artifact[1].trim() }
    : baselineText
      ? { kind: 'file', path: inputs.fileToRead('baseline', workspace)! }
      : undefined;
  const maxDrop = optThreshold('max-drop');
  if (maxDrop !== undefined && !baseline)
    throw inputError(
      'max-drop',
      inputs.string('max-drop'),
      'a number of percentage points',
      'It compares with the base branch: set `baseline` too (a report-file path or `artifact:NAME`).',
    );
  return {
    notify: notifySettings(inputs, ['coverage-failed'] as const, { environment: false }),
    workspace,
    profiles: inputs.lines('profiles'),
    expectedProfiles: inputs.int('expected-profiles', { min: 1 }),
    thresholdTotal: optThreshold('threshold-total'),
    thresholdPackage: optThreshold('threshold-package'),
    thresholdFile,
    fileOverrides,
    thresholdPatch: optThreshold('threshold-patch'),
    exclude: inputs.lines('exclude'),
    excludeGenerated: inputs.boolean('exclude-generated'),
    baseRef,
    annotate: inputs.boolean('annotate'),
    reportFile: inputs.pathToWrite(
      'report-file',
      workspace,
      'file',
      join(env.RUNNER_TEMP ?? workspace, 'coverage-report.json'),
    )!,
    comment: inputs.boolean('comment'),
    commentFrom: inputs.fileToRead('comment-from', workspace),
    githubToken: inputs.optional('github-token') ?? '',
    baseline,
    maxDrop,
    badge: inputs.pathToWrite('badge', workspace, 'file'),
    testResults: inputs.fileToRead('test-results', workspace),
  };
}
