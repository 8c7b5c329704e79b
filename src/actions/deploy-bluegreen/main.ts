import { type DeployConfig, DeployFailure, type DeployResult, Engine } from '../../deploy/engine.js';
import { writeSummary } from '../../runner/action.js';
import * as workflow from '../../runner/workflow.js';
import { getInputs } from './inputs.js';
import { renderSummary } from './summary.js';
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

export async function run(): Promise<void> {
  const { config, makeTarget } = getInputs();
  const target = await makeTarget();
  let result: DeployResult;
  try {
    result = await new Engine(config, target).run();
  } catch (e) {
    if (!(e instanceof DeployFailure)) throw e;
    setOutputs(config, e.result);
    await writeSummary(renderSummary(config, e.result));
    throw e;
  }
  setOutputs(config, result);
  await writeSummary(renderSummary(config, result));
}

/** The post step: the kubeconfig written from the input does not outlive the job. */
export async function post(): Promise<void> {
  const dir = workflow.getState('kubeconfig-dir');
  if (dir) rmSync(dir, { recursive: true, force: true });
}
