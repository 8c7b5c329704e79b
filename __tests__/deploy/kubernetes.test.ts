import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeClient } from '../../src/deploy/targets/kubernetes/api.js';
import { KubernetesTarget } from '../../src/deploy/targets/kubernetes/target.js';
import { tempDir } from '../helpers/cli.js';
import { describeWith } from '../helpers/components.js';
import {
  ADMIN_KUBECONFIG,
  adminClient,
  controlPlaneUp,
  deleteApp,
  deployToKube,
  fakeTraffic,
  kubeTestImage as image,
  LIMITED_KUBECONFIG,
} from '../helpers/kube.js';

type Obj = Record<string, unknown>;
const deploy = (withs: Record<string, string>, env: Record<string, string> = {}) =>
  deployToKube(withs, { env });

describeWith(
  'a Kubernetes control plane (scripts/k8s-control-plane.sh)',
  controlPlaneUp(),
  'deploy-bluegreen on Kubernetes (kube-apiserver, controller-manager, scheduler, etcd, KWOK)',
  () => {
    const app = `hello-${randomBytes(3).toString('hex')}`;
    const ns = 'default';
    let kube: KubeClient;
    let traffic: Awaited<ReturnType<typeof fakeTraffic>>;
    let base: Record<string, string>;
    const deployment = async (color: string) =>
      (await kube.get(`/apis/apps/v1/namespaces/${ns}/deployments/${app}-${color}`)) as Obj | undefined;
    const replicas = async (color: string) => {
      const d = await deployment(color);
      return { spec: (d?.spec as Obj)?.replicas, ready: (d?.status as Obj)?.readyReplicas ?? 0 };
    };
    const selector = async () =>
      ((
        (await kube.get(`/api/v1/namespaces/${ns}/services/${app}`))?.spec as {
          selector: Record<string, string>;
        }
      )?.selector ?? {})['go-ship.dev/color'];
    const lease = async () =>
      (await kube.get(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${app}-deploy-lock`)) as
        { spec: { holderIdentity?: string | null } } | undefined;

    beforeAll(async () => {
      kube = await adminClient();
      traffic = await fakeTraffic(kube, ns, app);
      base = {
        target: 'kubernetes',
        app,
        url: traffic.url,
        'preview-url': traffic.previewUrl,
        'health-interval': '200ms',
        'verify-seconds': '2',
        'ready-timeout': '60s',
        replicas: '2',
      };
    });
    afterAll(async () => {
      await traffic?.close();
      await deleteApp(kube, ns, app); // and the lock test's `${app}-renew`
    });

    test('first deploy: blue rolls out, the Service selects it, the Lease is released', async () => {
      const r = await deploy({ ...base, image: image('1.0.0') });
      expect(r.stderr).not.toMatch(/go-ship bug/);
      expect(r.code).toBe(0);
      expect(r.outputs).toMatchObject({ 'live-color': 'blue', outcome: 'switched', version: '1.0.0' });
      expect(await selector()).toBe('blue');
      expect(await replicas('blue')).toEqual({ spec: 2, ready: 2 });
      expect((await lease())?.spec.holderIdentity ?? null).toBeNull();
      const d = await deployment('blue');
      const managers = ((d?.metadata as Obj).managedFields as { manager: string; operation: string }[]).map(
        (m) => `${m.manager}/${m.operation}`,
      );
      expect(managers).toContain('go-ship/Apply');
    }, 120_000);

    test('blue → green: the selector moves, blue is scaled to zero, state is on the Service', async () => {
      const r = await deploy({ ...base, image: image('1.1.0') });
      expect(r.code).toBe(0);
      expect(r.outputs).toMatchObject({ 'live-color': 'green', 'previous-color': 'blue', version: '1.1.0' });
      expect(await selector()).toBe('green');
      expect(await replicas('green')).toEqual({ spec: 2, ready: 2 });
      expect((await lease())?.spec.holderIdentity ?? null).toBeNull();
      expect((await replicas('blue')).spec).toBe(0);
      const svc = await kube.get(`/api/v1/namespaces/${ns}/services/${app}`);
      expect((svc?.metadata as Obj).annotations).toMatchObject({
        'go-ship.dev/live': 'green',
        'go-ship.dev/previous': 'blue',
        'go-ship.dev/version': '1.1.0',
      });
    }, 120_000);

    test('a re-run of the same deploy changes nothing', async () => {
      const before = (await deployment('green'))?.metadata as Obj;
      const r = await deploy({ ...base, image: image('1.1.0') });
      expect(r.code).toBe(0);
      expect(r.outputs.outcome).toBe('unchanged');
      expect(((await deployment('green'))?.metadata as Obj).resourceVersion).toBe(before.resourceVersion);
    }, 60_000);

    test('a Deployment that never becomes ready: timeout, nothing switched, the idle colour scaled back to zero', async () => {
      // More CPU than the fake node has: the pods stay Pending.
      const r = await deploy({
        ...base,
        image: image('1.2.0'),
        resources: 'requests: {cpu: "1000"}',
        'ready-timeout': '8s',
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(
        new RegExp(
          `${app}-blue did not become ready within 8\\.0s \\(\\d/2 replicas (ready|updated|available)\\); traffic was not moved`,
        ),
      );
      expect(r.outputs).toMatchObject({ 'live-color': 'green', outcome: 'failed' });
      expect(await selector()).toBe('green');
      expect((await replicas('blue')).spec).toBe(0);
    }, 120_000);

    test('a version that fails after the switch is switched back', async () => {
      traffic.broken.add('1.2.0');
      const r = await deploy({ ...base, image: image('1.2.0') });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(
        /verify: .*healthz → HTTP 503.*Rolled back: traffic is on green \(1\.1\.0\) again/s,
      );
      expect(r.outputs).toMatchObject({ 'live-color': 'green', 'rolled-back': 'true', version: '1.1.0' });
      expect(await selector()).toBe('green');
      expect((await replicas('blue')).spec).toBe(0);
      expect((await lease())?.spec.holderIdentity ?? null).toBeNull();
      expect(r.summary).toMatch(/Failed check → traffic back on the old version \| \d/);
      traffic.broken.delete('1.2.0');
    }, 120_000);

    test('a manual rollback scales the other colour back up and moves the selector', async () => {
      // blue holds 1.2.0 now; put 1.0.0 there first so the rollback target is good.
      expect((await deploy({ ...base, image: image('1.0.0') })).outputs['live-color']).toBe('blue');
      const r = await deploy({ ...base, action: 'rollback' });
      expect(r.code).toBe(0);
      expect(r.outputs).toMatchObject({ 'live-color': 'green', 'rolled-back': 'true', version: '1.1.0' });
      expect(await selector()).toBe('green');
      expect((await lease())?.spec.holderIdentity ?? null).toBeNull();
      expect(await replicas('green')).toEqual({ spec: 2, ready: 2 });
      expect((await replicas('blue')).spec).toBe(0);
    }, 180_000);

    test('a concurrent deploy is blocked by the Lease and told who holds it', async () => {
      const path = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${app}-deploy-lock`;
      const current = (await kube.get(path)) as Obj;
      const now = new Date().toISOString().replace('Z', '000Z');
      await kube.request('PUT', path, {
        body: {
          ...current,
          spec: {
            holderIdentity: 'org/other run 42',
            leaseDurationSeconds: 600,
            acquireTime: now,
            renewTime: now,
          },
        },
      });
      const r = await deploy({ ...base, image: image('1.0.0'), 'lock-timeout': '0' });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(
        new RegExp(`Another deploy of ${app} holds the lock: org/other run 42, since \\d{4}-`),
      );
      expect(await selector()).toBe('green');
      expect((await lease())?.spec.holderIdentity).toBe('org/other run 42');
      const held = (await kube.get(path)) as Obj;
      await kube.request('PUT', path, {
        body: { ...held, spec: { ...(held.spec as Obj), holderIdentity: null } },
      });
    }, 60_000);

    // A lock that is never renewed lets a second deploy break it while the first still runs.
    test('the Lease is renewed while held: past its TTL it is still ours, and nobody else can take it', async () => {
      const lockApp = `${app}-renew`;
      const target = (holder: string) => ({
        holder,
        t: new KubernetesTarget({
          app: lockApp,
          namespace: ns,
          client: kube,
          containerPort: 8080,
          servicePort: 80,
          replicas: 1,
          healthPath: '/healthz',
          env: {},
          args: [],
          drainMs: 0,
          readyTimeoutMs: 1000,
        }),
      });
      const mine = target('run 1');
      const a = await mine.t.tryLock(mine.holder, 2_000);
      if (!a.acquired) throw new Error('lock not acquired');
      expect(a.renew).toBeDefined();
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 800));
        await a.renew!();
      }
      // 3.2 s after taking a 2 s lock: renewed, so still held.
      const other = target('run 2');
      const b = await other.t.tryLock(other.holder, 2_000);
      expect(b.acquired).toBe(false);
      if (!b.acquired) expect(b.held.holder).toBe('run 1');
      await a.release();
      await expect(a.renew!()).rejects.toThrow('the deploy lock is no longer held by run 1');
    }, 60_000);

    test('dry-run shows the server-side diff and changes nothing', async () => {
      const before = ((await deployment('blue'))?.metadata as Obj).resourceVersion;
      const r = await deploy({ ...base, image: image('1.3.0'), 'dry-run': 'true' });
      expect(r.code).toBe(0);
      expect(r.outputs.outcome).toBe('planned');
      expect(r.summary).toMatch(/```diff\n--- Deployment hello-\w+-blue \(live\)/);
      expect(r.summary).toMatch(/-\s+replicas: 0\n\+\s+replicas: 2/);
      expect(r.summary).toMatch(/\+\s+image: .*hello:1\.3\.0/);
      expect(((await deployment('blue'))?.metadata as Obj).resourceVersion).toBe(before);
    }, 60_000);

    test('bad input and faults: RBAC forbidden, unreachable API server, no kubeconfig, a manifest without the labels', async () => {
      const forbidden = await deploy({ ...base, image: image('1.0.0') }, { KUBECONFIG: LIMITED_KUBECONFIG });
      expect(forbidden.code).not.toBe(0);
      expect(forbidden.stderr).toMatch(
        /Kubernetes RBAC refused get \/apis\/apps\/v1\/namespaces\/default\/deployments\/hello-\w+-blue: deployments\.apps "hello-\w+-blue" is forbidden: User "limited" cannot get resource "deployments" in API group "apps"/,
      );

      const dir = tempDir('kube');
      const down = join(dir, 'down.kubeconfig');
      writeFileSync(
        down,
        readFileSync(ADMIN_KUBECONFIG, 'utf8').replace(/server: \S+/, 'server: https://127.0.0.1:1'),
      );
      const unreachable = await deploy({ ...base, image: image('1.0.0') }, { KUBECONFIG: down });
      expect(unreachable.stderr).toMatch(
        /Cannot reach the Kubernetes API server at https:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/,
      );

      const none = await deploy(
        { ...base, image: image('1.0.0') },
        { KUBECONFIG: join(dir, 'nope'), HOME: dir },
      );
      expect(none.stderr).toMatch(/No kubeconfig: set the `kubeconfig` input/);

      const manifest = join(dir, 'deployment.yaml');
      writeFileSync(
        manifest,
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  selector: {matchLabels: {app: x}}\n  template:\n    metadata: {labels: {app: x}}\n    spec: {containers: [{name: app, image: x}]}\n',
      );
      const bad = await deploy({ ...base, image: image('1.0.0'), manifest });
      expect(bad.stderr).toMatch(
        /Input `manifest`: the Deployment's pod template labels \{"app":"x"\} .* do not carry `app\.kubernetes\.io\/name: hello-/,
      );
      for (const r of [forbidden, unreachable, none, bad]) expect(r.stderr).not.toMatch(/go-ship bug/);
      expect(await selector()).toBe('green');
    }, 120_000);

    test('a kubeconfig from the input is used, never printed, and gone after the step', async () => {
      const text = readFileSync(ADMIN_KUBECONFIG, 'utf8');
      const token = /token: (\S+)/.exec(text)![1];
      const r = await deploy(
        { ...base, action: 'status', kubeconfig: Buffer.from(text).toString('base64') },
        { KUBECONFIG: '', RUNNER_TEMP: tempDir('runner-temp') },
      );
      expect(r.code).toBe(0);
      expect(r.outputs).toMatchObject({ 'live-color': 'green', version: '1.1.0' });
      expect(r.stdout + r.stderr).not.toContain(token);
    }, 60_000);

    // #32: before-traffic as a Job from the new release's pod template, carrying none of the app's
    // labels (no Service may send it a request), run once, deleted after. KWOK's nodes complete a
    // Job's pod without running it, so this shows the Job's shape and its life, not a program's exit.
    test('before-traffic: a Job from the new pod template, without the app labels, done before the switch and deleted', async () => {
      const jobs = async () =>
        ((
          await kube.get(
            `/apis/batch/v1/namespaces/${ns}/jobs?labelSelector=go-ship.dev%2Fhook%3Dbefore-traffic`,
          )
        )?.items ?? []) as Obj[];
      const seen: Obj[] = [];
      const watch = setInterval(
        () =>
          void jobs().then(
            (j) => seen.push(...j),
            () => undefined,
          ),
        100,
      );
      let r;
      try {
        r = await deploy({
          ...base,
          image: image('1.2.0'),
          'before-traffic': 'migrate up',
          'hook-timeout': '1m',
        });
      } finally {
        clearInterval(watch);
      }
      expect(r.stderr).not.toMatch(/go-ship bug/);
      expect(r.code).toBe(0);
      expect(r.outputs).toMatchObject({ outcome: 'switched', version: '1.2.0' });
      expect(r.summary).toMatch(
        /\| before-traffic \| `migrate up` \| Job hello-[0-9a-f]+-before-traffic-\w+ from [^|]+ \| [^|]+ \| ✅ passed in/,
      );
      expect(seen.length).toBeGreaterThan(0);
      const job = seen[0];
      const spec = job.spec as { backoffLimit: number; activeDeadlineSeconds: number; template: Obj };
      expect(spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 60 });
      const labels = (spec.template.metadata as Obj).labels as Record<string, string>;
      // Ours, and the Job controller's own; not the app's, nor a colour's.
      expect(
        Object.keys(labels)
          .filter((k) => !/^(batch\.kubernetes\.io\/)?(job-name|controller-uid)$/.test(k))
          .sort(),
      ).toEqual(['go-ship.dev/app', 'go-ship.dev/hook']);
      expect(labels['go-ship.dev/app']).toBe(app);
      const pod = spec.template.spec as { restartPolicy: string; containers: Obj[] };
      expect(pod.restartPolicy).toBe('Never');
      expect(pod.containers[0]).toMatchObject({ image: image('1.2.0'), args: ['migrate', 'up'] });
      expect(pod.containers[0].readinessProbe).toBeUndefined();
      // One Job for the deploy, gone once it ended.
      expect(new Set(seen.map((j) => (j.metadata as Obj).name)).size).toBe(1);
      expect(await jobs()).toEqual([]);
    }, 120_000);
  },
);
