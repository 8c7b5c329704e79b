import { parseAllDocuments } from 'yaml';
import { goTool } from '../../../go/tools.js';
import { CommandError, runCommand } from '../../../runner/command.js';
import { UserError, inputError } from '../../../runner/errors.js';
import { log } from '../../../runner/log.js';

type Obj = Record<string, unknown>;

/** Helm built from the module proxy when none is on PATH (and no other version is asked for). */
export const HELM_VERSION = 'v3.22.0';

/** What go-ship deploys from a chart: its Deployment as the colours, and everything else as it is. */
export interface ChartManifests {
  deployment: Obj;
  objects: Obj[];
}

const nameOf = (o: Obj) => `${String(o.kind)} ${String((o.metadata as Obj | undefined)?.name ?? '?')}`;

/**
 * `helm template <app> <chart>` with the values files, in the namespace, tests left out. Helm runs
 * with an argument array; the chart's own hooks are not objects to apply (go-ship does not run Helm's
 * release lifecycle), so they are left out with a warning that names them.
 */
export async function renderChart(o: {
  chart: string;
  values: string[];
  release: string;
  namespace: string;
  helmVersion?: string;
}): Promise<Obj[]> {
  const helm = await goTool({
    pkg: 'helm.sh/helm/v3/cmd/helm',
    version: o.helmVersion ?? HELM_VERSION,
    // Only a Helm that was not asked for by version may come from PATH.
    probe: o.helmVersion ? ['version', '--short', '--client'] : ['version', '--short'],
    expect: o.helmVersion
      ? new RegExp(`^${o.helmVersion.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\+`)
      : /^v[34]\./,
    neededFor: 'Input `chart`',
    fix: 'render the chart yourself and pass its Deployment as `manifest`',
  });
  const args = ['template', o.release, o.chart, '--namespace', o.namespace, '--skip-tests'];
  for (const v of o.values) args.push('--values', v);
  let out: string;
  try {
    out = (await runCommand(helm, args, { timeoutMs: 5 * 60_000 })).stdout;
  } catch (e) {
    if (!(e instanceof CommandError)) throw e;
    throw new UserError(
      `Input \`chart\`: Helm could not render ${o.chart}: ${(e.result.stderr || e.result.stdout).trim().split('\n').slice(-5).join(' ')}`,
    );
  }
  const objects: Obj[] = [];
  const hooks: string[] = [];
  for (const doc of parseAllDocuments(out)) {
    const obj = doc.toJS() as Obj | null;
    if (!obj || typeof obj !== 'object' || !obj.kind) continue;
    const ann = ((obj.metadata as Obj | undefined)?.annotations ?? {}) as Record<string, string>;
    if (ann['helm.sh/hook']) hooks.push(`${nameOf(obj)} (${ann['helm.sh/hook']})`);
    else objects.push(obj);
  }
  if (hooks.length)
    log.warning(
      `The chart's hooks are not applied (go-ship applies objects, it does not run Helm's release lifecycle): ${hooks.join(', ')}.`,
    );
  return objects;
}

/**
 * The chart's Deployment go-ship deploys as the colours: the only one, or the one `deployment`
 * names. Zero, several without a choice, or an unknown name are refused with the names there are.
 */
export function pickDeployment(objects: Obj[], chart: string, name?: string): ChartManifests {
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  const names = deployments.map((d) => String((d.metadata as Obj).name));
  const listed = names.length ? names.join(', ') : 'none';
  let deployment: Obj | undefined;
  if (name) {
    deployment = deployments.find((d) => (d.metadata as Obj).name === name);
    if (!deployment)
      throw inputError('deployment', name, `the name of one of the chart's Deployments: ${listed}`);
  } else if (deployments.length === 1) {
    deployment = deployments[0];
  } else if (deployments.length === 0) {
    throw new UserError(
      `Input \`chart\`: ${chart} renders no Deployment (it has ${objects.map(nameOf).join(', ') || 'no objects'}). go-ship deploys a chart's Deployment as the blue and green colours; give a chart with one.`,
    );
  } else {
    throw new UserError(
      `Input \`chart\`: ${chart} renders ${deployments.length} Deployments (${listed}); set \`deployment\` to the one go-ship deploys as the colours. The others are applied as they are.`,
    );
  }
  return { deployment, objects: objects.filter((o) => o !== deployment) };
}

/**
 * The chart's HorizontalPodAutoscalers that scale `deployment` (helm create's, with
 * autoscaling.enabled): go-ship points them at the live colour, since the chart's Deployment itself
 * is never created.
 */
export function autoscalersOf(objects: Obj[], deployment: Obj): Obj[] {
  const name = (deployment.metadata as Obj | undefined)?.name;
  return objects.filter((o) => {
    const ref = (o.spec as { scaleTargetRef?: { kind?: string; name?: string } } | undefined)?.scaleTargetRef;
    return o.kind === 'HorizontalPodAutoscaler' && ref?.kind === 'Deployment' && ref.name === name;
  });
}
