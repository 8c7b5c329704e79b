import { parse as parseYaml } from 'yaml';
import { DockerTarget, holderName } from '../../deploy/docker-target.js';
import { type DeployAction, type DeployConfig } from '../../deploy/engine.js';
import { KubeClient, kubeconfigPath, loadKubeconfig } from '../../deploy/kubernetes-api.js';
import { KubernetesTarget } from '../../deploy/kubernetes-target.js';
import { autoscalersOf, pickDeployment, renderChart } from '../../deploy/helm.js';
import { ContainerNginx, LocalNginx, NginxRouter } from '../../deploy/nginx.js';
import { type MetricGate, parseThreshold } from '../../deploy/prometheus.js';
import { type Target } from '../../deploy/target.js';
import { UserError, inputError } from '../../runner/errors.js';
import { Inputs, MAX_WAIT_MS, MAX_WAIT_TEXT, parseDuration } from '../../runner/inputs.js';
import * as workflow from '../../runner/workflow.js';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

export interface DeployInputs {
  config: DeployConfig;
  makeTarget: () => Promise<Target>;
}

const APP_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

/** A tag that names a version (`1.2.3`, `v1.2.3-rc.1`): what the new version will report. */
export function versionFromImage(image: string): string | undefined {
  const last = image.split('@')[0].split('/').at(-1) ?? '';
  const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : undefined;
  return tag && /^v?\d+(\.\d+){0,2}([-+][\w.-]+)?$/.test(tag) ? tag.replace(/^v/, '') : undefined;
}

export function getInputs(inputs = new Inputs(), env = process.env): DeployInputs {
  const action = inputs.oneOf('action', ['deploy', 'rollback', 'promote', 'status'] as const) ?? 'deploy';
  const targetKind = inputs.oneOf('target', ['docker', 'kubernetes'] as const) ?? 'docker';
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
  if (action === 'deploy' && !image && !(targetKind === 'kubernetes' && inputs.optional('chart')))
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
      onNoData: inputs.oneOf('on-no-data', ['fail', 'pass'] as const) ?? 'fail',
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
  const strategy = inputs.oneOf('strategy', ['blue-green', 'canary'] as const) ?? 'blue-green';
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
  };

  const workspace = resolve(env.GITHUB_WORKSPACE ?? process.cwd());
  if (targetKind === 'docker') {
    // Docker's inputs are checked now, before anything runs; Kubernetes' once the kubeconfig is read.
    const docker = dockerTarget(inputs, app, workspace, config.pullTimeoutMs);
    return { config, makeTarget: async () => docker };
  }
  return { config, makeTarget: () => kubernetesTarget(inputs, app, workspace, config, env) };
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

const port = (inputs: Inputs, name: string) => inputs.int(name, { required: true, min: 1, max: 65535 })!;

function dockerTarget(inputs: Inputs, app: string, workspace: string, pullTimeoutMs: number): DockerTarget {
  const upstreamFile = inputs.optional('nginx-upstream-file');
  if (!upstreamFile)
    throw new UserError(
      'Input `nginx-upstream-file` is required for target: docker: the file go-ship writes the upstream into, included by your nginx config inside `http { }` (e.g. /etc/nginx/conf.d/app-upstream.conf).',
    );
  const ports = { blue: port(inputs, 'blue-port'), green: port(inputs, 'green-port') };
  if (ports.blue === ports.green)
    throw inputError(
      'green-port',
      String(ports.green),
      `a port other than blue-port (${ports.blue})`,
      'Each colour needs its own port.',
    );
  const nginxConf = inputs.optional('nginx-conf');
  const nginxContainer = inputs.optional('nginx-container');
  // Paths on this machine are relative to the workspace; inside the nginx container they must be absolute.
  const file = (name: string, value: string) => {
    if (isAbsolute(value)) return value;
    if (nginxContainer)
      throw inputError(
        name,
        value,
        'an absolute path inside the nginx container',
        "With nginx-container, paths are the container's.",
      );
    return resolve(workspace, value);
  };
  const nginx = inputs.string('nginx', { required: true });
  const docker = inputs.string('docker', { required: true });
  const nginxPrefix = inputs.optional('nginx-prefix');
  return new DockerTarget({
    app,
    docker,
    ports,
    network: inputs.oneOf('network', ['bridge', 'host'] as const) ?? 'bridge',
    containerPort: port(inputs, 'container-port'),
    host: hostOf(inputs),
    env: inputs.keyValues('env'),
    args: inputs.lines('args'),
    pull: inputs.oneOf('pull', ['missing', 'always', 'never'] as const) ?? 'missing',
    pullTimeoutMs,
    router: new NginxRouter({
      upstreamFile: file('nginx-upstream-file', upstreamFile),
      upstreamName: upstreamNameOf(inputs, app),
      conf: nginxConf ? file('nginx-conf', nginxConf) : undefined,
      prefix: nginxPrefix ? file('nginx-prefix', nginxPrefix) : undefined,
      nginx,
      host: nginxContainer
        ? new ContainerNginx(docker, nginxContainer, nginx)
        : new LocalNginx(nginx, nginxConf ? file('nginx-conf', nginxConf) : undefined),
    }),
  });
}

/**
 * `host` goes into nginx's `server host:port;` and Docker's `--publish host:port:port`: a host name,
 * an IPv4 address or a bracketed IPv6 one, nothing that could end the line and add directives.
 */
function hostOf(inputs: Inputs): string {
  const v = inputs.string('host', { required: true });
  if (
    !/^([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$|^\[[0-9A-Fa-f:.]+\]$/.test(
      v,
    )
  )
    throw inputError('host', v, 'a host name or IP address where the colours are reached, e.g. `127.0.0.1`');
  return v;
}

/** `nginx-upstream` is written as `upstream NAME {`: one word, as nginx names it. */
function upstreamNameOf(inputs: Inputs, app: string): string {
  const v = inputs.optional('nginx-upstream') ?? app;
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(v))
    throw inputError('nginx-upstream', v, 'an upstream name: letters, digits, `_`, `.` and `-`');
  return v;
}

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
  app: string,
  workspace: string,
  config: DeployConfig,
  env: NodeJS.ProcessEnv,
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
