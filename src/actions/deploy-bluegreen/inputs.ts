import { type DeployAction, type DeployConfig } from '../../deploy/engine.js';
import { type MetricGate, parseThreshold } from '../../deploy/prometheus.js';
import type { Fleet } from '../../deploy/fleet.js';
import type { Hooks } from '../../deploy/hooks.js';
import { holderName, type Target, versionFromImage } from '../../deploy/target.js';
import { chooseTarget } from '../../deploy/targets/index.js';
import { UserError, inputError } from '../../runner/errors.js';
import { passedNames } from '../../runner/child-env.js';
import { splitCommandLine } from '../../runner/command.js';
import { Inputs, MAX_WAIT_MS, MAX_WAIT_TEXT, parseDuration } from '../../runner/inputs.js';
import { type NotifySettings, notifySettings } from '../../notify/notify.js';
import { resolve } from 'node:path';
import { DEFAULTS } from './defaults.js';

/** The events deploy-bluegreen tells (`notify-on`). */
export const DEPLOY_EVENTS = [
  'deploy-started',
  'deploy-succeeded',
  'deploy-failed',
  'rolled-back',
  'canary-step',
] as const;

export interface DeployInputs {
  config: DeployConfig;
  notify: NotifySettings;
  /** For GitHub Deployments of `environment`; empty skips them. */
  githubToken?: string;
  /** One target, or a fleet the engine rolls out in batches (target: hosts). */
  makeTarget: () => Promise<Target | Fleet>;
}

const APP_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export function getInputs(inputs = new Inputs(process.env, DEFAULTS), env = process.env): DeployInputs {
  const action = inputs.oneOf('action', ['deploy', 'rollback', 'promote', 'status'] as const, {
    required: true,
  });
  const target = chooseTarget(inputs);
  const app = inputs.string('app', { required: true });
  if (!APP_NAME.test(app))
    throw inputError(
      'app',
      app,
      'lower-case letters, digits, `_`, `.` and `-`, starting with a letter or digit (at most 63)',
      'It names the containers (<app>-blue, <app>-green) and the nginx upstream.',
    );
  const image = inputs.optional('image');
  // A chart names its image itself (its values); go-ship takes it from the rendered Deployment.
  if (action === 'deploy' && !image && !target.imageOptional?.(inputs))
    throw new UserError(
      "Input `image` is required for action: deploy. Set it to the image to ship, e.g. docker-multistage's `image` output with a tag.",
    );
  const to = inputs.optional('to');
  if (to && action !== 'rollback')
    throw inputError('to', to, 'a version with action: rollback', `action is \`${action}\`.`);
  const url = inputs.optional('url');
  if (action !== 'status' && !url)
    throw new UserError(
      `Input \`url\` is required for action: ${action}: the public entry (nginx) that go-ship probes after the switch, e.g. http://127.0.0.1:8080.`,
    );
  if (url && !/^https?:\/\/[^/]+/.test(url))
    throw inputError(
      'url',
      url,
      'an http:// or https:// URL of the public entry',
      'For example http://127.0.0.1:8080.',
    );
  const version = (inputs.optional('version') ?? (image ? versionFromImage(image) : undefined))?.replace(
    /^v/,
    '',
  );

  const path = (name: string): string => {
    const v = inputs.string(name);
    if (!v.startsWith('/')) throw inputError(name, v, 'a path starting with `/`');
    return v;
  };
  const bodyText = inputs.optional('health-body');
  let body: RegExp | undefined;
  try {
    body = bodyText ? new RegExp(bodyText) : undefined;
  } catch (e) {
    throw inputError('health-body', bodyText!, `a regular expression (${(e as Error).message})`);
  }
  const ms = (name: string): number => inputs.duration(name, { required: true })!;

  let gate: MetricGate | undefined;
  const promUrl = inputs.optional('prometheus-url');
  const query = inputs.optional('query');
  if (promUrl || query) {
    if (!promUrl || !query)
      throw new UserError(
        `The metric gate needs both \`prometheus-url\` and \`query\` (got only \`${promUrl ? 'prometheus-url' : 'query'}\`), plus \`threshold\`.`,
      );
    const threshold = inputs.optional('threshold');
    if (!threshold)
      throw new UserError(
        'Input `threshold` is required with `query`: a comparison such as `< 0.01` that every sample must satisfy.',
      );
    gate = {
      url: promUrl,
      query,
      ...parseThreshold('threshold', threshold),
      onNoData: inputs.oneOf('on-no-data', ['fail', 'pass'] as const, { required: true }),
      timeoutMs: 10_000,
    };
  }

  const keepOldText = inputs.string('keep-old');
  const keepOld = keepOldText === 'forever' ? 'forever' : parseDuration(keepOldText);
  if (keepOld === undefined || (keepOld !== 'forever' && keepOld > MAX_WAIT_MS))
    throw inputError(
      'keep-old',
      keepOldText,
      `a duration such as \`0\`, \`30s\` or \`10m\` (at most ${MAX_WAIT_TEXT}), or \`forever\``,
    );

  const verifySeconds = inputs.int('verify-seconds', { required: true, min: 0, max: 3600 })!;
  const strategy = inputs.oneOf('strategy', ['blue-green', 'canary'] as const, { required: true });
  const steps = canarySteps(inputs.string('steps'));
  const config: DeployConfig = {
    action: action as DeployAction,
    app,
    release: image ? { image, version } : undefined,
    url: (url ?? '').replace(/\/$/, ''),
    health: {
      path: path('health-path'),
      status: inputs.int('health-status', { required: true, min: 100, max: 599 })!,
      body,
      successes: inputs.int('health-successes', { required: true, min: 1, max: 100 })!,
      intervalMs: ms('health-interval'),
      timeoutMs: ms('health-timeout'),
    },
    versionPath: path('version-path'),
    versionHeader: inputs.string('version-header', { required: true }),
    gate,
    autoPromote: inputs.boolean('auto-promote'),
    strategy,
    steps,
    stepMs: ms('step-duration'),
    readyTimeoutMs: ms('ready-timeout'),
    confirmTimeoutMs: ms('confirm-timeout'),
    verifyMs: verifySeconds * 1000,
    keepOldMs: keepOld,
    drainMs: ms('drain'),
    lockTimeoutMs: ms('lock-timeout'),
    lockTtlMs: ms('lock-ttl'),
    pullTimeoutMs: ms('pull-timeout'),
    holder: holderName(env),
    dryRun: inputs.boolean('dry-run'),
    rollbackTo: to?.replace(/^v(?=\d)/, ''),
    hooks: deployHooks(inputs, ms('hook-timeout')),
  };

  const workspace = resolve(env.GITHUB_WORKSPACE ?? process.cwd());
  return {
    config,
    notify: notifySettings(inputs, DEPLOY_EVENTS),
    githubToken: inputs.optional('github-token'),
    makeTarget: target.configure(inputs, { app, workspace, config, env }),
  };
}

/** `10,50,100`: whole percentages, rising, ending at 100 (the full switch). */
function canarySteps(text: string): number[] {
  const steps = text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);
  const ok =
    steps.length > 0 &&
    steps.every((p, i) => Number.isInteger(p) && p >= 1 && p <= 100 && (i === 0 || p > steps[i - 1])) &&
    steps.at(-1) === 100;
  if (!ok)
    throw inputError(
      'steps',
      text,
      'rising whole percentages of new requests, ending at 100, e.g. `10,50,100`',
      'Each step below 100 is judged for step-duration; 100 is the full switch, verified as blue-green verifies it.',
    );
  return steps;
}

/** before-traffic and after-switch, when either is set. */
function deployHooks(inputs: Inputs, timeoutMs: number): Hooks | undefined {
  const before = inputs.optional('before-traffic');
  const afterSwitch = inputs.optional('after-switch');
  if (!before && !afterSwitch) return undefined;
  if (timeoutMs < 1_000 || timeoutMs > MAX_WAIT_MS)
    throw inputError('hook-timeout', inputs.string('hook-timeout'), `a duration from 1s to ${MAX_WAIT_TEXT}`);
  let beforeTraffic: string[] | undefined;
  if (before) {
    try {
      beforeTraffic = splitCommandLine(before.replace(/\n/g, ' '));
    } catch (e) {
      throw inputError('before-traffic', before, `words split as a shell would (${(e as Error).message})`);
    }
    if (!beforeTraffic.length)
      throw inputError(
        'before-traffic',
        before,
        'the arguments the new version runs with once, e.g. `migrate up`',
      );
  }
  const afterSwitchEnv = passedNames('after-switch-env', inputs.list('after-switch-env'), 'SMOKE_API_KEY');
  return { beforeTraffic, afterSwitch, afterSwitchEnv, timeoutMs };
}
