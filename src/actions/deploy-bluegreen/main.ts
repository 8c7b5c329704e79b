import { type DeployConfig, DeployFailure, type DeployResult, Engine } from '../../deploy/engine.js';
import { Announcer } from '../../deploy/announce.js';
import { type Fleet, type FleetResult, runFleet } from '../../deploy/fleet.js';
import { DeploymentLog } from '../../github/deployments.js';
import { writeSummary } from '../../runner/action.js';
import { UserError } from '../../runner/errors.js';
import * as workflow from '../../runner/workflow.js';
import { getInputs } from './inputs.js';
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
  workflow.setOutput('image', r.liveImage ?? '');
  workflow.setOutput('image-digest', r.liveDigest ?? '');
  workflow.setOutput('healthy', r.liveHealthy === undefined ? '' : String(r.liveHealthy));
}

export async function run(): Promise<void> {
  const { config, notify, githubToken, makeTarget } = getInputs();
  const target = await makeTarget();
  const announce = new Announcer(config, notify, DeploymentLog.fromEnv(githubToken));
  await announce.started();
  if ('members' in target) return runOnFleet(config, announce, target);
  let result: DeployResult;
  try {
    result = await new Engine(config, target, { onCanaryStep: (p) => announce.canaryStep(p) }).run();
  } catch (e) {
    if (!(e instanceof DeployFailure)) throw e;
    setOutputs(config, e.result);
    await writeSummary(renderSummary(config, e.result));
    // The version that failed, not the one left live.
    await announce.ended(e.result.outcome, config.release?.version, e.result.error ?? e.message);
    throw e;
  }
  setOutputs(config, result);
  await writeSummary(renderSummary(config, result));
  await announce.ended(result.outcome, liveVersion(result) ?? config.release?.version, result.error);
}

/** target: hosts: the rollout over the fleet, its outputs and a summary per server. */
async function runOnFleet(config: DeployConfig, announce: Announcer, fleet: Fleet): Promise<void> {
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
  if (result.outcome === 'status') setFleetStatus(result);
  await writeSummary(renderFleetSummary(config, result));
  await announce.ended(result.outcome, config.release?.version ?? config.rollbackTo, result.error);
  if (result.error) throw new UserError(result.error);
}

/**
 * status over a fleet: the version every server runs live (empty when they differ), whether every
 * server's live version answered, and the sha256 of the binaries they run (one line per distinct
 * binary: one per platform when all run the same release), what a promotion checks its build against.
 */
function setFleetStatus(result: FleetResult): void {
  const lives = result.members.map((m) => m.result);
  const versions = new Set(lives.map((r) => (r?.live ? r.version : undefined)));
  const all = lives.every((r) => r?.live);
  workflow.setOutput('version', all && versions.size === 1 ? ([...versions][0] ?? '') : '');
  workflow.setOutput('healthy', all ? String(lives.every((r) => r?.liveHealthy)) : '');
  const shas = new Set(lives.map((r) => r?.liveDigest?.replace(/^sha256:/, '')).filter((d) => !!d));
  workflow.setOutput('binary-sha256', all ? [...shas].sort().join('\n') : '');
}

/** The post step: the kubeconfig written from the input does not outlive the job. */
export async function post(): Promise<void> {
  const dir = workflow.getState('kubeconfig-dir');
  if (dir) rmSync(dir, { recursive: true, force: true });
}
