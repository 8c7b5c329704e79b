import { quietly } from './quiet.js';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { KubeClient, loadKubeconfig } from '../../src/deploy/kubernetes-api.js';
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

export async function adminClient(): Promise<KubeClient> {
  return new KubeClient(await quietly(() => loadKubeconfig(ADMIN_KUBECONFIG)));
}

type Obj = Record<string, unknown>;

/**
 * What kube-proxy and the pods would do, for fake pods that serve nothing: a loopback server per
 * Service that answers as the version of the Deployment the Service selects right now (read from
 * the API every 100 ms). A version in `broken` answers 503 on /healthz once it is live.
 */
export async function fakeTraffic(client: KubeClient, namespace: string, app: string) {
  const broken = new Set<string>();
  const selected: Record<string, string | undefined> = {};
  let stop = false;
  const refresh = async () => {
    for (const svc of [app, `${app}-preview`]) {
      const s = await client.get(`/api/v1/namespaces/${namespace}/services/${svc}`);
      const color = ((s?.spec as Obj)?.selector as Record<string, string> | undefined)?.['go-ship.dev/color'];
      const d = color
        ? await client.get(`/apis/apps/v1/namespaces/${namespace}/deployments/${app}-${color}`)
        : undefined;
      const ready = Number((d?.status as Obj | undefined)?.readyReplicas ?? 0);
      selected[svc] = ready
        ? ((d?.metadata as Obj).annotations as Record<string, string>)['go-ship.dev/version']
        : undefined;
    }
  };
  await refresh();
  const loop = (async () => {
    while (!stop) {
      await refresh().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const serve = async (svc: string): Promise<{ server: Server; url: string }> => {
    const server = createServer((req, res) => {
      const version = selected[svc];
      if (!version) {
        res.statusCode = 503;
        return res.end('no ready endpoints\n');
      }
      res.setHeader('X-Version', version);
      if (req.url === '/version') return res.end(JSON.stringify({ version }));
      if (req.url === '/healthz') {
        const live = selected[app] === version;
        res.statusCode = broken.has(version) && live ? 503 : 200;
        return res.end(res.statusCode === 200 ? 'ok\n' : 'unhealthy\n');
      }
      res.end(`hello from ${version}\n`);
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    return { server, url: `http://127.0.0.1:${port}` };
  };
  const pub = await serve(app);
  const preview = await serve(`${app}-preview`);
  return {
    url: pub.url,
    previewUrl: preview.url,
    broken,
    async close() {
      stop = true;
      await loop;
      pub.server.close();
      preview.server.close();
    },
  };
}
