import { type DeployConfig, DeployFailure, type DeployResult, Engine } from '../../deploy/engine.js';
import { type Fleet, type FleetResult, runFleet } from '../../deploy/fleet.js';
import { writeSummary } from '../../runner/action.js';
import { UserError } from '../../runner/errors.js';
import { formatDuration } from '../../runner/log.js';
import * as workflow from '../../runner/workflow.js';
import { getInputs } from './inputs.js';
import { type NotifySettings, tell } from '../../notify/notify.js';
import { renderFleetSummary, renderSummary } from './summary.js';
import { rmSync } from 'node:fs';

/** The version that has the traffic once the step is over. */
function liveVersion(r: DeployResult): string | undefined {
  switch (r.outcome) {
    case 'switched':
    case 'unchanged':
      return r.version;
    case 'status':
      return r.live && r.state ? r.state.colors[r.live].version : undefined;
    default:
      return r.previousVersion;
  }
}

function setOutputs(config: DeployConfig, r: DeployResult): void {
  workflow.setOutput('live-color', r.live ?? '');
  workflow.setOutput('previous-color', r.previous ?? '');
  workflow.setOutput('url', config.url);
  workflow.setOutput('rolled-back', String(r.rolledBack));
  workflow.setOutput('outcome', r.outcome);
  workflow.setOutput('version', liveVersion(r) ?? '');
}

/**
 * What people are told when a deploy, promotion or rollback ends: the outcome read as an event,
 * with the reason when it failed. A dry run, a status read or nothing to do tells no one.
 */
function outcomeNotice(
  config: DeployConfig,
  outcome: string,
  version: string | undefined,
  error: string | undefined,
): Parameters<typeof tell>[1] | undefined {
  const base = { subject: config.app, version: version ? `v${version}` : undefined, url: config.url };
  if (outcome === 'switched')
    return config.action === 'rollback'
      ? { ...base, event: 'rolled-back', detail: 'Rolled back on request.' }
      : { ...base, event: 'deploy-succeeded' };
  if (outcome === 'rolled-back') return { ...base, event: 'rolled-back', detail: error };
  if (outcome === 'failed') return { ...base, event: 'deploy-failed', detail: error };
  return undefined;
}

/** Tells `notify`'s channels that the run started, for the actions that change what is live. */
async function tellStart(config: DeployConfig, notify: NotifySettings): Promise<void> {
  if (config.action === 'status' || config.dryRun) return;
  const version = config.release?.version ?? config.rollbackTo;
  await tell(notify, {
    event: 'deploy-started',
    subject: config.app,
    version: version ? `v${version}` : undefined,
    detail: config.action === 'deploy' ? undefined : `action: ${config.action}`,
  });
}

async function tellEnd(config: DeployConfig, notify: NotifySettings, r: DeployResult): Promise<void> {
  const n = outcomeNotice(config, r.outcome, liveVersion(r) ?? config.release?.version, r.error);
  if (n && !config.dryRun) await tell(notify, n);
}

export async function run(): Promise<void> {
  const { config, notify, makeTarget } = getInputs();
  const target = await makeTarget();
  await tellStart(config, notify);
  if ('members' in target) return runOnFleet(config, notify, target);
  let result: DeployResult;
  try {
    result = await new Engine(config, target, {
      onCanaryStep: (percent) =>
        tell(notify, {
          event: 'canary-step',
          subject: config.app,
          version: config.release?.version ? `v${config.release.version}` : undefined,
          detail: `Takes ${percent}% of new requests and held its checks for ${formatDuration(config.stepMs)}.`,
          url: config.url,
        }),
    }).run();
  } catch (e) {
    if (!(e instanceof DeployFailure)) throw e;
    setOutputs(config, e.result);
    await writeSummary(renderSummary(config, e.result));
    // The version that failed, not the one left live.
    const n = outcomeNotice(config, e.result.outcome, config.release?.version, e.result.error ?? e.message);
    if (n && !config.dryRun) await tell(notify, n);
    throw e;
  }
  setOutputs(config, result);
  await writeSummary(renderSummary(config, result));
  await tellEnd(config, notify, result);
}

/** target: hosts: the rollout over the fleet, its outputs and a summary per server. */
async function runOnFleet(config: DeployConfig, notify: NotifySettings, fleet: Fleet): Promise<void> {
  let result: FleetResult;
  try {
    result = await runFleet(config, fleet);
  } finally {
    await fleet.close();
  }
  workflow.setOutput('url', config.url);
  workflow.setOutput('outcome', result.outcome);
  workflow.setOutput('rolled-back', String(result.outcome === 'rolled-back'));
  const live = result.members.map((m) => m.result).find((r) => r?.live);
  workflow.setOutput('live-color', live?.live ?? '');
  workflow.setOutput('previous-color', live?.previous ?? '');
  workflow.setOutput(
    'version',
    result.outcome === 'switched' || result.outcome === 'unchanged' ? (config.release?.version ?? '') : '',
  );
  workflow.setOutput('bytes-sent', String(result.members.reduce((n, m) => n + (m.sent ?? 0), 0)));
  await writeSummary(renderFleetSummary(config, result));
  const n = outcomeNotice(config, result.outcome, config.release?.version ?? config.rollbackTo, result.error);
  if (n && !config.dryRun) await tell(notify, n);
  if (result.error) throw new UserError(result.error);
}

/** The post step: the kubeconfig written from the input does not outlive the job. */
export async function post(): Promise<void> {
  const dir = workflow.getState('kubeconfig-dir');
  if (dir) rmSync(dir, { recursive: true, force: true });
}
