import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readActionMetadata } from '../../src/runner/action-metadata.js';
import { APP_INPUTS, TARGETS } from '../../src/deploy/targets/index.js';
import { post } from '../../src/actions/deploy-bluegreen/main.js';
import { getInputs } from '../../src/actions/deploy-bluegreen/inputs.js';
import { type Target, versionFromImage } from '../../src/deploy/target.js';
import { DockerTarget } from '../../src/deploy/targets/docker/target.js';
import { checkLockHold, plannedHoldMs } from '../../src/deploy/engine.js';
import { actionInputs } from '../helpers/inputs.js';

/** Inputs as the runner passes them: action.yml's defaults, then `with:`. */
function config(withs: Record<string, string>, extra: Record<string, string> = {}) {
  const { inputs, env } = actionInputs('deploy-bluegreen', withs, { GITHUB_WORKSPACE: '/srv/app', ...extra });
  return getInputs(inputs, env);
}

const ok = {
  app: 'hello',
  image: 'ghcr.io/org/hello:1.4.0',
  url: 'http://127.0.0.1:8080/',
  'nginx-upstream-file': 'nginx/hello.conf',
};
/** `ok` for target kubernetes: the nginx upstream file is the Docker target's. */
const k8sBase = { app: ok.app, image: ok.image, url: ok.url };

test('host takes names, IPv4 and bracketed IPv6', async () => {
  for (const host of ['127.0.0.1', 'app-1.internal', '[::1]'])
    expect(((await config({ ...ok, host }).makeTarget()) as DockerTarget).opts.host).toBe(host);
});

test('defaults: a full plan from four inputs', async () => {
  const { config: c, makeTarget } = config(ok);
  const target = await makeTarget();
  expect(c).toMatchObject({
    action: 'deploy',
    app: 'hello',
    release: { image: 'ghcr.io/org/hello:1.4.0', version: '1.4.0' },
    url: 'http://127.0.0.1:8080',
    health: { path: '/healthz', status: 200, successes: 3, intervalMs: 1000, timeoutMs: 5000 },
    versionPath: '/version',
    autoPromote: true,
    readyTimeoutMs: 120_000,
    verifyMs: 30_000,
    keepOldMs: 0,
    drainMs: 10_000,
    lockTimeoutMs: 600_000,
    dryRun: false,
  });
  expect(c.gate).toBeUndefined();
  const t = target as DockerTarget;
  expect(t.opts).toMatchObject({ ports: { blue: 8081, green: 8082 }, network: 'bridge', host: '127.0.0.1' });
  expect(t.opts.router.opts.upstreamFile).toBe('/srv/app/nginx/hello.conf');
  expect(t.opts.router.opts.upstreamName).toBe('hello');
  expect(t.endpoint('green')).toBe('http://127.0.0.1:8082');
});

test('the version comes from `version`, else from an image tag that is a version', () => {
  expect(versionFromImage('ghcr.io/org/app:v1.2.3')).toBe('1.2.3');
  expect(versionFromImage('127.0.0.1:5055/org/app:2.0.0-rc.1')).toBe('2.0.0-rc.1');
  expect(versionFromImage('127.0.0.1:5055/org/app')).toBeUndefined();
  expect(versionFromImage('ghcr.io/org/app:main')).toBeUndefined();
  expect(versionFromImage('ghcr.io/org/app@sha256:' + 'a'.repeat(64))).toBeUndefined();
  expect(config({ ...ok, version: 'v9.9.9' }).config.release?.version).toBe('9.9.9');
});

test('the metric gate, keep-old forever, and status without an image or url', () => {
  const { config: c } = config({
    ...ok,
    'prometheus-url': 'http://prom:9090',
    query: 'rate(errors{color="${COLOR}"}[1m])',
    threshold: '<= 0.01',
    'on-no-data': 'pass',
    'keep-old': 'forever',
  });
  expect(c.gate).toMatchObject({ comparator: '<=', threshold: 0.01, onNoData: 'pass' });
  expect(c.keepOldMs).toBe('forever');
  expect(config({ app: 'hello', action: 'status', 'nginx-upstream-file': '/x.conf' }).config.action).toBe(
    'status',
  );
});

test.each([
  [{ app: 'Hello_App' }, /Input `app` got `Hello_App`; it accepts lower-case letters/],
  [{ image: '' }, /Input `image` is required for action: deploy/],
  [{ url: '' }, /Input `url` is required for action: deploy: the public entry/],
  [{ url: 'localhost:8080' }, /Input `url` got `localhost:8080`; it accepts an http:\/\/ or https:\/\/ URL/],
  [
    { 'green-port': '8081' },
    /Input `green-port` got `8081`; it accepts a port other than blue-port \(8081\)/,
  ],
  [{ 'blue-port': '70000' }, /Input `blue-port` got `70000`; it accepts a whole number from 1 to 65535/],
  [{ 'health-path': 'healthz' }, /Input `health-path` got `healthz`; it accepts a path starting with `\/`/],
  [{ 'health-body': '(' }, /Input `health-body` got `\(`; it accepts a regular expression/],
  [{ query: 'up' }, /needs both `prometheus-url` and `query` \(got only `query`\)/],
  [{ query: 'up', 'prometheus-url': 'http://p:9090' }, /Input `threshold` is required with `query`/],
  [{ query: 'up', 'prometheus-url': 'http://p:9090', threshold: '5' }, /Input `threshold` got `5`/],
  [
    { 'keep-old': 'always' },
    /Input `keep-old` got `always`; it accepts a duration such as `0`, `30s` or `10m` \(at most 596h\), or `forever`/,
  ],
  [{ 'verify-seconds': '-1' }, /Input `verify-seconds` got `-1`/],
  [{ 'nginx-upstream-file': '' }, /Input `nginx-upstream-file` is required for target: docker/],
  [
    { action: 'redeploy' },
    /Input `action` got `redeploy`; it accepts one of `deploy`, `rollback`, `promote`, `status`/,
  ],
  [{ network: 'overlay' }, /Input `network` got `overlay`; it accepts one of `bridge`, `host`/],
  // Untrusted input (#29 item 9): both went into nginx's config as given, a `;` and a `}` included.
  [
    { 'nginx-upstream': 'x { server 10.0.0.1:80; } upstream y' },
    /Input `nginx-upstream` got `x \{ server 10\.0\.0\.1:80; \} upstream y`; it accepts an upstream name/,
  ],
  [
    { host: '127.0.0.1:80; server 10.0.0.1' },
    /Input `host` got `127\.0\.0\.1:80; server 10\.0\.0\.1`; it accepts a host name or IP address/,
  ],
  // #32: deploy hooks.
  [
    { 'before-traffic': 'migrate "up' },
    /Input `before-traffic` got `migrate "up`; it accepts words split as a shell would/,
  ],
  [
    { 'after-switch': 'true', 'hook-timeout': '0s' },
    /Input `hook-timeout` got `0s`; it accepts a duration from 1s to/,
  ],
  [
    { 'after-switch': 'true', 'after-switch-env': 'SMOKE_URL, GITHUB_TOKEN' },
    /Input `after-switch-env` got `GITHUB_TOKEN`; it accepts names of variables it needs \(e\.g\. `SMOKE_API_KEY`\), not inputs, runtime tokens or secrets/,
  ],
])('bad input %j is refused with a message that names it', (bad, message) => {
  expect(() => config({ ...ok, ...bad })).toThrow(message);
});

test('kubernetes: a kubeconfig input is written 0600 for the step, its token masked first, and removed by post', async () => {
  const tmp = mkdtempSync(join(process.env.GO_SHIP_TEST_TMP ?? tmpdir(), 'go-ship-kc-'));
  const stateFile = join(tmp, 'state');
  writeFileSync(stateFile, '');
  const kubeconfig = [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
    'users:',
    '  - name: u',
    '    user:',
    '      token: s3cr3t-t0ken-value',
    'contexts: [{name: x, context: {cluster: c, user: u, namespace: apps}}]',
    'current-context: x',
    '',
  ].join('\n');
  const written: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => (
    written.push(String(chunk)),
    true
  )) as typeof process.stdout.write;
  const saved = process.env.GITHUB_STATE;
  process.env.GITHUB_STATE = stateFile;
  try {
    const { makeTarget } = config(
      { ...k8sBase, target: 'kubernetes', kubeconfig: Buffer.from(kubeconfig).toString('base64') },
      { RUNNER_TEMP: tmp },
    );
    const target = (await makeTarget()) as Target;
    expect(target.describe()).toBe('Kubernetes https://127.0.0.1:1, namespace apps, Service hello');
  } finally {
    process.stdout.write = write;
    process.env.GITHUB_STATE = saved;
  }
  expect(written.join('')).toContain('::add-mask::s3cr3t-t0ken-value');
  const dir = /kubeconfig-dir<<(\S+)\n(.*)\n\1/.exec(readFileSync(stateFile, 'utf8'))![2];
  const file = join(dir, 'kubeconfig');
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(readFileSync(file, 'utf8')).toBe(kubeconfig);
  process.env['STATE_kubeconfig-dir'] = dir;
  try {
    await post();
  } finally {
    delete process.env['STATE_kubeconfig-dir'];
  }
  expect(existsSync(dir)).toBe(false);
});

// Untrusted/odd input: a duration past what a timer can wait fired at once (pull-timeout: 600h
// killed docker pull after a few ms); a hold longer than lock-ttl let a second deploy break the lock.
test.each([
  ['pull-timeout', '600h'],
  ['ready-timeout', '10000h'],
  ['keep-old', '600h'],
])('%s %s is refused: a timer cannot wait that long', (name, value) => {
  expect(() => config({ ...ok, [name]: value })).toThrow(`Input \`${name}\` got \`${value}\``);
  expect(() => config({ ...ok, [name]: value })).toThrow('596h');
});

test('kubernetes: canary, chart and http-route inputs are refused by name when they cannot work', async () => {
  const tmp = mkdtempSync(join(process.env.GO_SHIP_TEST_TMP ?? tmpdir(), 'go-ship-kc-'));
  const kubeconfig = join(tmp, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
  );
  writeFileSync(join(tmp, 'deployment.yaml'), 'kind: Deployment\n');
  const k8s = { ...k8sBase, target: 'kubernetes' };
  const refused = (withs: Record<string, string>) =>
    config({ ...k8s, ...withs }, { KUBECONFIG: kubeconfig, GITHUB_WORKSPACE: tmp }).makeTarget();
  await expect(refused({ strategy: 'canary', replicas: '1' })).rejects.toThrow(
    'Input `replicas` got `1`; it accepts at least 2 with strategy canary and no http-route.',
  );
  // With weights at a gateway one replica is enough.
  await expect(refused({ strategy: 'canary', replicas: '1', 'http-route': 'web' })).resolves.toBeDefined();
  await expect(refused({ 'http-route': 'Not_A_Name' })).rejects.toThrow(
    'Input `http-route` got `Not_A_Name`; it accepts the name of an HTTPRoute in the namespace',
  );
  await expect(refused({ chart: 'chart', manifest: 'deployment.yaml' })).rejects.toThrow(
    'Inputs `chart` and `manifest` are both set; give one',
  );
  await expect(refused({ values: 'values.yaml' })).rejects.toThrow(
    'Input `values` got `values.yaml`; it accepts a value only with `chart`.',
  );
  await expect(refused({ chart: 'no-such-chart' })).rejects.toThrow(
    'Input `chart` got `no-such-chart`; it accepts a chart directory (with Chart.yaml) or a packaged chart (.tgz) in the workspace.',
  );
  // A chart brings its own image: `image` may be empty then, and only then.
  expect(() => config({ ...k8s, image: '', chart: 'chart' })).not.toThrow();
  expect(() => config({ ...k8s, image: '' })).toThrow('Input `image` is required for action: deploy.');
});

test('a deploy that could hold the lock longer than lock-ttl is refused with the numbers', () => {
  const { config: c } = config({ ...ok, 'keep-old': '2h' });
  expect(plannedHoldMs(c).total).toBeGreaterThan(2 * 3600_000);
  expect(() => checkLockHold(c)).toThrow(
    /could hold the lock for up to 143m00s \(pull 10m05s, .*keep-old 120m30s.*longer than lock-ttl 60m00s/,
  );
  expect(() => checkLockHold(config({ ...ok, 'keep-old': '2h', 'lock-ttl': '3h' }).config)).not.toThrow();
  expect(() => checkLockHold(config(ok).config)).not.toThrow();
});

// #30: Docker inputs given with target: kubernetes were silently ignored.
test("one target's inputs given to another are refused by name; its defaults are not", () => {
  expect(() => config({ ...ok, target: 'kubernetes', kubeconfig: 'x' })).toThrow(
    'Input `nginx-upstream-file` got `nginx/hello.conf`; it accepts nothing with target: kubernetes; only targets `docker` and `hosts` read it. Remove it, or set target to `docker` or `hosts`.',
  );
  expect(() => config({ ...ok, 'service-port': '8000' })).toThrow(
    'Input `service-port` got `8000`; it accepts nothing with target: docker; only target `kubernetes` reads it.',
  );
  expect(() => config({ ...ok, 'ssh-key': 'k', hosts: 'root@web-1' })).toThrow(
    'Input `hosts` got `root@web-1`; it accepts nothing with target: docker; only target `hosts` reads it.',
  );
  // The runner passes action.yml's defaults for every input; a default is not a choice.
  expect(() => config({ ...ok, 'service-port': '80', replicas: '' })).not.toThrow();
  expect(() => config({ ...ok, target: 'lambda' })).toThrow(
    'Input `target` got `lambda`; it accepts one of `docker`, `kubernetes`, `hosts`',
  );
});

test('every deploy-bluegreen input is read by the action or claimed by a target, and each target reads only what it claims', () => {
  const root = join(import.meta.dirname, '..', '..');
  const declared = Object.keys(readActionMetadata(join(root, 'deploy-bluegreen', 'action.yml')).inputs);
  // Any declared input's name quoted in a folder's code is read there (through inputs.x, or a helper such as ms()).
  const reads = (dir: string, only?: string) =>
    new Set(
      readdirSync(dir)
        .filter((f) => f.endsWith('.ts') && f !== 'defaults.ts' && (!only || f === only))
        .flatMap((f) =>
          [...readFileSync(join(dir, f), 'utf8').matchAll(/'([a-z][a-z-]*)'/g)].map((m) => m[1]),
        )
        .filter((n) => declared.includes(n)),
    );
  // src/notify/ reads the notification inputs every action that tells people shares (notifySettings).
  const shared = new Set([
    ...reads(join(root, 'src', 'actions', 'deploy-bluegreen')),
    ...reads(join(root, 'src', 'notify'), 'notify.ts'),
    ...APP_INPUTS,
  ]);
  const claimed = new Set(TARGETS.flatMap((t) => t.inputs));
  for (const t of TARGETS) {
    const own = reads(join(root, 'src', 'deploy', 'targets', t.name));
    expect({
      target: t.name,
      unclaimed: [...own].filter((n) => !t.inputs.includes(n) && !shared.has(n)),
    }).toEqual({
      target: t.name,
      unclaimed: [],
    });
    expect(t.inputs.filter((n) => !declared.includes(n))).toEqual([]);
    // A claimed input is the target's alone: the shared code does not read it too.
    expect(t.inputs.filter((n) => shared.has(n))).toEqual([]);
  }
  expect(declared.filter((n) => !shared.has(n) && !claimed.has(n) && n !== 'target')).toEqual([]);
});
