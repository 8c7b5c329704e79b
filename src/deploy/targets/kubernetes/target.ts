import { autoscalersOf } from './helm.js';
import { UserError } from '../../../runner/errors.js';
import { formatDuration, log } from '../../../runner/log.js';
import { sleep } from '../../checks.js';
import { yamlDiff } from './diff.js';
import type { OneOff } from '../../hooks.js';
import { KubeError, type KubeClient } from './api.js';
import { COLORS, otherColor, pinnedImage, withRelease } from '../../target.js';
import type {
  CanaryStep,
  Color,
  ColorStatus,
  DeployState,
  HistoryEntry,
  LockAttempt,
  Release,
  RouteTiming,
  Target,
} from '../../target.js';

const APP_LABEL = 'app.kubernetes.io/name';
const COLOR_LABEL = 'go-ship.dev/color';
const A = 'go-ship.dev/';
/** On a before-traffic Job and its pod: not the app's labels, so no Service selects it. */
const HOOK_LABEL = 'go-ship.dev/hook';

export interface KubernetesTargetOptions {
  app: string;
  namespace: string;
  client: KubeClient;
  /** The user's Deployment (parsed), whose pod template go-ship takes; otherwise one is generated. */
  manifest?: Record<string, unknown>;
  containerPort: number;
  servicePort: number;
  replicas: number;
  healthPath: string;
  resources?: Record<string, unknown>;
  env: Record<string, string>;
  args: string[];
  drainMs: number;
  readyTimeoutMs: number;
  /** Where the checks reach the preview Service (default its cluster DNS name, for in-cluster runners). */
  previewUrl?: string;
  /**
   * The pod labels that select the app (a chart's Deployment's matchLabels); default
   * `app.kubernetes.io/name: <app>`. go-ship adds the colour to them.
   */
  selector?: Record<string, string>;
  /** A chart's other objects, server-side applied as they are at every deploy. */
  objects?: Obj[];
  /** Gateway API: the HTTPRoute whose backendRefs to the Services <app>-blue and <app>-green get the weights. */
  httpRoute?: string;
}

/** What the Service <app> records about the route, in its annotations. */
interface RouteRecord {
  live?: Color;
  previous?: Color;
  version?: string;
  switchedAt?: string;
  history: HistoryEntry[];
  canary?: CanaryStep;
}

/** Canary replicas of `total` for `percent` of the connections: at least 1, and at least 1 stable. */
export function canaryReplicas(total: number, percent: number): number {
  return Math.min(total - 1, Math.max(1, Math.round((total * percent) / 100)));
}

type Obj = Record<string, unknown>;
const at = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Obj)[k] : undefined), o);

/**
 * Two Deployments `<app>-blue` and `<app>-green`, a Service `<app>` whose selector is the switch, and a
 * Service `<app>-preview` for checks on the colour being deployed. Everything is server-side applied
 * under the field manager `go-ship`; the live colour, versions, a canary in progress and the release
 * history are annotations on the Service and Deployments, and the deploy lock is a Lease, so state
 * lives in the cluster.
 *
 * Canary without a mesh: the Service selects both colours and the pods are split by replicas (kube-proxy
 * picks an endpoint per connection, so the share is the canary's pods over all, per connection). With
 * `httpRoute`: the HTTPRoute's backend weights to the per-colour Services, per request at the gateway.
 */
export class KubernetesTarget implements Target {
  constructor(readonly opts: KubernetesTargetOptions) {
    if (opts.manifest) this.templateOf(opts.manifest); // fail early on a manifest go-ship cannot use
  }

  private get ns(): string {
    return this.opts.namespace;
  }

  private deploymentPath(color?: Color): string {
    return `/apis/apps/v1/namespaces/${this.ns}/deployments${color ? `/${this.opts.app}-${color}` : ''}`;
  }

  private servicePath(name: string): string {
    return `/api/v1/namespaces/${this.ns}/services/${name}`;
  }

  private get httpRoutePath(): string {
    return `/apis/gateway.networking.k8s.io/v1/namespaces/${this.ns}/httproutes/${this.opts.httpRoute}`;
  }

  /** The labels that select the app's pods, without the colour. */
  private get appLabels(): Record<string, string> {
    return this.opts.selector ?? { [APP_LABEL]: this.opts.app };
  }

  private get leasePath(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.ns}/leases/${this.opts.app}-deploy-lock`;
  }

  describe(): string {
    return `Kubernetes ${this.opts.client.conn.server}, namespace ${this.ns}, Service ${this.opts.app}`;
  }

  async read(): Promise<DeployState> {
    const colors = {} as Record<Color, ColorStatus>;
    for (const color of COLORS) {
      const d = await this.opts.client.get(this.deploymentPath(color));
      colors[color] = d ? statusOf(color, d) : { color, state: 'absent' };
    }
    const rec = await this.routeNow();
    const lease = await this.opts.client.get(this.leasePath);
    const holder = at(lease, 'spec', 'holderIdentity') as string | undefined;
    return {
      live: rec.live,
      previous: rec.previous,
      switchedAt: rec.switchedAt,
      history: rec.history,
      canary: rec.canary,
      colors,
      lock: holder && !leaseExpired(lease!) ? leaseInfo(lease!) : undefined,
    };
  }

  /** The image the colour was deployed by, when that names one image (`repo@sha256:…`, as the pipeline deploys). */
  async digestOf(color: Color): Promise<string | undefined> {
    const d = await this.opts.client.get(this.deploymentPath(color));
    const image = d ? statusOf(color, d).image : undefined;
    return pinnedImage(image) ? image : undefined;
  }

  async tryLock(holder: string, ttlMs: number): Promise<LockAttempt> {
    const now = new Date();
    const spec = {
      holderIdentity: holder,
      leaseDurationSeconds: Math.ceil(ttlMs / 1000),
      acquireTime: micro(now),
      renewTime: micro(now),
    };
    const lease = await this.opts.client.get(this.leasePath);
    try {
      if (!lease) {
        await this.opts.client.request('POST', this.leasePath.replace(/\/[^/]+$/, ''), {
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: `${this.opts.app}-deploy-lock`, namespace: this.ns },
            spec,
          },
          verb: 'create',
        });
      } else {
        if (at(lease, 'spec', 'holderIdentity') && !leaseExpired(lease))
          return { acquired: false, held: leaseInfo(lease) };
        if (at(lease, 'spec', 'holderIdentity'))
          log.warning(
            `Breaking an expired deploy lock held by ${leaseInfo(lease).holder} since ${leaseInfo(lease).since}.`,
          );
        // Optimistic concurrency: the resourceVersion makes a concurrent taker's update fail with 409.
        await this.opts.client.request('PUT', this.leasePath, {
          body: { ...lease, spec },
          verb: 'update',
        });
      }
    } catch (e) {
      if (e instanceof KubeError && (e.status === 409 || e.reason === 'AlreadyExists')) {
        const now2 = await this.opts.client.get(this.leasePath);
        return {
          acquired: false,
          held: now2 ? leaseInfo(now2) : { holder: 'another deploy', since: '?', expires: '?' },
        };
      }
      throw e;
    }
    return {
      acquired: true,
      renew: async () => {
        const mine = await this.opts.client.get(this.leasePath);
        if (at(mine, 'spec', 'holderIdentity') !== holder)
          throw new UserError(`the deploy lock is no longer held by ${holder}`);
        // resourceVersion in the body: a concurrent change makes this update fail, never overwrites it.
        await this.opts.client.request('PUT', this.leasePath, {
          body: { ...mine, spec: { ...(mine!.spec as Obj), renewTime: micro(new Date()) } },
          verb: 'update',
        });
      },
      release: async () => {
        const mine = await this.opts.client.get(this.leasePath);
        if (at(mine, 'spec', 'holderIdentity') !== holder) return;
        await this.opts.client
          .request('PUT', this.leasePath, {
            body: { ...mine, spec: { ...(mine!.spec as Obj), holderIdentity: null } },
            verb: 'update',
          })
          .catch((e) => log.warning(`Could not release the deploy lock: ${(e as Error).message}`));
      },
    };
  }

  async prepare(): Promise<void> {
    // The cluster pulls the image; nothing to do here.
  }

  async runs(status: ColorStatus, release: Release): Promise<boolean> {
    return status.state === 'running' && status.image === release.image;
  }

  /** The pod template go-ship deploys: the user's (with its labels checked) or a generated one. */
  private templateOf(manifest?: Obj): Obj {
    if (!manifest) {
      return {
        metadata: { labels: { [APP_LABEL]: this.opts.app } },
        spec: {
          containers: [
            {
              name: this.opts.app,
              ports: [{ name: 'http', containerPort: this.opts.containerPort }],
              readinessProbe: {
                httpGet: { path: this.opts.healthPath, port: this.opts.containerPort },
                periodSeconds: 2,
                failureThreshold: 2,
              },
              ...(this.opts.resources ? { resources: this.opts.resources } : {}),
            },
          ],
        },
      };
    }
    if (manifest.kind !== 'Deployment')
      throw new UserError(
        `Input \`manifest\` holds a ${String(manifest.kind)}; it accepts one apps/v1 Deployment.`,
      );
    const template = at(manifest, 'spec', 'template') as Obj | undefined;
    const labels = (at(template, 'metadata', 'labels') ?? {}) as Record<string, string>;
    const selector = (at(manifest, 'spec', 'selector', 'matchLabels') ?? {}) as Record<string, string>;
    const want = Object.entries(this.appLabels);
    if (
      want.some(([k, v]) => labels[k] !== v) ||
      (Object.keys(selector).length && want.some(([k, v]) => selector[k] !== v))
    ) {
      const pairs = want.map(([k, v]) => `${k}: ${v}`).join(', ');
      throw new UserError(
        `Input \`manifest\`: the Deployment's pod template labels ${JSON.stringify(labels)} (selector ${JSON.stringify(selector)}) do not carry \`${pairs}\`. go-ship selects pods by that label plus \`${COLOR_LABEL}\` (which it adds); put \`${pairs}\` in spec.template.metadata.labels and spec.selector.matchLabels.`,
      );
    }
    if (
      !Array.isArray(at(template, 'spec', 'containers')) ||
      !(at(template, 'spec', 'containers') as unknown[]).length
    )
      throw new UserError(
        'Input `manifest`: the Deployment has no containers in spec.template.spec.containers.',
      );
    return template!;
  }

  private deployment(color: Color, release: Release, replicas: number): Obj {
    const template = structuredClone(this.templateOf(this.opts.manifest));
    const tmeta = (template.metadata ??= {}) as Obj;
    tmeta.labels = { ...((tmeta.labels as Obj) ?? {}), ...this.appLabels, [COLOR_LABEL]: color };
    tmeta.annotations = { ...((tmeta.annotations as Obj) ?? {}), [`${A}version`]: release.version ?? '' };
    const spec = template.spec as Obj;
    spec.terminationGracePeriodSeconds ??= Math.ceil(this.opts.drainMs / 1000);
    const containers = spec.containers as Obj[];
    const main = containers.find((c) => c.name === this.opts.app) ?? containers[0];
    main.image = release.image;
    const env = Object.entries(this.opts.env).map(([name, value]) => ({
      name,
      value: value.replace(/\$\{(COLOR|VERSION|PORT)\}/g, (_, k: string) =>
        k === 'COLOR' ? color : k === 'VERSION' ? (release.version ?? '') : String(this.opts.containerPort),
      ),
    }));
    if (env.length)
      main.env = [
        ...((main.env as Obj[]) ?? []).filter((e) => !((e.name as string) in this.opts.env)),
        ...env,
      ];
    if (this.opts.args.length) main.args = this.opts.args;
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: `${this.opts.app}-${color}`,
        namespace: this.ns,
        labels: { ...this.appLabels, [COLOR_LABEL]: color },
        annotations: {
          [`${A}image`]: release.image,
          [`${A}version`]: release.version ?? '',
          [`${A}deployed-at`]: new Date().toISOString(),
        },
      },
      spec: {
        replicas,
        progressDeadlineSeconds: Math.max(10, Math.ceil(this.opts.readyTimeoutMs / 1000)),
        selector: { matchLabels: { ...this.appLabels, [COLOR_LABEL]: color } },
        template,
      },
    };
  }

  /** A Service of go-ship's; `color` undefined selects both colours (a canary split by replicas). */
  private service(name: string, color: Color | undefined, annotations: Record<string, string> = {}): Obj {
    const chart = name === this.opts.app ? this.chartOwnService : undefined;
    if (chart) {
      // The chart names its Service <app> (a release named after its chart): that one is the switch,
      // with the chart's ports and type, go-ship's selector and state.
      const svc = structuredClone(chart);
      const meta = svc.metadata as Obj;
      meta.namespace = this.ns;
      meta.annotations = { ...((meta.annotations as Obj) ?? {}), ...annotations };
      (svc.spec as Obj).selector = { ...this.appLabels, ...(color ? { [COLOR_LABEL]: color } : {}) };
      return svc;
    }
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: this.ns, labels: { [APP_LABEL]: this.opts.app }, annotations },
      spec: {
        selector: { ...this.appLabels, ...(color ? { [COLOR_LABEL]: color } : {}) },
        ports: [{ name: 'http', port: this.opts.servicePort, targetPort: this.targetPort }],
      },
    };
  }

  /** The port the Services send to: the user's (or chart's) main container's first port, else container-port. */
  private get targetPort(): number {
    if (!this.opts.manifest) return this.opts.containerPort;
    const containers = at(this.templateOf(this.opts.manifest), 'spec', 'containers') as Obj[];
    const main = containers.find((c) => c.name === this.opts.app) ?? containers[0];
    const declared = at(main, 'ports', '0', 'containerPort');
    return typeof declared === 'number' ? declared : this.opts.containerPort;
  }

  /** The chart's Services that select the app's pods: go-ship pins them to the live colour as well. */
  private get routedServices(): Obj[] {
    const pod = (at(this.templateOf(this.opts.manifest), 'metadata', 'labels') ?? {}) as Record<
      string,
      string
    >;
    return (this.opts.objects ?? []).filter((o) => {
      const sel = (at(o, 'spec', 'selector') ?? {}) as Record<string, string>;
      return (
        o.kind === 'Service' &&
        Object.keys(sel).length > 0 &&
        Object.entries(sel).every(([k, v]) => pod[k] === v)
      );
    });
  }

  /** A chart Service named <app>, which go-ship writes as its own Service <app>. */
  private get chartOwnService(): Obj | undefined {
    return this.opts.objects?.find(
      (o) => o.kind === 'Service' && at(o, 'metadata', 'name') === this.opts.app,
    );
  }

  /**
   * The chart's objects as they are, except its routed Services with `color` added to their selector
   * and its autoscalers pointed at the `color` Deployment (the chart's own is never created).
   */
  private chartObjects(color: Color | undefined): Obj[] {
    const routed = new Set(this.routedServices);
    const scalers = new Set(this.autoscalers);
    const own = this.chartOwnService;
    return (this.opts.objects ?? [])
      .filter((o) => o !== own)
      .map((o) => {
        const obj = structuredClone(o);
        (obj.metadata as Obj).namespace ??= this.ns;
        if (routed.has(o) && color) ((obj.spec as Obj).selector as Obj)[COLOR_LABEL] = color;
        if (scalers.has(o) && color)
          ((obj.spec as Obj).scaleTargetRef as Obj).name = `${this.opts.app}-${color}`;
        return obj;
      });
  }

  private get autoscalers(): Obj[] {
    return this.opts.manifest ? autoscalersOf(this.opts.objects ?? [], this.opts.manifest) : [];
  }

  /** What a deploy would change, as the API server would store it (server-side dry run), per object. */
  async plannedObjects(
    color: Color,
    release: Release,
  ): Promise<{ name: string; before?: Obj; after: Obj }[]> {
    const c = this.opts.client;
    const out: { name: string; before?: Obj; after: Obj }[] = [];
    const d = this.deployment(color, release, this.opts.replicas);
    out.push({
      name: `Deployment ${this.opts.app}-${color}`,
      before: await c.get(this.deploymentPath(color)),
      after: await c.apply(this.deploymentPath(color), d, true),
    });
    const preview = `${this.opts.app}-preview`;
    out.push({
      name: `Service ${preview}`,
      before: await c.get(this.servicePath(preview)),
      after: await c.apply(this.servicePath(preview), this.service(preview, color), true),
    });
    const live = (await this.routeNow()).live;
    for (const obj of this.chartObjects(live ?? color)) {
      const path = await c.pathOf(obj, this.ns);
      out.push({
        name: `${String(obj.kind)} ${String(at(obj, 'metadata', 'name'))}`,
        before: await c.get(path),
        after: await c.apply(path, obj, true),
      });
    }
    return out;
  }

  async dryRunDiff(color: Color, release: Release): Promise<string> {
    const objects = await this.plannedObjects(color, release);
    return objects.map((o) => yamlDiff(o.name, o.before, o.after)).join('\n\n');
  }

  async start(color: Color, release: Release): Promise<void> {
    const c = this.opts.client;
    // An HTTPRoute go-ship cannot set weights on fails the deploy before anything runs.
    if (this.opts.httpRoute) await this.routeRules();
    if (this.opts.objects?.length) {
      // The chart's other objects as they are; its Services that select the app stay on the live colour.
      const live = (await this.routeNow()).live;
      const objects = this.chartObjects(live ?? color);
      for (const obj of objects) await c.apply(await c.pathOf(obj, this.ns), obj);
      log.info(
        `  applied the chart's ${objects.map((o) => `${String(o.kind)} ${String(at(o, 'metadata', 'name'))}`).join(', ')}`,
      );
    }
    await c.apply(this.deploymentPath(color), this.deployment(color, release, this.opts.replicas));
    await c.apply(
      this.servicePath(`${this.opts.app}-preview`),
      this.service(`${this.opts.app}-preview`, color),
    );
    if (this.opts.httpRoute)
      for (const each of COLORS)
        await c.apply(
          this.servicePath(`${this.opts.app}-${each}`),
          this.service(`${this.opts.app}-${each}`, each),
        );
    await this.waitRollout(color);
  }

  /**
   * A Job from the colour's pod template for the new release (its image, environment and service
   * account), with `args` for the main container, no probes, no retries, and none of the app's labels,
   * so no Service sends it a request. Kubernetes stops it at `timeoutMs` (activeDeadlineSeconds); it is
   * deleted, with its pod, once it has ended.
   */
  async runOnce(color: Color, release: Release, args: string[], timeoutMs: number): Promise<OneOff> {
    const c = this.opts.client;
    const name = `${this.opts.app}-before-traffic-${Date.now().toString(36)}`.slice(0, 63).replace(/-+$/, '');
    const template = (this.deployment(color, release, 1).spec as Obj).template as Obj;
    const meta = template.metadata as Obj;
    meta.labels = { [HOOK_LABEL]: 'before-traffic', [`${A}app`]: this.opts.app };
    const spec = template.spec as Obj;
    spec.restartPolicy = 'Never';
    const containers = spec.containers as Obj[];
    const main = containers.find((x) => x.name === this.opts.app) ?? containers[0];
    main.args = args;
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) delete main[probe];
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    const path = `/apis/batch/v1/namespaces/${this.ns}/jobs/${name}`;
    await c.apply(path, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        namespace: this.ns,
        labels: { [HOOK_LABEL]: 'before-traffic', [`${A}app`]: this.opts.app },
      },
      spec: { backoffLimit: 0, activeDeadlineSeconds: seconds, template },
    });
    const where = `Job ${name} from ${release.image}`;
    try {
      const deadline = Date.now() + timeoutMs + 30_000;
      for (;;) {
        const job = await c.get(path);
        const conditions = (at(job, 'status', 'conditions') ?? []) as {
          type: string;
          status: string;
          reason?: string;
          message?: string;
        }[];
        const ended = conditions.find(
          (x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True',
        );
        if (ended || Date.now() > deadline) {
          const failed = !ended || ended.type === 'Failed';
          const timedOut = !ended || ended.reason === 'DeadlineExceeded';
          const output = await this.jobOutput(name);
          return {
            where,
            code: failed ? 1 : 0,
            timedOut: failed && timedOut,
            output: [output, failed && ended?.message ? `${ended.reason}: ${ended.message}` : '']
              .filter(Boolean)
              .join('\n'),
          };
        }
        await sleep(500);
      }
    } finally {
      await c
        .request('DELETE', `${path}?propagationPolicy=Background`, { allow404: true, verb: 'delete' })
        .catch((e: Error) => log.warning(`Could not delete ${name}: ${e.message}`));
    }
  }

  /** What the Job's pod wrote, as far as the API server has it (a node without a kubelet has none). */
  private async jobOutput(job: string): Promise<string> {
    const c = this.opts.client;
    const pods = await c
      .get(`/api/v1/namespaces/${this.ns}/pods?labelSelector=${encodeURIComponent(`job-name=${job}`)}`)
      .catch(() => undefined);
    const pod = ((pods?.items ?? []) as Obj[])[0];
    const podName = at(pod, 'metadata', 'name') as string | undefined;
    if (!podName) return '';
    const r = await c
      .request('GET', `/api/v1/namespaces/${this.ns}/pods/${podName}/log?tailLines=30`, {
        allow404: true,
        verb: 'get logs',
      })
      .catch(() => undefined);
    return r && r.status < 300 ? String(r.body.message ?? '') : '';
  }

  async resume(color: Color): Promise<void> {
    const d = await this.opts.client.get(this.deploymentPath(color));
    const ann = (at(d, 'metadata', 'annotations') ?? {}) as Record<string, string>;
    await this.start(color, { image: ann[`${A}image`], version: ann[`${A}version`] || undefined });
  }

  /** Waits for the Deployment's rollout: observed, all replicas updated, ready and available. */
  private async waitRollout(color: Color): Promise<void> {
    const deadline = Date.now() + this.opts.readyTimeoutMs;
    let last = '';
    let lastLog = 0;
    for (;;) {
      const d = await this.opts.client.get(this.deploymentPath(color));
      const why = d ? notReady(d) : 'the Deployment is gone';
      if (!why) return;
      const failed = d && failure(d);
      if (failed) throw new UserError(`${this.opts.app}-${color} did not roll out: ${failed}`);
      if (why !== last || Date.now() - lastLog > 5_000) {
        log.info(`  rollout ${this.opts.app}-${color}: ${why}`);
        [last, lastLog] = [why, Date.now()];
      }
      if (Date.now() > deadline)
        throw new UserError(
          `${this.opts.app}-${color} did not become ready within ${formatDuration(this.opts.readyTimeoutMs)} (${why}); traffic was not moved.`,
        );
      await sleep(500);
    }
  }

  async crashed(color: Color): Promise<string | undefined> {
    const d = await this.opts.client.get(this.deploymentPath(color));
    if (!d) return `${this.opts.app}-${color} is gone`;
    return failure(d);
  }

  endpoint(color: Color): string {
    void color; // the preview Service follows the colour being deployed
    return (
      this.opts.previewUrl?.replace(/\/$/, '') ??
      `http://${this.opts.app}-preview.${this.ns}.svc.cluster.local:${this.opts.servicePort}`
    );
  }

  /**
   * All new traffic to `color`. A canary split by replicas that is promoted gets its full replicas
   * before it takes every request; any other colour (the stable one a failed canary returns to) takes
   * the selector at once, so the failing pods leave first, and is scaled back up after.
   */
  async route(color: Color, state: { live: Color; previous?: Color; version?: string }): Promise<void> {
    const c = this.opts.client;
    const rec = await this.routeNow();
    const promoted = rec.canary?.color === color;
    const byReplicas = !this.opts.httpRoute;
    if (byReplicas && promoted) await this.scaleTo(color, this.opts.replicas);
    const d = await c.get(this.deploymentPath(color));
    const image = (at(d, 'metadata', 'annotations', `${A}image`) as string | undefined) ?? '';
    const now = new Date().toISOString();
    // The gateway first: if the HTTPRoute cannot be updated, the Service still tells the truth.
    if (this.opts.httpRoute)
      await this.setWeights({ [color]: 100, [otherColor(color)]: 0 } as Record<Color, number>);
    await this.writeRoute(color, {
      live: state.live,
      previous: state.previous,
      version: state.version,
      switchedAt: now,
      history: image ? withRelease(rec.history, { version: state.version, image, at: now }) : rec.history,
    });
    if (byReplicas && !promoted) await this.scaleTo(color, this.opts.replicas);
  }

  /**
   * A canary step. By replicas: the canary gets round(replicas × percent) pods (at least one, and at
   * least one stable), the Service selects both colours, the stable colour keeps the rest. The share
   * is per connection and only as fine as one pod. With an HTTPRoute: its backend weights, per request.
   */
  async weigh(
    canary: Color,
    percent: number,
    state: { live: Color; previous?: Color; version?: string },
  ): Promise<RouteTiming> {
    const rec = await this.routeNow();
    const record = { ...rec, live: state.live, previous: state.previous, canary: { color: canary, percent } };
    if (this.opts.httpRoute) {
      await this.setWeights({ [canary]: percent, [state.live]: 100 - percent } as Record<Color, number>);
      await this.writeRoute(state.live, record);
      return {
        note: `HTTPRoute ${this.opts.httpRoute}: ${this.opts.app}-${canary} weight ${percent}, ${this.opts.app}-${state.live} weight ${100 - percent}`,
      };
    }
    const total = this.opts.replicas;
    const k = canaryReplicas(total, percent);
    await this.scaleTo(canary, k);
    await this.writeRoute(undefined, record);
    await this.scaleTo(state.live, total - k);
    const share = ((100 * k) / total).toFixed(1);
    const note = `${k} of ${total} pods (${share}% of connections)`;
    if (Math.abs((100 * k) / total - percent) > 5)
      log.warning(
        `The canary step ${percent}% runs as ${note}: with replicas ${total} the split is only as fine as ${(100 / total).toFixed(1)}%. Raise replicas, or route by weights with http-route (Gateway API).`,
      );
    return { note };
  }

  /** What the Service <app> records now. */
  private async routeNow(): Promise<RouteRecord> {
    return routeRecord(await this.opts.client.get(this.servicePath(this.opts.app)));
  }

  /** The Service <app> (and the chart's Services that select the app) pointing at `color`, or both when undefined. */
  private async writeRoute(color: Color | undefined, rec: RouteRecord): Promise<void> {
    const c = this.opts.client;
    await c.apply(this.servicePath(this.opts.app), this.service(this.opts.app, color, annotationsOf(rec)));
    // The chart's routed Services follow the route (both colours during a canary split by replicas);
    // its autoscalers follow the live colour (the stable one until a canary is promoted).
    const named = (list: Obj[], objects: Obj[]) =>
      objects.filter((o) =>
        list.some((r) => r.kind === o.kind && at(r, 'metadata', 'name') === at(o, 'metadata', 'name')),
      );
    const chart = [
      ...named(this.routedServices, this.chartObjects(color)),
      ...named(this.autoscalers, this.chartObjects(color ?? rec.live)),
    ];
    for (const obj of chart) await c.apply(await c.pathOf(obj, this.ns), obj);
  }

  /**
   * Sets the weights of the backendRefs to <app>-blue and <app>-green in every rule of the HTTPRoute
   * that names either, keeping the rest of the route as its owner wrote it. The update carries the
   * resourceVersion, so a concurrent edit makes it fail (409) and it is read and tried again.
   */
  private async setWeights(weights: Record<Color, number>): Promise<void> {
    const c = this.opts.client;
    for (let attempt = 1; ; attempt++) {
      const { route, rules, mine } = await this.routeRules();
      for (const rule of rules) {
        const refs = (rule.backendRefs ?? []) as Obj[];
        rule.backendRefs = [
          ...refs.filter((r) => !mine(r)),
          ...COLORS.map((x) => ({
            ...(refs.find((r) => mine(r) && r.name === `${this.opts.app}-${x}`) ?? {
              name: `${this.opts.app}-${x}`,
              port: this.opts.servicePort,
            }),
            weight: weights[x],
          })),
        ];
      }
      try {
        await c.request('PUT', `${this.httpRoutePath}?fieldManager=go-ship`, { body: route, verb: 'update' });
        return;
      } catch (e) {
        if (!(e instanceof KubeError && e.status === 409) || attempt >= 5) throw e;
      }
    }
  }

  /** The HTTPRoute and its rules that name <app>-blue or <app>-green; refused with the YAML to write when there are none. */
  private async routeRules(): Promise<{ route: Obj; rules: Obj[]; mine: (ref: Obj) => boolean }> {
    const names = COLORS.map((x) => `${this.opts.app}-${x}`);
    const example = `spec:\n  parentRefs: [{name: <your gateway>}]\n  rules:\n  - backendRefs:\n    - {name: ${names[0]}, port: ${this.opts.servicePort}}\n    - {name: ${names[1]}, port: ${this.opts.servicePort}, weight: 0}`;
    const route = await this.opts.client.get(this.httpRoutePath);
    if (!route)
      throw new UserError(
        `Input \`http-route\` names HTTPRoute ${this.opts.httpRoute}, which namespace ${this.ns} does not have (or the Gateway API CRDs are not installed). Create it with a rule whose backendRefs are the Services go-ship makes:\n${example}`,
      );
    const mine = (r: Obj) =>
      (r.kind ?? 'Service') === 'Service' && !r.group && names.includes(r.name as string);
    const rules = ((at(route, 'spec', 'rules') ?? []) as Obj[]).filter((rule) =>
      ((rule.backendRefs ?? []) as Obj[]).some(mine),
    );
    if (!rules.length)
      throw new UserError(
        `Input \`http-route\`: HTTPRoute ${this.opts.httpRoute} has no rule whose backendRefs name ${names.join(' or ')}, so go-ship has no weights to set. Give it a rule like:\n${example}`,
      );
    return { route, rules, mine };
  }

  /** Scales the colour to `replicas` (when it has another count) and waits for the rollout. */
  private async scaleTo(color: Color, replicas: number): Promise<void> {
    const d = await this.opts.client.get(this.deploymentPath(color));
    if (Number(at(d, 'spec', 'replicas') ?? -1) !== replicas) {
      await this.opts.client.request('PATCH', `${this.deploymentPath(color)}/scale?fieldManager=go-ship`, {
        body: { spec: { replicas } },
        contentType: 'application/merge-patch+json',
        verb: 'patch (scale)',
      });
      log.info(`  ${this.opts.app}-${color}: ${replicas} replicas`);
    }
    await this.waitRollout(color);
  }

  routeSnapshot(): Promise<unknown> {
    return this.opts.client.get(this.servicePath(this.opts.app));
  }

  async unroute(snapshot: unknown): Promise<void> {
    if (!snapshot) {
      await this.opts.client.request('DELETE', this.servicePath(this.opts.app), { verb: 'delete' });
      return;
    }
    const color = at(snapshot, 'spec', 'selector', COLOR_LABEL) as Color | undefined;
    await this.writeRoute(color, routeRecord(snapshot as Obj));
  }

  async stop(color: Color): Promise<void> {
    // Through the scale subresource: an apply with only `replicas` would drop every other field
    // go-ship's field manager owns. The pods get SIGTERM and terminationGracePeriodSeconds (drain).
    await this.opts.client.request('PATCH', `${this.deploymentPath(color)}/scale?fieldManager=go-ship`, {
      body: { spec: { replicas: 0 } },
      contentType: 'application/merge-patch+json',
      verb: 'patch (scale)',
    });
  }
}

/** The route state kept in the Service <app>'s annotations. */
function routeRecord(svc: Obj | undefined): RouteRecord {
  const ann = (at(svc, 'metadata', 'annotations') ?? {}) as Record<string, string>;
  // The selector names the live colour, except during a canary split by replicas (both colours).
  const live = (at(svc, 'spec', 'selector', COLOR_LABEL) as string | undefined) ?? ann[`${A}live`];
  const color = (c: string | undefined) =>
    (COLORS as readonly string[]).includes(c ?? '') ? (c as Color) : undefined;
  let history: HistoryEntry[] = [];
  try {
    const parsed = JSON.parse(ann[`${A}history`] || '[]') as unknown;
    if (Array.isArray(parsed)) history = parsed.filter((h: HistoryEntry) => typeof h?.image === 'string');
  } catch {
    // An annotation edited by hand: no history rather than a failed deploy.
  }
  const canary = /^(blue|green):(\d+)$/.exec(ann[`${A}canary`] ?? '');
  return {
    live: color(live),
    previous: color(ann[`${A}previous`]),
    version: ann[`${A}version`] || undefined,
    switchedAt: ann[`${A}switched-at`] || undefined,
    history,
    canary: canary ? { color: canary[1] as Color, percent: Number(canary[2]) } : undefined,
  };
}

function annotationsOf(rec: RouteRecord): Record<string, string> {
  return {
    [`${A}live`]: rec.live ?? '',
    [`${A}previous`]: rec.previous ?? '',
    [`${A}version`]: rec.version ?? '',
    [`${A}switched-at`]: rec.switchedAt ?? '',
    [`${A}history`]: JSON.stringify(rec.history),
    [`${A}canary`]: rec.canary ? `${rec.canary.color}:${rec.canary.percent}` : '',
  };
}

function statusOf(color: Color, d: Obj): ColorStatus {
  const ann = (at(d, 'metadata', 'annotations') ?? {}) as Record<string, string>;
  const replicas = Number(at(d, 'spec', 'replicas') ?? 1);
  return {
    color,
    state: replicas === 0 ? 'stopped' : notReady(d) ? (failure(d) ? 'crashed' : 'stopped') : 'running',
    image: ann[`${A}image`],
    version: ann[`${A}version`] || undefined,
    deployedAt: ann[`${A}deployed-at`],
  };
}

/** Why the rollout is not complete yet, or undefined when it is. */
function notReady(d: Obj): string | undefined {
  const want = Number(at(d, 'spec', 'replicas') ?? 1);
  const gen = Number(at(d, 'metadata', 'generation') ?? 0);
  const observed = Number(at(d, 'status', 'observedGeneration') ?? 0);
  const n = (k: string) => Number(at(d, 'status', k) ?? 0);
  if (observed < gen) return 'waiting for the controller to see the new spec';
  if (n('updatedReplicas') < want) return `${n('updatedReplicas')}/${want} replicas updated`;
  if (n('replicas') > n('updatedReplicas'))
    return `${n('replicas') - n('updatedReplicas')} old replicas still terminating`;
  if (n('readyReplicas') < want) return `${n('readyReplicas')}/${want} replicas ready`;
  if (n('availableReplicas') < want) return `${n('availableReplicas')}/${want} replicas available`;
  return undefined;
}

/** A rollout the controller gave up on (progress deadline) or cannot create pods for. */
function failure(d: Obj): string | undefined {
  const conds = (at(d, 'status', 'conditions') ?? []) as {
    type: string;
    status: string;
    reason?: string;
    message?: string;
  }[];
  const bad = conds.find(
    (c) =>
      (c.type === 'Progressing' && c.status === 'False') ||
      (c.type === 'ReplicaFailure' && c.status === 'True'),
  );
  return bad ? `${bad.reason ?? bad.type}: ${bad.message ?? ''}`.trim() : undefined;
}

function micro(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function leaseExpired(lease: Obj): boolean {
  const renew = Date.parse(String(at(lease, 'spec', 'renewTime') ?? at(lease, 'spec', 'acquireTime') ?? ''));
  const secs = Number(at(lease, 'spec', 'leaseDurationSeconds') ?? 0);
  return !Number.isFinite(renew) || renew + secs * 1000 < Date.now();
}

function leaseInfo(lease: Obj): { holder: string; since: string; expires: string } {
  const since = String(at(lease, 'spec', 'acquireTime') ?? '?');
  const renew = Date.parse(String(at(lease, 'spec', 'renewTime') ?? since));
  const secs = Number(at(lease, 'spec', 'leaseDurationSeconds') ?? 0);
  return {
    holder: String(at(lease, 'spec', 'holderIdentity') ?? '?'),
    since,
    expires: Number.isFinite(renew) ? new Date(renew + secs * 1000).toISOString() : '?',
  };
}
