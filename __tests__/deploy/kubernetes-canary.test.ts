import { randomBytes } from 'node:crypto';
import type { KubeClient } from '../../src/deploy/targets/kubernetes/api.js';
import { describeWith } from '../helpers/components.js';
import {
  adminClient,
  controlPlaneUp,
  deleteApp,
  deployToKube as deploy,
  fakeTraffic,
  installGatewayApi,
  kubeTestImage as image,
} from '../helpers/kube.js';

type Obj = Record<string, unknown>;
const ns = 'default';

/** Inputs every test here shares: fast checks, the old colour stopped right after the verify window. */
const inputsFor = (app: string, url: string, previewUrl: string, more: Record<string, string>) => ({
  target: 'kubernetes',
  app,
  url,
  'preview-url': previewUrl,
  'health-interval': '200ms',
  'verify-seconds': '1',
  'ready-timeout': '60s',
  'keep-old': '0',
  drain: '1s',
  ...more,
});
const canary = { strategy: 'canary', steps: '10,50,100', 'step-duration': '2s' };

/** Reads an app's state back through the API, as `kubectl get` would. */
function readBack(kube: KubeClient, app: string) {
  return {
    async replicas(color: string): Promise<{ spec: number; ready: number }> {
      const d = await kube.get(`/apis/apps/v1/namespaces/${ns}/deployments/${app}-${color}`);
      return {
        spec: Number((d?.spec as Obj).replicas),
        ready: Number((d?.status as Obj | undefined)?.readyReplicas ?? 0),
      };
    },
    async service(
      name = app,
    ): Promise<{ selector: Record<string, string>; annotations: Record<string, string> }> {
      const s = (await kube.get(`/api/v1/namespaces/${ns}/services/${name}`)) as Obj;
      return {
        selector: (s.spec as Obj).selector as Record<string, string>,
        annotations: ((s.metadata as Obj).annotations ?? {}) as Record<string, string>,
      };
    },
    async weights(route: string): Promise<Record<string, number>> {
      const r = (await kube.get(
        `/apis/gateway.networking.k8s.io/v1/namespaces/${ns}/httproutes/${route}`,
      )) as Obj;
      const refs = ((r.spec as Obj).rules as { backendRefs: { name: string; weight?: number }[] }[])[0]
        .backendRefs;
      return Object.fromEntries(refs.map((b) => [b.name, b.weight ?? 1]));
    },
  };
}

describeWith(
  'a Kubernetes control plane (scripts/k8s-control-plane.sh)',
  controlPlaneUp(),
  'deploy-bluegreen canary and rollback history on Kubernetes',
  () => {
    let kube: KubeClient;
    beforeAll(async () => {
      kube = await adminClient();
    });

    test('canary by replicas: 10 pods split 1/9, then 5/5, then all on the new colour; read back at every step', async () => {
      const app = `canary-${randomBytes(3).toString('hex')}`;
      const traffic = await fakeTraffic(kube, ns, app);
      const api = readBack(kube, app);
      const base = inputsFor(app, traffic.url, traffic.previewUrl, { replicas: '10', ...canary });
      try {
        const first = await deploy({ ...base, image: image('1.0.0') });
        expect(first.code).toBe(0);
        expect(await api.replicas('blue')).toEqual({ spec: 10, ready: 10 });

        const step1 = await deploy({ ...base, image: image('1.1.0'), 'auto-promote': 'false' });
        expect(step1.stderr).not.toMatch(/go-ship bug/);
        expect(step1.code).toBe(0);
        expect(step1.outputs).toMatchObject({ outcome: 'previewing', 'live-color': 'blue' });
        expect(await api.replicas('green')).toEqual({ spec: 1, ready: 1 });
        expect(await api.replicas('blue')).toEqual({ spec: 9, ready: 9 });
        let svc = await api.service();
        // Both colours behind the one Service: the selector has no colour.
        expect(svc.selector).toEqual({ 'app.kubernetes.io/name': app });
        expect(svc.annotations['go-ship.dev/canary']).toBe('green:10');
        expect(step1.summary).toMatch(/canary 10% \| [\d.]+m?s \| ✅ 1 of 10 pods \(10\.0% of connections\)/);

        // Another version cannot replace the canary mid-way: it would enter the split ungated.
        const overlap = await deploy({ ...base, image: image('1.3.0') });
        expect(overlap.code).not.toBe(0);
        expect(overlap.stderr).toMatch(
          /A canary of 1\.1\.0 takes 10% of new requests on green\. Finish it first: action: promote takes the next step, action: rollback sends every request back to blue\./,
        );
        expect(await api.replicas('green')).toEqual({ spec: 1, ready: 1 });

        const step2 = await deploy({ ...base, action: 'promote', 'auto-promote': 'false' });
        expect(step2.code).toBe(0);
        expect(await api.replicas('green')).toEqual({ spec: 5, ready: 5 });
        expect(await api.replicas('blue')).toEqual({ spec: 5, ready: 5 });
        expect((await api.service()).annotations['go-ship.dev/canary']).toBe('green:50');

        const last = await deploy({ ...base, action: 'promote', 'auto-promote': 'false' });
        expect(last.code).toBe(0);
        expect(last.outputs).toMatchObject({ outcome: 'switched', 'live-color': 'green', version: '1.1.0' });
        expect(await api.replicas('green')).toEqual({ spec: 10, ready: 10 });
        expect((await api.replicas('blue')).spec).toBe(0);
        svc = await api.service();
        expect(svc.selector).toEqual({ 'app.kubernetes.io/name': app, 'go-ship.dev/color': 'green' });
        expect(svc.annotations['go-ship.dev/canary']).toBe('');

        // A version that fails its checks at 10%: every connection back on stable, which gets its 10 pods back.
        traffic.broken.add('1.2.0');
        const bad = await deploy({ ...base, image: image('1.2.0') });
        expect(bad.code).not.toBe(0);
        expect(bad.stderr).toMatch(
          /canary 10%: .*healthz → HTTP 503.*The canary stopped at 10%: every request goes to green \(1\.1\.0\) again/s,
        );
        expect(bad.outputs).toMatchObject({ 'live-color': 'green', 'rolled-back': 'true' });
        svc = await api.service();
        expect(svc.selector['go-ship.dev/color']).toBe('green');
        expect(svc.annotations['go-ship.dev/canary']).toBe('');
        expect(await api.replicas('green')).toEqual({ spec: 10, ready: 10 });
        expect((await api.replicas('blue')).spec).toBe(0);
      } finally {
        await traffic.close();
        await deleteApp(kube, ns, app);
      }
    }, 300_000);

    test('canary by Gateway API HTTPRoute weights: 90/10, 50/50, 0/100 read back; the rest of the route untouched', async () => {
      await installGatewayApi(kube);
      const app = `route-${randomBytes(3).toString('hex')}`;
      await kube.request('POST', `/apis/gateway.networking.k8s.io/v1/namespaces/${ns}/httproutes`, {
        body: {
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'HTTPRoute',
          metadata: { name: app, namespace: ns },
          spec: {
            parentRefs: [{ name: 'public-gateway' }],
            hostnames: ['hello.example.test'],
            rules: [
              {
                matches: [{ path: { type: 'PathPrefix', value: '/' } }],
                backendRefs: [{ name: `${app}-blue`, port: 80 }],
              },
            ],
          },
        },
      });
      const traffic = await fakeTraffic(kube, ns, app, { httpRoute: app });
      const api = readBack(kube, app);
      const base = inputsFor(app, traffic.gatewayUrl, traffic.previewUrl, {
        'http-route': app,
        replicas: '2',
        ...canary,
      });
      try {
        const first = await deploy({ ...base, image: image('1.0.0') });
        expect(first.stderr).not.toMatch(/go-ship bug/);
        expect(first.code).toBe(0);
        expect(await api.weights(app)).toEqual({ [`${app}-blue`]: 100, [`${app}-green`]: 0 });

        const step1 = await deploy({ ...base, image: image('1.1.0'), 'auto-promote': 'false' });
        expect(step1.code).toBe(0);
        expect(await api.weights(app)).toEqual({ [`${app}-blue`]: 90, [`${app}-green`]: 10 });
        // Weights, not pods, make the split: both colours keep their replicas.
        expect(await api.replicas('green')).toEqual({ spec: 2, ready: 2 });
        expect(await api.replicas('blue')).toEqual({ spec: 2, ready: 2 });
        expect(step1.summary).toMatch(
          new RegExp(`✅ HTTPRoute ${app}: ${app}-green weight 10, ${app}-blue weight 90`),
        );

        expect((await deploy({ ...base, action: 'promote', 'auto-promote': 'false' })).code).toBe(0);
        expect(await api.weights(app)).toEqual({ [`${app}-blue`]: 50, [`${app}-green`]: 50 });

        const last = await deploy({ ...base, action: 'promote', 'auto-promote': 'false' });
        expect(last.code).toBe(0);
        expect(last.outputs).toMatchObject({ outcome: 'switched', 'live-color': 'green', version: '1.1.0' });
        expect(await api.weights(app)).toEqual({ [`${app}-blue`]: 0, [`${app}-green`]: 100 });
        const route = (await kube.get(
          `/apis/gateway.networking.k8s.io/v1/namespaces/${ns}/httproutes/${app}`,
        )) as { spec: Obj };
        expect(route.spec.hostnames).toEqual(['hello.example.test']);
        expect(route.spec.parentRefs).toEqual([expect.objectContaining({ name: 'public-gateway' })]);
        expect((route.spec.rules as Obj[])[0].matches).toEqual([
          { path: { type: 'PathPrefix', value: '/' } },
        ]);

        const missing = await deploy({ ...base, image: image('1.2.0'), 'http-route': 'no-such-route' });
        expect(missing.code).not.toBe(0);
        expect(missing.stderr).toMatch(
          /Input `http-route` names HTTPRoute no-such-route, which namespace default does not have/,
        );
        expect(missing.stderr).not.toMatch(/go-ship bug/);
        // Refused before anything ran: the Service and the live colour as they were.
        expect((await api.service()).selector['go-ship.dev/color']).toBe('green');
        expect(await api.replicas('green')).toEqual({ spec: 2, ready: 2 });
        expect(await api.weights(app)).toEqual({ [`${app}-blue`]: 0, [`${app}-green`]: 100 });
      } finally {
        await traffic.close();
        await deleteApp(kube, ns, app);
        await kube.request(
          'DELETE',
          `/apis/gateway.networking.k8s.io/v1/namespaces/${ns}/httproutes/${app}`,
          { allow404: true },
        );
      }
    }, 300_000);

    test('rollback to a version two releases back goes through the gate; the history is on the Service', async () => {
      const app = `history-${randomBytes(3).toString('hex')}`;
      const traffic = await fakeTraffic(kube, ns, app);
      const api = readBack(kube, app);
      const base = inputsFor(app, traffic.url, traffic.previewUrl, { replicas: '2' });
      try {
        for (const v of ['1.0.0', '1.1.0', '1.2.0'])
          expect((await deploy({ ...base, image: image(v) })).code).toBe(0);
        const r = await deploy({ ...base, action: 'rollback', to: '1.0.0' });
        expect(r.stderr).not.toMatch(/go-ship bug/);
        expect(r.code).toBe(0);
        expect(r.outputs).toMatchObject({ 'rolled-back': 'true', version: '1.0.0', 'live-color': 'green' });
        // Through the gate: the ready check and the switch's confirm ran on the redeployed image.
        expect(r.summary).toMatch(/\| ready \| .* \| ✅/);
        expect(r.summary).toMatch(/\| confirm \| version \|/);
        const history = JSON.parse((await api.service()).annotations['go-ship.dev/history']) as {
          version: string;
          image: string;
        }[];
        expect(history.map((h) => h.version)).toEqual(['1.0.0', '1.1.0', '1.2.0', '1.0.0']);
        expect(history.at(-1)!.image).toBe(image('1.0.0'));
        const status = await deploy({ ...base, action: 'status' });
        expect(status.summary).toMatch(
          /Release history \(newest first\)[\s\S]*1\.0\.0[\s\S]*1\.2\.0[\s\S]*1\.1\.0[\s\S]*1\.0\.0/,
        );
        const unknown = await deploy({ ...base, action: 'rollback', to: '0.9.0' });
        expect(unknown.stderr).toMatch(
          /Input `to` got `0\.9\.0`; it accepts a version from history-\w+'s history .*: 1\.0\.0, 1\.1\.0, 1\.2\.0, 1\.0\.0/,
        );
      } finally {
        await traffic.close();
        await deleteApp(kube, ns, app);
      }
    }, 300_000);
  },
);
