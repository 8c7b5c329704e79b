import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserError, inputError } from '../../../runner/errors.js';
import type { Inputs } from '../../../runner/inputs.js';
import * as workflow from '../../../runner/workflow.js';
import { versionFromImage } from '../../target.js';
import type { TargetContext, TargetPlugin } from '../plugin.js';
import { KubeClient, kubeconfigPath, loadKubeconfig } from './api.js';
import { autoscalersOf, pickDeployment, renderChart } from './helm.js';
import { KubernetesTarget } from './target.js';

/** Two Deployments and a Service in a Kubernetes namespace, through the API server. */
export const kubernetes: TargetPlugin = {
  name: 'kubernetes',
  inputs: [
    'kubeconfig',
    'context',
    'namespace',
    'manifest',
    'chart',
    'values',
    'deployment',
    'helm-version',
    'http-route',
    'service-port',
    'replicas',
    'resources',
    'preview-url',
  ],
  imageOptional: (inputs) => !!inputs.optional('chart'),
  // The kubeconfig is read (and the chart rendered) once the deploy starts.
  configure: (inputs, ctx) => () => kubernetesTarget(inputs, ctx),
};

const port = (inputs: Inputs, name: string) => inputs.int(name, { required: true, min: 1, max: 65535 })!;

/** `helm-version` names a Helm release tag, the version `go install` builds and `helm version` prints. */
function helmVersionOf(inputs: Inputs): string | undefined {
  const v = inputs.optional('helm-version');
  if (v !== undefined && !/^v3\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(v))
    throw inputError(
      'helm-version',
      v,
      'a Helm 3 release such as `v3.22.0`',
      'It is the version of helm.sh/helm/v3 go-ship builds.',
    );
  return v;
}

/** A chart directory or packaged chart (.tgz) in the workspace. */
function chartPath(chart: string, workspace: string): string {
  const p = resolve(workspace, chart);
  if (!existsSync(p))
    throw inputError(
      'chart',
      chart,
      'a chart directory (with Chart.yaml) or a packaged chart (.tgz) in the workspace',
      'For a chart in a repository, `helm pull` it in an earlier step.',
    );
  return p;
}

function valuesPath(file: string, workspace: string): string {
  const p = resolve(workspace, file);
  if (!existsSync(p))
    throw inputError('values', file, 'values files in the workspace, one per line (as helm --values)');
  return p;
}

/**
 * The kubeconfig from the `kubeconfig` input (YAML or base64), written with 0600 permissions for this
 * step only and removed by the post step, or the environment's (KUBECONFIG, ~/.kube/config).
 */
function kubeconfigFile(inputs: Inputs, env: NodeJS.ProcessEnv): string {
  const given = inputs.optional('kubeconfig');
  if (!given) {
    const found = kubeconfigPath(env);
    if (!found)
      throw new UserError(
        'No kubeconfig: set the `kubeconfig` input (e.g. `${{ secrets.KUBECONFIG }}`) or KUBECONFIG, or put one at ~/.kube/config.',
      );
    return found;
  }
  const text =
    /^[A-Za-z0-9+/=\s]+$/.test(given) && !given.includes(':')
      ? Buffer.from(given, 'base64').toString('utf8')
      : given;
  // Mask every secret in it before anything could print it.
  for (const m of text.matchAll(/^\s*(token|client-key-data|password):\s*(\S+)\s*$/gm))
    workflow.setSecret(m[2]);
  const dir = mkdtempSync(join(env.RUNNER_TEMP ?? tmpdir(), 'go-ship-kube-'));
  const file = join(dir, 'kubeconfig');
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
  workflow.saveState('kubeconfig-dir', dir);
  return file;
}

async function kubernetesTarget(
  inputs: Inputs,
  { app, workspace, config, env }: TargetContext,
): Promise<KubernetesTarget> {
  const manifestPath = inputs.optional('manifest');
  const chart = inputs.optional('chart');
  if (chart && manifestPath)
    throw new UserError(
      'Inputs `chart` and `manifest` are both set; give one: the chart renders the Deployment that `manifest` would hold.',
    );
  for (const name of ['values', 'deployment', 'helm-version'])
    if (!chart && inputs.optional(name))
      throw inputError(
        name,
        inputs.optional(name)!,
        'a value only with `chart`',
        'It configures the Helm chart go-ship renders.',
      );
  let manifest: Record<string, unknown> | undefined;
  if (manifestPath) {
    const p = resolve(workspace, manifestPath);
    if (!existsSync(p))
      throw inputError('manifest', manifestPath, 'a path to a Deployment YAML file in the workspace');
    try {
      manifest = parseYaml(readFileSync(p, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw inputError('manifest', manifestPath, `a YAML file (${(e as Error).message.split('\n')[0]})`);
    }
  }
  const resourcesText = inputs.optional('resources');
  let resources: Record<string, unknown> | undefined;
  if (resourcesText) {
    try {
      resources = parseYaml(resourcesText) as Record<string, unknown>;
    } catch {
      resources = undefined;
    }
    if (!resources || typeof resources !== 'object')
      throw inputError(
        'resources',
        resourcesText,
        'a YAML mapping such as `requests: {cpu: 100m, memory: 64Mi}`',
      );
  }
  const httpRoute = inputs.optional('http-route');
  if (httpRoute && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(httpRoute))
    throw inputError('http-route', httpRoute, 'the name of an HTTPRoute in the namespace (a DNS subdomain)');
  let replicas = inputs.int('replicas', { min: 1, max: 1000 });
  const conn = await loadKubeconfig(
    kubeconfigFile(inputs, env),
    inputs.optional('context'),
    inputs.optional('namespace'),
  );
  let objects: Record<string, unknown>[] | undefined;
  let selector: Record<string, string> | undefined;
  if (chart) {
    const rendered = pickDeployment(
      await renderChart({
        chart: chartPath(chart, workspace),
        values: inputs.lines('values').map((v) => valuesPath(v, workspace)),
        release: app,
        namespace: conn.namespace,
        helmVersion: helmVersionOf(inputs),
      }),
      chart,
      inputs.optional('deployment'),
    );
    manifest = rendered.deployment;
    objects = rendered.objects;
    const spec = manifest.spec as { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
    selector = spec.selector?.matchLabels;
    if (!selector || !Object.keys(selector).length)
      throw new UserError(
        `Input \`chart\`: the chart's Deployment ${String((manifest.metadata as { name?: string }).name)} has no spec.selector.matchLabels; go-ship selects its pods by them plus the colour.`,
      );
    // An autoscaled chart leaves replicas to its HPA: a new colour starts at the HPA's minimum.
    const hpaMin = autoscalersOf(objects, manifest).map(
      (h) => (h.spec as { minReplicas?: number }).minReplicas,
    )[0];
    replicas ??= spec.replicas ?? hpaMin;
    if (!config.release) {
      // The chart's own image (from its values), as the version it reports.
      const containers = ((manifest.spec as { template?: { spec?: { containers?: { image?: string }[] } } })
        .template?.spec?.containers ?? []) as { image?: string }[];
      const chartImage = containers[0]?.image;
      if (config.action === 'deploy') {
        if (!chartImage)
          throw new UserError("Input `image` is required: the chart's Deployment names no image either.");
        config.release = { image: chartImage, version: versionFromImage(chartImage) };
      }
    }
  }
  replicas ??= 2;
  if (config.strategy === 'canary' && !httpRoute && replicas < 2)
    throw inputError(
      'replicas',
      String(replicas),
      'at least 2 with strategy canary and no http-route',
      'Without a mesh the canary is a share of the pods: one stable and one canary pod at the least. Raise replicas, or set http-route to split by Gateway API weights.',
    );
  return new KubernetesTarget({
    app,
    namespace: conn.namespace,
    client: new KubeClient(conn),
    manifest,
    selector,
    objects,
    httpRoute,
    containerPort: port(inputs, 'container-port'),
    servicePort: port(inputs, 'service-port'),
    replicas,
    healthPath: config.health.path,
    resources,
    env: inputs.keyValues('env'),
    args: inputs.lines('args'),
    drainMs: config.drainMs,
    readyTimeoutMs: config.readyTimeoutMs,
    previewUrl: inputs.optional('preview-url'),
  });
}
