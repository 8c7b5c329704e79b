import { parseRules } from '../../release/commits.js';
import { type NotifySettings, notifySettings } from '../../notify/notify.js';
import { BUMPS, type Bump, type SemVer, parseVersion } from '../../release/semver.js';
import { inputError } from '../../runner/errors.js';
import { GlobSet } from '../../runner/glob.js';
import { Inputs } from '../../runner/inputs.js';
import { DEFAULTS } from './defaults.js';

export interface Config {
  notify: NotifySettings;
  workspace: string;
  /** Whether the user set working-directory (errors about the workspace mention it only then). */
  workingDirectorySet: boolean;
  remote: string;
  rules: Record<string, Bump>;
  defaultBump: Bump;
  initialVersion: SemVer;
  majorZeroBreaking: 'minor' | 'major';
  releaseBranches: string[];
  prereleaseBranches: { glob: GlobSet; pattern: string; id: string }[];
  labels: boolean;
  /** Create the GitHub Release: published, or a draft that build-matrix publishes with its assets. */
  createRelease: 'true' | 'false' | 'draft';
  sign: boolean;
  majorTag: boolean;
  apiCheck: boolean;
  dryRun: boolean;
  maxAttempts: number;
  githubToken: string;
}

export function getInputs(inputs = new Inputs(process.env, DEFAULTS), env = process.env): Config {
  const workspace = inputs.workingDirectory(env);
  const initialText = inputs.string('initial-version');
  const initialVersion = parseVersion(initialText);
  if (!initialVersion || initialVersion.pre.length)
    throw inputError(
      'initial-version',
      initialText,
      'a stable Go module version such as `v0.1.0` or `v1.0.0` (with the `v`)',
    );
  const prereleaseBranches = inputs.lines('prerelease-branches').map((line) => {
    const m = /^(.+?)\s*:\s*([0-9A-Za-z-]+)$/.exec(line);
    if (!m)
      throw inputError(
        'prerelease-branches',
        line,
        'lines `branch-glob: identifier` (e.g. `next: rc`, `beta/*: beta`)',
      );
    return { glob: new GlobSet([m[1]]), pattern: m[1], id: m[2] };
  });
  return {
    notify: notifySettings(inputs, ['release-published'] as const, { environment: false }),
    workspace,
    workingDirectorySet: inputs.isSet('working-directory'),
    remote: inputs.string('remote'),
    rules: parseRules(inputs.lines('bump-rules')),
    defaultBump: inputs.oneOf('default-bump', BUMPS, { required: true }),
    initialVersion,
    majorZeroBreaking: inputs.oneOf('major-zero-breaking', ['minor', 'major'] as const, { required: true }),
    releaseBranches: inputs.lines('release-branches'),
    prereleaseBranches,
    labels: inputs.boolean('labels'),
    createRelease: inputs.oneOf('create-release', ['true', 'false', 'draft'] as const, { required: true }),
    sign: inputs.boolean('sign'),
    majorTag: inputs.boolean('major-tag'),
    apiCheck: inputs.boolean('api-check'),
    dryRun: inputs.boolean('dry-run'),
    maxAttempts: inputs.int('max-attempts', { required: true, min: 1, max: 20 })!,
    githubToken: inputs.optional('github-token') ?? '',
  };
}
