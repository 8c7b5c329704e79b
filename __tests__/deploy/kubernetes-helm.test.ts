import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { KubeClient } from '../../src/deploy/targets/kubernetes/api.js';
import { HELM_VERSION } from '../../src/deploy/targets/kubernetes/helm.js';
import { tempDir } from '../helpers/cli.js';
import { describeWith } from '../helpers/components.js';
import { goTool } from '../helpers/go-tools.js';
import {
  adminClient,
  controlPlaneUp,
  deleteApp,
  deployToKube,
  fakeTraffic,
  kubeTestImage as image,
} from '../helpers/kube.js';

type Obj = Record<string, unknown>;
const ns = 'default';
// Where the action builds Helm when PATH has none: the local runner's tool cache (as on a runner).
const TOOL_CACHE = process.env.RUNNER_TOOL_CACHE ?? join(homedir(), '.cache', 'go-ship', 'tool-cache');

describeWith(
  'a Kubernetes control plane (scripts/k8s-control-plane.sh)',
  controlPlaneUp(),
  'deploy-bluegreen with a Helm chart (helm create)',
  () => {
    let kube: KubeClient;
    let helm: string;
    let work: string;
    beforeAll(async () => {
      kube = await adminClient();
      // The test's own Helm, to make the chart as a user would (`helm create`).
      helm = goTool('helm.sh/helm/v3/cmd/helm', HELM_VERSION);
      work = tempDir('helm');
      execFileSync(helm, ['create', 'web'], { cwd: work });
      writeFileSync(join(work, 'values-prod.yaml'), 'replicaCount: 3\nserviceAccount:\n  name: web-runner\n');
    }, 900_000);

    const deploy = (withs: Record<string, string>) =>
      // No helm on PATH: the action builds its own into the tool cache (once).
      deployToKube(withs, { workspace: work });

    test('deployed as the colours, its other objects applied as they are, switched, rolled back', async () => {
      // A release named after its chart: helm's fullname is the release name, so the chart's Service is <app>.
      const app = `web-${randomBytes(3).toString('hex')}`;
      const traffic = await fakeTraffic(kube, ns, app);
      const base = {
        target: 'kubernetes',
        app,
        chart: 'web',
        values: 'values-prod.yaml',
        url: traffic.url,
        'preview-url': traffic.previewUrl,
        'health-path': '/healthz',
        'health-interval': '200ms',
        'verify-seconds': '1',
        'ready-timeout': '60s',
        'keep-old': '0',
        drain: '1s',
      };
      const get = (path: string) => kube.get(path) as Promise<Obj>;
      try {
        const first = await deploy({ ...base, image: image('1.0.0') });
        expect(first.stderr).not.toMatch(/go-ship bug/);
        expect(first.code).toBe(0);
        expect(first.outputs).toMatchObject({ 'live-color': 'blue', version: '1.0.0' });
        expect(existsSync(join(TOOL_CACHE, 'go-ship-tools', 'helm', HELM_VERSION, 'helm'))).toBe(true);

        const blue = await get(`/apis/apps/v1/namespaces/${ns}/deployments/${app}-blue`);
        // The values file counts (replicaCount 3), the chart's pod template is kept, the image is ours.
        expect((blue.spec as Obj).replicas).toBe(3);
        const pod = (
          blue.spec as {
            template: { metadata: { labels: Obj }; spec: { serviceAccountName: string; containers: Obj[] } };
          }
        ).template;
        expect(pod.metadata.labels).toMatchObject({
          'app.kubernetes.io/name': 'web',
          'app.kubernetes.io/instance': app,
          'go-ship.dev/color': 'blue',
        });
        expect(pod.spec.serviceAccountName).toBe('web-runner');
        expect(pod.spec.containers[0]).toMatchObject({
          image: image('1.0.0'),
          readinessProbe: expect.anything(),
        });
        // The chart's own Deployment is not applied: it became the colours.
        expect(await kube.get(`/apis/apps/v1/namespaces/${ns}/deployments/${app}`)).toBeUndefined();
        const sa = await get(`/api/v1/namespaces/${ns}/serviceaccounts/web-runner`);
        expect(((sa.metadata as Obj).managedFields as { manager: string }[]).map((m) => m.manager)).toContain(
          'go-ship',
        );

        const service = async () => {
          const s = await get(`/api/v1/namespaces/${ns}/services/${app}`);
          return {
            selector: (s.spec as Obj).selector as Record<string, string>,
            ports: (s.spec as Obj).ports as Obj[],
            live: ((s.metadata as Obj).annotations as Record<string, string>)['go-ship.dev/live'],
          };
        };
        // The chart's Service is the switch: its ports, go-ship's selector.
        expect(await service()).toMatchObject({
          selector: {
            'app.kubernetes.io/name': 'web',
            'app.kubernetes.io/instance': app,
            'go-ship.dev/color': 'blue',
          },
          ports: [expect.objectContaining({ name: 'http', port: 80, targetPort: 'http' })],
          live: 'blue',
        });

        const second = await deploy({ ...base, image: image('1.1.0') });
        expect(second.code).toBe(0);
        expect(second.outputs).toMatchObject({ 'live-color': 'green', version: '1.1.0' });
        expect((await service()).selector['go-ship.dev/color']).toBe('green');

        const back = await deploy({ ...base, action: 'rollback' });
        expect(back.code).toBe(0);
        expect(back.outputs).toMatchObject({ 'live-color': 'blue', version: '1.0.0', 'rolled-back': 'true' });
        expect((await service()).selector['go-ship.dev/color']).toBe('blue');
        const replicas = async (c: string) =>
          ((await get(`/apis/apps/v1/namespaces/${ns}/deployments/${app}-${c}`)).spec as Obj).replicas;
        expect(await replicas('blue')).toBe(3);
        expect(await replicas('green')).toBe(0);
      } finally {
        await traffic.close();
        await deleteApp(kube, ns, app);
      }
    }, 900_000);

    test("helm create's autoscaler (autoscaling.enabled) scales the live colour, follows each switch and the rollback", async () => {
      const app = `web-hpa-${randomBytes(3).toString('hex')}`;
      writeFileSync(
        join(work, 'values-hpa.yaml'),
        'autoscaling:\n  enabled: true\n  minReplicas: 3\n  maxReplicas: 5\n  targetCPUUtilizationPercentage: 80\n',
      );
      const traffic = await fakeTraffic(kube, ns, app);
      const base = {
        target: 'kubernetes',
        app,
        chart: 'web',
        values: 'values-hpa.yaml',
        url: traffic.url,
        'preview-url': traffic.previewUrl,
        'health-path': '/healthz',
        'health-interval': '200ms',
        'verify-seconds': '1',
        'ready-timeout': '60s',
        'keep-old': '0',
        drain: '1s',
      };
      const scaled = async () => {
        const hpa = (await kube.get(
          `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/${app}`,
        )) as Obj;
        return ((hpa.spec as Obj).scaleTargetRef as Obj).name;
      };
      try {
        const first = await deploy({ ...base, image: image('1.0.0') });
        expect(first.code).toBe(0);
        // The chart's Deployment (which go-ship never creates) is not what the autoscaler scales.
        expect(await scaled()).toBe(`${app}-blue`);
        // The chart sets no replicas when autoscaled: a colour starts at the HPA's minimum.
        const blue = (await kube.get(`/apis/apps/v1/namespaces/${ns}/deployments/${app}-blue`)) as Obj;
        expect((blue.spec as Obj).replicas).toBe(3);
        const second = await deploy({ ...base, image: image('1.1.0') });
        expect(second.code).toBe(0);
        expect(await scaled()).toBe(`${app}-green`);
        const back = await deploy({ ...base, action: 'rollback' });
        expect(back.code).toBe(0);
        expect(await scaled()).toBe(`${app}-blue`);
      } finally {
        await traffic.close();
        await deleteApp(kube, ns, app);
      }
    }, 900_000);

    test('a chart with several Deployments needs `deployment`; one with none is refused by name', async () => {
      const app = `multi-${randomBytes(3).toString('hex')}`;
      const chart = join(work, 'web');
      const templates = join(chart, 'templates');
      const worker = readFileSync(join(templates, 'deployment.yaml'), 'utf8').replace(
        /name: \{\{ include "web\.fullname" \. \}\}/,
        'name: {{ include "web.fullname" . }}-worker',
      );
      writeFileSync(join(templates, 'worker.yaml'), worker);
      const base = {
        target: 'kubernetes',
        app,
        chart: 'web',
        url: 'http://127.0.0.1:9',
        image: image('1.0.0'),
      };
      try {
        const several = await deploy(base);
        expect(several.code).not.toBe(0);
        expect(several.stderr).toMatch(
          new RegExp(
            `Input \`chart\`: web renders 2 Deployments \\(${app}-web, ${app}-web-worker\\); set \`deployment\` to the one go-ship deploys as the colours`,
          ),
        );
        const picked = await deploy({ ...base, deployment: `${app}-web-worker`, 'dry-run': 'true' });
        expect(picked.stderr).not.toMatch(/go-ship bug/);
        expect(picked.code).toBe(0);
        expect(picked.outputs.outcome).toBe('planned');
        // The other Deployment is one of the chart's objects, applied as it is (here: dry run).
        expect(picked.summary).toMatch(new RegExp(`--- Deployment ${app}-web \\(absent\\)`));
        // A packaged chart renders the same.
        execFileSync(helm, ['package', 'web'], { cwd: work });
        const packaged = await deploy({
          ...base,
          chart: 'web-0.1.0.tgz',
          deployment: `${app}-web-worker`,
          'dry-run': 'true',
        });
        expect(packaged.code).toBe(0);
        expect(packaged.summary).toMatch(new RegExp(`--- Deployment ${app}-blue \\(absent\\)`));
        expect(packaged.summary).toMatch(new RegExp(`--- Deployment ${app}-web \\(absent\\)`));
        const wrong = await deploy({ ...base, deployment: 'nope' });
        expect(wrong.stderr).toMatch(
          new RegExp(`Input \`deployment\` got \`nope\`.*${app}-web, ${app}-web-worker`),
        );

        rmSync(join(templates, 'worker.yaml'));
        copyFileSync(join(templates, 'deployment.yaml'), join(work, 'deployment.yaml.bak'));
        rmSync(join(templates, 'deployment.yaml'));
        const none = await deploy(base);
        expect(none.stderr).toMatch(
          new RegExp(
            `Input \`chart\`: web renders no Deployment \\(it has ServiceAccount ${app}-web, Service ${app}-web\\)`,
          ),
        );
        for (const r of [several, wrong, none]) expect(r.stderr).not.toMatch(/go-ship bug/);
      } finally {
        rmSync(join(templates, 'worker.yaml'), { force: true });
        if (existsSync(join(work, 'deployment.yaml.bak')))
          copyFileSync(join(work, 'deployment.yaml.bak'), join(templates, 'deployment.yaml'));
      }
    }, 300_000);
  },
);
