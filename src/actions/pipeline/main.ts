import { dirname, resolve } from 'node:path';
import { pipelineRequest, runPipeline } from '../../pipeline/pipeline.js';
import { promote } from '../../pipeline/environments.js';
import type { PipelineEvent, PipelineSecrets } from '../../pipeline/stages.js';
import { writeSummary } from '../../runner/action.js';
import { inputError, UserError } from '../../runner/errors.js';
import { Inputs } from '../../runner/inputs.js';
import { DEFAULTS } from './defaults.js';
import { Summary } from '../../runner/summary.js';
import * as workflow from '../../runner/workflow.js';

/** pull_request(_target) is checked and built; a push releases; anything else is treated as a check. */
function eventOf(name: string | undefined): PipelineEvent {
  return name === 'push' ? 'push' : 'pull_request';
}

/**
 * The root action (`uses: org/go-ship@v1`): the stages for the event at hand, each run by the same
 * action bundles as the individual actions. The workflow's context (GITHUB_*) is passed to every
 * stage as is, and their lines are printed unchanged so the runner sees their masks and annotations.
 */
export async function run(): Promise<void> {
  const inputs = new Inputs(process.env, DEFAULTS);
  const { workspace, event, skip, passEnv } = pipelineRequest(
    inputs,
    process.env.GITHUB_WORKSPACE ?? process.cwd(),
    eventOf(process.env.GITHUB_EVENT_NAME),
  );
  const context = Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] => e[1] !== undefined && /^(GITHUB_|RUNNER_|ACTIONS_)/.test(e[0]),
    ),
  );
  for (const k of ['GITHUB_OUTPUT', 'GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY'])
    delete context[k];
  // Secrets come only as inputs (from the workflow's `secrets`), are masked before anything runs,
  // and go only to the stage that needs each.
  const secret = (name: string) => {
    const v = inputs.optional(name);
    if (v) workflow.setSecret(v);
    return v;
  };
  const secrets = {
    githubToken: secret('github-token'),
    registryUsername: inputs.optional('registry-username'),
    registryPassword: secret('registry-password'),
    kubeconfig: secret('kubeconfig'),
    sshKey: secret('ssh-key'),
    notify: secret('notify'),
  };
  const promotion = inputs.optional('promote');
  if (promotion) return promoteStep(inputs, promotion, workspace, context, secrets);
  const results = await runPipeline({
    secrets,
    root: resolve(dirname(process.argv[1]), '..', '..'),
    workspace,
    event,
    skip,
    passEnv,
    env: context,
    onStage: (stage, state) => {
      if (state === 'start') workflow.info(`▶ ${stage}`);
    },
    // A stage's own output carries its masks and annotations up; what the pipeline runs itself
    // (go test) is outside text.
    onLine: (line, _stage, phase) => (phase === 'run' ? workflow.info(line) : workflow.relay(line)),
  });
  const summary = new Summary().heading(`go-ship pipeline (${event})`);
  summary.table(
    ['Stage', 'Result', 'Took'],
    results.map((r) => [
      r.stage,
      `${r.status === 'passed' ? '✅' : r.status === 'failed' ? '❌' : '–'} ${r.detail}`,
      r.status === 'skipped' ? '' : `${(r.ms / 1000).toFixed(1)}s`,
    ]),
  );
  for (const r of results) if (r.summary.trim()) summary.paragraph(r.summary.trim());
  await writeSummary(summary);
  const out = (stage: string, key: string) => results.find((r) => r.stage === stage)?.outputs[key] ?? '';
  workflow.setOutput('version', out('tag', 'version'));
  workflow.setOutput('image', out('image', 'image'));
  workflow.setOutput('live-color', out('deploy', 'live-color'));
  const failed = results.find((r) => r.status === 'failed');
  if (failed)
    throw new UserError(`Stage \`${failed.stage}\` failed (${failed.detail}); later stages did not run.`);
}

/** `promote: FROM TO`: one environment's live release, by digest, to the next. */
async function promoteStep(
  inputs: Inputs,
  promotion: string,
  workspace: string,
  env: Record<string, string>,
  secrets: PipelineSecrets,
): Promise<void> {
  const words = promotion.split(/\s+|->|→/).filter(Boolean);
  if (words.length !== 2)
    throw inputError(
      'promote',
      promotion,
      'two environment names, FROM and TO',
      'For example `staging production`.',
    );
  const r = await promote({
    root: resolve(dirname(process.argv[1]), '..', '..'),
    workspace,
    from: words[0],
    to: words[1],
    version: inputs.optional('promote-version'),
    build: inputs.optional('promote-build') && resolve(workspace, inputs.optional('promote-build')!),
    secrets,
    env,
    onLine: (line) => workflow.relay(line),
  });
  await writeSummary(new Summary().paragraph(r.summary.trim()));
  workflow.setOutput('promoted-digest', r.digest ?? '');
  workflow.setOutput('version', r.version ?? '');
  if (!r.passed) throw new UserError(r.reason ?? `Promotion ${words[0]} → ${words[1]} failed.`);
}
