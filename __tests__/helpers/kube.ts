import { quietly } from './quiet.js';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { KubeClient, loadKubeconfig } from '../../src/deploy/targets/kubernetes/api.js';
import { runAction } from './cli.js';
import { freePort } from './net.js';

/** Where scripts/k8s-control-plane.sh keeps the control plane's state and kubeconfigs. */
export const K8S_STATE = join(process.env.GO_SHIP_COMPONENTS_DIR ?? '/tmp/go-ship-components', 'k8s');
export const ADMIN_KUBECONFIG = join(K8S_STATE, 'admin.kubeconfig');
export const LIMITED_KUBECONFIG = join(K8S_STATE, 'limited.kubeconfig');

/** Whether the control plane answers /readyz with the admin credentials (synchronous, for describeWith). */
export function controlPlaneUp(): boolean {
  if (!existsSync(ADMIN_KUBECONFIG)) return false;
  const text = readFileSync(ADMIN_KUBECONFIG, 'utf8');
  const server = /server: (\S+)/.exec(text)?.[1];
  const token = /token: (\S+)/.exec(text)?.[1];
  try {
    execFileSync('curl', ['-fsSk', '-H', `Authorization: Bearer ${token}`, `${server}/readyz`], {
      stdio: 'ignore',
      timeout: 10_000,
    });
    return true;
  } catch {
    return false;
  }
}

/** The image a Kubernetes test deploys (KWOK's pods never pull it; the tag is the version). */
export const kubeTestImage = (version: string) =>
  `${process.env.GO_SHIP_TEST_REGISTRY ?? '127.0.0.1:5055'}/go-ship-test/hello:${version}`;

/** deploy-bluegreen through the CLI against the test control plane (the admin kubeconfig). */
export const deployToKube = (
  withs: Record<string, string>,
  opts: { env?: Record<string, string>; workspace?: string } = {},
) =>
  runAction('deploy-bluegreen', {
    with: withs,
    env: opts.env,
    workspace: opts.workspace,
    processEnv: { KUBECONFIG: ADMIN_KUBECONFIG, ...opts.env },
  });

export async function adminClient(): Promise<KubeClient> {
  return new KubeClient(await quietly(() => loadKubeconfig(ADMIN_KUBECONFIG)));
}

type Obj = Record<string, unknown>;

/**
 * What kube-proxy, a gateway and the pods would do, for fake pods that serve nothing: a loopback server
 * per Service that answers, per request, as one of the ready pods its selector matches right now (each
 * ready replica equally likely, as kube-proxy picks endpoints), read from the API every 100 ms; with
 * `httpRoute`, a third server that first picks a backend Service by the HTTPRoute's weights, as a
 * gateway does. A version in `broken` answers 503 on /healthz once the public Service serves it.
 */
export async function fakeTraffic(
  client: KubeClient,
  namespace: string,
  app: string,
  opts: { httpRoute?: string } = {},
) {
  const broken = new Set<string>();
  // Per Service: the versions of its ready endpoints, one entry per ready pod.
  const endpoints: Record<string, string[]> = {};
  let weights: [string, number][] = [];
  let stop = false;
  const podsOf = async (svc: string): Promise<string[]> => {
    const s = await client.get(`/api/v1/namespaces/${namespace}/services/${svc}`);
    const selector = (s?.spec as Obj | undefined)?.selector as Record<string, string> | undefined;
    if (!selector || !Object.keys(selector).length) return [];
    const q = encodeURIComponent(
      Object.entries(selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    );
    const list = await client.get(`/apis/apps/v1/namespaces/${namespace}/deployments?labelSelector=${q}`);
    const out: string[] = [];
    for (const d of (list?.items ?? []) as Obj[]) {
      const labels = ((d.spec as Obj).template as { metadata: { labels: Record<string, string> } }).metadata
        .labels;
      if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) continue;
      const ready = Number((d.status as Obj | undefined)?.readyReplicas ?? 0);
      const version = ((d.metadata as Obj).annotations as Record<string, string>)['go-ship.dev/version'];
      for (let i = 0; i < ready; i++) out.push(version);
    }
    return out;
  };
  const services = [app, `${app}-preview`, `${app}-blue`, `${app}-green`];
  const refresh = async () => {
    for (const svc of services) endpoints[svc] = await podsOf(svc);
    if (opts.httpRoute) {
      const route = await client.get(
        `/apis/gateway.networking.k8s.io/v1/namespaces/${namespace}/httproutes/${opts.httpRoute}`,
      );
      const rules = ((route?.spec as Obj | undefined)?.rules ?? []) as { backendRefs?: Obj[] }[];
      weights = (rules[0]?.backendRefs ?? []).map((r) => [String(r.name), Number(r.weight ?? 1)]);
    }
  };
  await refresh();
  const loop = (async () => {
    while (!stop) {
      await refresh().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const pick = (xs: string[]) => xs[Math.floor(Math.random() * xs.length)];
  const viaRoute = (): string | undefined => {
    const total = weights.reduce((t, [, w]) => t + w, 0);
    let r = Math.random() * total;
    for (const [svc, w] of weights) if ((r -= w) < 0) return pick(endpoints[svc] ?? []);
    return undefined;
  };
  const serve = async (choose: () => string | undefined): Promise<{ server: Server; url: string }> => {
    const server = createServer((req, res) => {
      const version = choose();
      if (!version) {
        res.statusCode = 503;
        return res.end('no ready endpoints\n');
      }
      res.setHeader('X-Version', version);
      if (req.url === '/version') return res.end(JSON.stringify({ version }));
      if (req.url === '/healthz') {
        const live = (endpoints[app] ?? []).includes(version);
        res.statusCode = broken.has(version) && live ? 503 : 200;
        return res.end(res.statusCode === 200 ? 'ok\n' : 'unhealthy\n');
      }
      res.end(`hello from ${version}\n`);
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    return { server, url: `http://127.0.0.1:${port}` };
  };
  const pub = await serve(() => pick(endpoints[app] ?? []));
  const preview = await serve(() => pick(endpoints[`${app}-preview`] ?? []));
  const gateway = await serve(viaRoute);
  return {
    url: pub.url,
    previewUrl: preview.url,
    gatewayUrl: gateway.url,
    broken,
    async close() {
      stop = true;
      await loop;
      for (const s of [pub, preview, gateway]) s.server.close();
    },
  };
}

/** The Gateway API release whose CRDs the tests install (a Go module: its YAML is under config/crd/). */
export const GATEWAY_API_VERSION = 'v1.6.3';

/**
 * Installs the Gateway API's standard CRDs (fetched from the Go module proxy with `go mod download`)
 * into the control plane by server-side apply, and waits until the API server serves HTTPRoutes.
 */
export async function installGatewayApi(client: KubeClient): Promise<void> {
  const out = execFileSync(
    'go',
    ['mod', 'download', '-json', `sigs.k8s.io/gateway-api@${GATEWAY_API_VERSION}`],
    {
      cwd: tmpdir(),
      env: { ...process.env, GOFLAGS: '' },
      encoding: 'utf8',
    },
  );
  const dir = (JSON.parse(out) as { Dir: string }).Dir;
  for (const kind of ['gatewayclasses', 'gateways', 'httproutes', 'referencegrants']) {
    const crd = parseYaml(
      readFileSync(join(dir, 'config', 'crd', 'standard', `gateway.networking.k8s.io_${kind}.yaml`), 'utf8'),
    ) as { metadata: { name: string } };
    await client.apply(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`, crd);
  }
  for (let i = 0; i < 100; i++) {
    const r = await client.get('/apis/gateway.networking.k8s.io/v1');
    if (((r?.resources ?? []) as { name: string }[]).some((x) => x.name === 'httproutes')) return;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error('the API server does not serve gateway.networking.k8s.io/v1 httproutes after 20 s');
}

/**
 * Removes what a test deployed for `app` (its Deployments, Services, autoscalers and deploy Lease, all named
 * `<app>…`), so the fake node's pods do not pile up across runs of a control plane that persists.
 */
export async function deleteApp(client: KubeClient, namespace: string, app: string): Promise<void> {
  const kinds = [
    `/apis/apps/v1/namespaces/${namespace}/deployments`,
    `/api/v1/namespaces/${namespace}/services`,
    `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`,
    `/apis/autoscaling/v2/namespaces/${namespace}/horizontalpodautoscalers`,
  ];
  for (const path of kinds) {
    const list = await client.get(path);
    for (const item of (list?.items ?? []) as { metadata: { name: string } }[])
      if (item.metadata.name === app || item.metadata.name.startsWith(`${app}-`))
        await client.request('DELETE', `${path}/${item.metadata.name}`, { allow404: true, verb: 'delete' });
  }
}
