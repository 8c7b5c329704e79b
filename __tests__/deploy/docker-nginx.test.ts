import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir, runAction, type ActionRun } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { DOCKER } from '../helpers/docker.js';
import { canarySteps, shareOf, startLoad, type LoadReport } from '../helpers/load.js';
import { freePort } from '../helpers/net.js';
import { helloImage, nginxConfig, type Nginx } from '../helpers/nginx.js';
import { startPrometheus } from '../helpers/prometheus.js';
import { startGitHubApi } from '../helpers/github-api.js';
import { notifyReceiver } from '../helpers/notify-receiver.js';

/** Runs deploy-bluegreen through the bundle the way a workflow would, with the Debian docker CLI first on PATH. */
const deploy = (
  withs: Record<string, string>,
  env: Record<string, string> = {},
  processEnv: Record<string, string> = {},
) =>
  runAction('deploy-bluegreen', {
    with: withs,
    env,
    processEnv: { PATH: `/usr/bin:${process.env.PATH}`, ...processEnv },
  });

const inspect = (name: string) => {
  try {
    return JSON.parse(
      execFileSync(DOCKER, ['container', 'inspect', name], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    )[0] as {
      Id: string;
      State: { Status: string };
      Config: { Labels: Record<string, string> };
    };
  } catch {
    return undefined;
  }
};

async function publicVersion(url: string): Promise<string> {
  return ((await (await fetch(`${url}/version`)).json()) as { version: string }).version;
}

/** Prints what the load generator saw next to the step's own figures, so the CI log shows them. */
function show(name: string, load: LoadReport, summary: string) {
  const versions = load.versions.map((v) => `${v.version}×${v.count}`).join(', ');
  const figure = (label: string) => new RegExp(`\\| ${label}[^|]*\\| ([^|]+) \\|`).exec(summary)?.[1]?.trim();
  console.log(
    `${name}: wrk ${load.requests} requests, ${load.failed} failed ${JSON.stringify(load.errors)}, answers by version ${versions}; step: mixed-version window ${figure('Mixed-version window') ?? '-'}, failed check → old version ${figure('Failed check') ?? '-'}`,
  );
}

/** A step run under wrk load through `url`: the load starts `warmMs` before it and ends 500 ms after. */
async function underLoad(url: string, name: string, step: () => Promise<ActionRun>, warmMs = 500) {
  const load = startLoad(url);
  await new Promise((r) => setTimeout(r, warmMs));
  const r = await step();
  await new Promise((r) => setTimeout(r, 500));
  const seen = await load.stop();
  show(name, seen, r.summary);
  return { r, seen };
}

describeWith(
  'Docker, nginx, wrk, Prometheus and go',
  hasCommand(DOCKER, ['version']) &&
    hasCommand('nginx', ['-v']) &&
    hasCommand('prometheus', ['--version']) &&
    existsSync('/usr/bin/wrk') &&
    hasCommand('go', ['version']),
  'deploy-bluegreen on Docker behind nginx, under constant load',
  () => {
    const app = `hello-${randomBytes(3).toString('hex')}`;
    const work = tempDir('deploy');
    let nginx: Nginx;
    let base: Record<string, string>;
    const images: Record<string, string> = {};

    beforeAll(async () => {
      for (const v of ['1.0.0', '1.1.0', '1.2.0']) images[v] = helloImage(DOCKER, ROOT, v, work);
      const [pub, blue, green] = [await freePort(), await freePort(), await freePort()];
      // Client keep-alive off: see docs/benchmarks.md for what a reload does to idle keep-alive connections.
      nginx = nginxConfig(work, app, pub, { keepalive: false });
      base = {
        app,
        url: nginx.publicUrl,
        network: 'host',
        env: 'ADDR=127.0.0.1:${PORT}',
        'blue-port': String(blue),
        'green-port': String(green),
        'nginx-upstream-file': nginx.upstreamFile,
        'nginx-conf': nginx.conf,
        'health-interval': '200ms',
        'verify-seconds': '3',
        drain: '2s',
      };
    }, 300_000);

    afterAll(() => {
      nginx?.stop();
      for (const c of ['blue', 'green', 'deploy-lock'])
        execFileSync(DOCKER, ['rm', '-f', `${app}-${c}`], { stdio: 'ignore' });
      // The image the pull test fetched from the registry (Debian's dockerd stores every image in full).
      const pulled = `${process.env.GO_SHIP_TEST_REGISTRY ?? '127.0.0.1:5055'}/go-ship-test/${app}:1.2.0`;
      spawnSync(DOCKER, ['rmi', pulled], { stdio: 'ignore' });
    });

    test('first deploy: blue takes the traffic and nginx is started with the new upstream', async () => {
      const r = await deploy({ ...base, image: images['1.0.0'] });
      expect(r.stderr).not.toMatch(/go-ship bug/);
      expect(r.code).toBe(0);
      expect(r.outputs).toMatchObject({
        'live-color': 'blue',
        'previous-color': '',
        'rolled-back': 'false',
        outcome: 'switched',
        version: '1.0.0',
        url: nginx.publicUrl,
      });
      expect(await publicVersion(nginx.publicUrl)).toBe('1.0.0');
      expect(readFileSync(nginx.upstreamFile, 'utf8')).toContain(`server 127.0.0.1:${base['blue-port']};`);
      expect(inspect(`${app}-blue`)?.Config.Labels['go-ship.deploy.version']).toBe('1.0.0');
    });

    test('a good deploy under load: green takes over, blue is drained and stopped, no request fails', async () => {
      const { r, seen } = await underLoad(
        nginx.publicUrl,
        'good deploy',
        () => deploy({ ...base, image: images['1.1.0'] }),
        1000,
      );
      expect(r.code).toBe(0);
      expect(r.outputs).toMatchObject({
        'live-color': 'green',
        'previous-color': 'blue',
        outcome: 'switched',
        version: '1.1.0',
      });
      expect(seen.failed).toBe(0);
      expect(seen.versions.map((v) => v.version)).toEqual(['1.0.0', '1.1.0']);
      expect(await publicVersion(nginx.publicUrl)).toBe('1.1.0');
      expect(inspect(`${app}-blue`)?.State.Status).toBe('exited');
      expect(inspect(`${app}-green`)?.State.Status).toBe('running');
      expect(r.summary).toMatch(/Mixed-version window/);
      expect(r.summary).toMatch(/```mermaid\ngantt/);
    });

    test('a re-run of the same deploy changes nothing', async () => {
      const before = inspect(`${app}-green`);
      const upstream = readFileSync(nginx.upstreamFile, 'utf8');
      const r = await deploy({ ...base, image: images['1.1.0'] });
      expect(r.code).toBe(0);
      expect(r.outputs).toMatchObject({ 'live-color': 'green', outcome: 'unchanged', version: '1.1.0' });
      expect(readFileSync(nginx.upstreamFile, 'utf8')).toBe(upstream);
      expect(inspect(`${app}-green`)).toEqual(before);
    });

    test('a version that fails its health check never gets traffic', async () => {
      const load = startLoad(nginx.publicUrl);
      const r = await deploy({
        ...base,
        image: images['1.2.0'],
        env: 'ADDR=127.0.0.1:${PORT}\nHELLO_FAULT=healthz',
        'ready-timeout': '5s',
      });
      const seen = await load.stop();
      show('failed health check', seen, r.summary);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/blue did not pass its checks, so traffic was not moved: .*HTTP 503/);
      expect(r.outputs).toMatchObject({ 'live-color': 'green', outcome: 'failed', 'rolled-back': 'false' });
      expect(seen.failed).toBe(0);
      expect(seen.versions.map((v) => v.version)).toEqual(['1.1.0']);
      expect(readFileSync(nginx.upstreamFile, 'utf8')).toContain(`server 127.0.0.1:${base['green-port']};`);
      expect(inspect(`${app}-blue`)?.State.Status).toBe('exited');
    });

    // #32: a migration runs once, as the new version, before it takes traffic; a smoke command runs
    // after the switch. Neither may cost a request.
    test('a migration that fails before traffic: nothing starts and no request fails; one that passes runs once, and a failing smoke test after the switch rolls back', async () => {
      const blueBefore = inspect(`${app}-blue`);
      const hooks = { 'before-traffic': 'migrate', 'hook-timeout': '1m' };
      const failed = await underLoad(nginx.publicUrl, 'failed migration', () =>
        deploy({
          ...base,
          ...hooks,
          image: images['1.2.0'],
          env: 'ADDR=127.0.0.1:${PORT}\nHELLO_FAULT=migrate',
        }),
      );
      expect(failed.r.stderr).not.toMatch(/go-ship bug/);
      expect(failed.r.code).not.toBe(0);
      expect(failed.r.stderr).toMatch(
        /The before-traffic command \(migrate\) exited with code 1 on a container from \S+:1\.2\.0, so nothing was started or switched: traffic stays on green\./,
      );
      expect(failed.r.stderr).toContain('migrate: ERROR: relation "greetings" does not exist');
      expect(failed.r.outputs).toMatchObject({
        'live-color': 'green',
        outcome: 'failed',
        'rolled-back': 'false',
      });
      expect(failed.seen.failed).toBe(0);
      expect(failed.seen.versions.map((v) => v.version)).toEqual(['1.1.0']);
      // Nothing of 1.2.0 was started, and its one-off container is gone.
      expect(inspect(`${app}-blue`)?.Id).toBe(blueBefore?.Id);
      expect(inspect(`${app}-before-traffic`)).toBeUndefined();
      expect(failed.r.summary).toMatch(
        /\| before-traffic \| `migrate` \| a container from \S+ \| [^|]+ \| ❌ exited with code 1 \|/,
      );

      // The migration passes (once, before blue starts); the smoke test after the switch fails.
      const smoked = await underLoad(nginx.publicUrl, 'failed smoke test', () =>
        deploy({
          ...base,
          ...hooks,
          image: images['1.2.0'],
          'after-switch':
            'curl -fsS "$GO_SHIP_URL/version" | grep -q \'"1.2.0"\' && echo "checkout answers 502" && exit 3',
        }),
      );
      expect(smoked.r.code).not.toBe(0);
      expect(smoked.r.stderr).toMatch(
        /the after-switch command exited with code 3\. Rolled back: traffic is on green \(1\.1\.0\) again/,
      );
      expect(smoked.r.outputs).toMatchObject({
        'live-color': 'green',
        outcome: 'rolled-back',
        'rolled-back': 'true',
      });
      expect(smoked.seen.failed).toBe(0);
      expect(smoked.r.summary).toMatch(
        /\| before-traffic \| `migrate` \| [^|]+ \| [^|]+ \| ✅ passed in [^|]+ \|/,
      );
      expect(smoked.r.summary).toMatch(
        /\| after-switch \| `[^`]+` \| the runner \| [^|]+ \| ❌ exited with code 3 \|/,
      );
      expect(smoked.r.summary).toContain('checkout answers 502');
      expect(smoked.r.summary.match(/hello-svc 1\.2\.0: migrated/g)).toHaveLength(1);
      expect(await publicVersion(nginx.publicUrl)).toBe('1.1.0');
    });

    test('a version that breaks after the switch is rolled back automatically, and the people are told', async () => {
      // A signed webhook that records what it is told.
      const hook = await notifyReceiver();
      // And GitHub, through its REST API: a Deployment of the environment with its statuses.
      const github = await startGitHubApi({ token: 'gh-token' });
      // Exactly the gate's 3 health checks pass; the first check after the switch fails.
      const { r, seen } = await underLoad(nginx.publicUrl, 'failure after the switch', () =>
        deploy(
          {
            ...base,
            image: images['1.2.0'],
            env: 'ADDR=127.0.0.1:${PORT}\nHELLO_FAULT=healthz-after=3',
            environment: 'staging',
            notify: hook.line,
            'github-token': 'gh-token',
          },
          {
            GITHUB_ACTOR: 'octocat',
            GITHUB_SERVER_URL: 'https://github.com',
            GITHUB_REPOSITORY: 'o/r',
            GITHUB_RUN_ID: '42',
            GITHUB_API_URL: github.url,
            GITHUB_SHA: 'c'.repeat(40),
          },
        ),
      ).finally(() => Promise.all([hook.close(), github.close()]));
      const told = hook.told;
      expect(told.map((t) => [t.event, t.body.version, t.body.environment, t.body.actor, t.signed])).toEqual([
        ['deploy-started', 'v1.2.0', 'staging', 'octocat', true],
        ['rolled-back', 'v1.2.0', 'staging', 'octocat', true],
      ]);
      expect(told[1].body.detail).toMatch(/verify: .*\/healthz → HTTP 503/);
      expect(told[1].body.runUrl).toBe('https://github.com/o/r/actions/runs/42');
      // One Deployment of staging for 1.2.0: in progress, then failure with the reason; no URL claimed.
      expect(
        github.deployments.map((d) => [
          d.environment,
          d.ref,
          d.payload.version,
          d.statuses.map((x) => x.state),
        ]),
      ).toEqual([['staging', 'c'.repeat(40), 'v1.2.0', ['in_progress', 'failure']]]);
      expect(github.deployments[0].statuses[1].description).toMatch(/^verify: /);
      expect(github.deployments[0].statuses[1].log_url).toBe('https://github.com/o/r/actions/runs/42');
      // The notify input is a secret: its URL and key never reach the log.
      expect(`${r.stdout}${r.stderr}`).not.toContain(hook.key);
      expect(`${r.stdout}${r.stderr}`).not.toContain(hook.url);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(
        /verify: .*\/healthz → HTTP 503.*Rolled back: traffic is on green \(1\.1\.0\) again/s,
      );
      expect(r.outputs).toMatchObject({
        'live-color': 'green',
        'previous-color': 'blue',
        'rolled-back': 'true',
        outcome: 'rolled-back',
        version: '1.1.0',
      });
      expect(seen.failed).toBe(0);
      expect(await publicVersion(nginx.publicUrl)).toBe('1.1.0');
      expect(r.summary).toMatch(/Failed check → traffic back on the old version \| \d/);
      expect(inspect(`${app}-blue`)?.State.Status).toBe('exited');
    });

    test('a manual rollback starts the stopped colour again and moves traffic to it', async () => {
      // blue now holds the broken 1.2.0; deploy 1.0.0 over it first so the rollback target is good.
      expect((await deploy({ ...base, image: images['1.0.0'] })).outputs['live-color']).toBe('blue');
      const { r, seen } = await underLoad(nginx.publicUrl, 'manual rollback', () =>
        deploy({ ...base, action: 'rollback' }),
      );
      expect(r.code).toBe(0);
      expect(r.outputs).toMatchObject({
        'live-color': 'green',
        'previous-color': 'blue',
        'rolled-back': 'true',
        version: '1.1.0',
      });
      expect(seen.failed).toBe(0);
      expect(seen.versions.map((v) => v.version)).toEqual(['1.0.0', '1.1.0']);
      expect(await publicVersion(nginx.publicUrl)).toBe('1.1.0');
    });

    test('two deploys at once: the second is told who holds the lock; a third waits for it', async () => {
      const first = deploy({ ...base, image: images['1.0.0'], 'verify-seconds': '6' });
      // Wait until the first holds the lock on the Docker host.
      for (let i = 0; i < 200 && !inspect(`${app}-deploy-lock`); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(inspect(`${app}-deploy-lock`)).toBeDefined();
      const [second, third] = await Promise.all([
        deploy({ ...base, image: images['1.0.0'], 'lock-timeout': '0' }),
        deploy({ ...base, image: images['1.0.0'], 'lock-timeout': '2m' }),
      ]);
      const one = await first;
      expect(one.code).toBe(0);
      expect(one.outputs).toMatchObject({ 'live-color': 'blue', outcome: 'switched' });
      expect(second.code).not.toBe(0);
      expect(second.stderr).toMatch(new RegExp(`Another deploy of ${app} holds the lock: .+ since \\d{4}-`));
      expect(second.stdout + second.stderr).not.toMatch(/go-ship bug/);
      expect(third.code).toBe(0);
      expect(third.stderr).toMatch(/waiting for the lock: held by/);
      expect(third.outputs).toMatchObject({ 'live-color': 'blue', outcome: 'unchanged' });
      expect(inspect(`${app}-deploy-lock`)).toBeUndefined();
    }, 180_000);

    test('auto-promote false stops before the switch; promote switches; status reports both colours', async () => {
      const r = await deploy({ ...base, image: images['1.1.0'], 'auto-promote': 'false' });
      expect(r.code).toBe(0);
      expect(r.outputs).toMatchObject({ 'live-color': 'blue', outcome: 'previewing' });
      expect(await publicVersion(nginx.publicUrl)).toBe('1.0.0');
      const preview = await fetch(`http://127.0.0.1:${base['green-port']}/version`);
      expect(((await preview.json()) as { version: string }).version).toBe('1.1.0');
      const p = await deploy({ ...base, action: 'promote' });
      expect(p.code).toBe(0);
      expect(p.outputs).toMatchObject({
        'live-color': 'green',
        'previous-color': 'blue',
        outcome: 'switched',
        version: '1.1.0',
      });
      expect(await publicVersion(nginx.publicUrl)).toBe('1.1.0');
      const s = await deploy({ app, action: 'status', 'nginx-upstream-file': nginx.upstreamFile });
      expect(s.code).toBe(0);
      expect(s.outputs).toMatchObject({
        'live-color': 'green',
        'previous-color': 'blue',
        version: '1.1.0',
        outcome: 'status',
      });
      expect(s.summary).toMatch(/\| green \(live\) \| running \| `1\.1\.0` \|/);
      expect(s.summary).toMatch(/\| blue \| stopped \| `1\.0\.0` \|/);
    });

    test('the metric gate: a bad number before the switch keeps traffic; after it, switches back', async () => {
      const prom = await startPrometheus();
      try {
        const ratio = (blue: number) =>
          `# TYPE hello_error_ratio gauge\nhello_error_ratio{color="blue"} ${blue}\nhello_error_ratio{color="green"} 0\n`;
        const gate = {
          'prometheus-url': prom.url,
          query: 'hello_error_ratio{color="${COLOR}"}',
          threshold: '< 0.05',
        };
        prom.metrics.text = ratio(0.5);
        await prom.scraped();
        const before = await deploy({ ...base, ...gate, image: images['1.2.0'] });
        expect(before.code).not.toBe(0);
        expect(before.stderr).toMatch(
          /The metric gate failed before the switch, so traffic was not moved: `hello_error_ratio\{color="blue"\}` < 0.05: got 0.5/,
        );
        expect(before.outputs).toMatchObject({ 'live-color': 'green', outcome: 'failed', version: '1.1.0' });
        expect(await publicVersion(nginx.publicUrl)).toBe('1.1.0');

        // Healthy until blue takes the traffic, then its error ratio jumps.
        prom.metrics.text = ratio(0);
        await prom.scraped();
        const watcher = setInterval(() => {
          if (readFileSync(nginx.upstreamFile, 'utf8').includes(`:${base['blue-port']};`))
            prom.metrics.text = ratio(0.3);
        }, 50);
        const load = startLoad(nginx.publicUrl);
        const after = await deploy({ ...base, ...gate, image: images['1.2.0'], 'verify-seconds': '10' });
        clearInterval(watcher);
        const seen = await load.stop();
        show('metric gate fails after the switch', seen, after.summary);
        expect(after.code).not.toBe(0);
        expect(after.stderr).toMatch(
          /verify: metric gate failed: .* got 0\.3\. Rolled back: traffic is on green/,
        );
        expect(after.outputs).toMatchObject({
          'live-color': 'green',
          'rolled-back': 'true',
          version: '1.1.0',
        });
        expect(seen.failed).toBe(0);
        expect(await publicVersion(nginx.publicUrl)).toBe('1.1.0');
      } finally {
        await prom.stop();
      }
    }, 120_000);

    test('nginx refusing the new upstream: traffic stays, the file is put back, the new colour is stopped', async () => {
      // A second config that already defines the upstream name go-ship is told to write.
      const conf = join(work, 'conflict.conf');
      writeFileSync(
        conf,
        readFileSync(nginx.conf, 'utf8').replace(
          `include ${nginx.upstreamFile};`,
          `include ${nginx.upstreamFile};\n  upstream ${app}-dup { server 127.0.0.1:9; }`,
        ),
      );
      const upstream = readFileSync(nginx.upstreamFile, 'utf8');
      const r = await deploy({
        ...base,
        image: images['1.2.0'],
        'nginx-conf': conf,
        'nginx-upstream': `${app}-dup`,
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(
        /nginx rejected the configuration with the new upstream .*so traffic was not moved:\n.*duplicate upstream/,
      );
      expect(readFileSync(nginx.upstreamFile, 'utf8')).toBe(upstream);
      expect(await publicVersion(nginx.publicUrl)).toBe('1.1.0');
      expect(inspect(`${app}-blue`)?.State.Status).toBe('exited');
    });

    test('an unreachable Docker engine and an abandoned lock', async () => {
      const down = await deploy(
        { ...base, image: images['1.2.0'] },
        {},
        { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
      );
      expect(down.code).not.toBe(0);
      expect(down.stderr).toMatch(
        /Cannot connect to the Docker daemon.*\nIs the Docker engine reachable \(DOCKER_HOST=unix:\/\/\/nonexistent\/docker.sock\)\?/s,
      );
      expect(down.stderr).not.toMatch(/go-ship bug/);

      execFileSync(DOCKER, [
        'create',
        '--name',
        `${app}-deploy-lock`,
        '--label',
        'go-ship.deploy.lock.holder=a cancelled run',
        '--label',
        'go-ship.deploy.lock.since=2026-01-01T00:00:00.000Z',
        '--label',
        'go-ship.deploy.lock.expires=2026-01-01T01:00:00.000Z',
        '--entrypoint',
        '/x',
        images['1.1.0'],
      ]);
      const r = await deploy({ ...base, image: images['1.1.0'], 'lock-timeout': '0' });
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(
        /warning: Breaking an expired deploy lock held by a cancelled run since 2026-01-01T00:00:00.000Z/,
      );
      expect(r.outputs.outcome).toBe('unchanged');
      expect(inspect(`${app}-deploy-lock`)).toBeUndefined();
    });

    test('keep-old: forever leaves the old colour running; a duration keeps checking, then stops it', async () => {
      // Live is green (1.1.0): deploy 1.0.0 to blue and keep green running.
      const kept = await deploy({ ...base, image: images['1.0.0'], 'keep-old': 'forever' });
      expect(kept.code).toBe(0);
      expect(kept.outputs).toMatchObject({ 'live-color': 'blue', 'previous-color': 'green' });
      expect(inspect(`${app}-green`)?.State.Status).toBe('running');
      expect(kept.summary).not.toMatch(/\| stop green \|/);
      // Back to green (a running colour: no restart), keeping blue for 2s of checks before stopping it.
      const timed = await deploy({ ...base, action: 'rollback', 'keep-old': '2s' });
      expect(timed.code).toBe(0);
      expect(timed.outputs).toMatchObject({ 'live-color': 'green', 'rolled-back': 'true', version: '1.1.0' });
      expect(timed.summary).toMatch(/\| keep old \| [\d.]+s \| ✅ \|/);
      expect(timed.summary).toMatch(/\| stop blue \|/);
      expect(inspect(`${app}-blue`)?.State.Status).toBe('exited');
    });

    test('an image from a registry is pulled (pull: always), and a missing one is a clear error', async () => {
      const registry = process.env.GO_SHIP_TEST_REGISTRY ?? '127.0.0.1:5055';
      const remote = `${registry}/go-ship-test/${app}:1.2.0`;
      execFileSync(DOCKER, ['tag', images['1.2.0'], remote]);
      execFileSync(DOCKER, ['push', '-q', remote], { stdio: 'ignore' });
      execFileSync(DOCKER, ['rmi', remote], { stdio: 'ignore' });
      const r = await deploy({ ...base, image: remote, pull: 'always' });
      expect(r.code).toBe(0);
      expect(r.outputs).toMatchObject({ 'live-color': 'blue', version: '1.2.0' });
      expect(inspect(`${app}-blue`)?.Config.Labels['go-ship.deploy.image']).toBe(remote);
      const missing = await deploy({ ...base, image: `${registry}/go-ship-test/${app}:9.9.9` });
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toMatch(/Cannot pull .*:9\.9\.9: .*\nCheck the image name/);
      expect(await publicVersion(nginx.publicUrl)).toBe('1.2.0');
      // Leave green (1.1.0) live for the next test.
      expect((await deploy({ ...base, action: 'rollback' })).outputs['live-color']).toBe('green');
    });

    test('dry-run prints the plan and changes nothing', async () => {
      const upstream = readFileSync(nginx.upstreamFile, 'utf8');
      const blue = inspect(`${app}-blue`);
      const r = await deploy({ ...base, image: images['1.2.0'], 'dry-run': 'true' });
      expect(r.code).toBe(0);
      expect(r.outputs.outcome).toBe('planned');
      expect(r.summary).toMatch(new RegExp(`deploy ${images['1.2.0']} \\(version 1\\.2\\.0\\) as blue`));
      expect(readFileSync(nginx.upstreamFile, 'utf8')).toBe(upstream);
      expect(inspect(`${app}-blue`)).toEqual(blue);
    });

    /** Which colour has the traffic now (action: status), and the other one. */
    async function colours() {
      const s = await deploy({ app, action: 'status', 'nginx-upstream-file': nginx.upstreamFile });
      const live = s.outputs['live-color'];
      return { live, idle: live === 'blue' ? 'green' : 'blue' };
    }

    test('canary 10/50/100 under load: the share of answers from the new version follows each weight; no request fails', async () => {
      expect((await deploy({ ...base, image: images['1.0.0'] })).code).toBe(0);
      const { idle } = await colours();
      const watcher = canarySteps(nginx.upstreamFile, base[`${idle}-port`]);
      const { r, seen } = await underLoad(nginx.publicUrl, 'canary 10/50/100', () =>
        deploy({
          ...base,
          image: images['1.1.0'],
          strategy: 'canary',
          steps: '10,50,100',
          'step-duration': '6s',
        }),
      );
      const steps = watcher.stop();
      expect(r.code).toBe(0);
      expect(r.outputs).toMatchObject({ 'live-color': idle, outcome: 'switched', version: '1.1.0' });
      expect(seen.failed).toBe(0);
      expect(steps.map((s) => s.percent)).toEqual([10, 50, 100]);
      const shares = steps
        .slice(0, 2)
        .map((s) => ({ weight: s.percent, ...shareOf(seen, '1.1.0', s.from, s.to) }));
      console.log(
        `canary shares measured by wrk (X-Version): ${shares.map((s) => `${s.weight}% → ${s.percent.toFixed(1)}% of ${s.total}`).join(', ')}`,
      );
      for (const s of shares) {
        expect(s.total).toBeGreaterThan(500);
        expect(Math.abs(s.percent - s.weight)).toBeLessThan(5);
      }
      expect(r.summary).toMatch(/canary 10%/);
      expect(await publicVersion(nginx.publicUrl)).toBe('1.1.0');
    }, 180_000);

    test('canary: a version that fails its metric at 10% leaves every request on the stable version; no request fails', async () => {
      const prom = await startPrometheus();
      try {
        const { live, idle } = await colours();
        const ratio = (bad: number) =>
          `# TYPE hello_error_ratio gauge\nhello_error_ratio{version="1.2.0"} ${bad}\nhello_error_ratio{version="1.1.0"} 0\n`;
        prom.metrics.text = ratio(0);
        await prom.scraped();
        // Healthy until the canary takes its 10%, then its error ratio jumps.
        const bad = setInterval(() => {
          if (readFileSync(nginx.upstreamFile, 'utf8').includes(`:${base[`${idle}-port`]} weight=10;`))
            prom.metrics.text = ratio(0.3);
        }, 50);
        const load = startLoad(nginx.publicUrl);
        await new Promise((r) => setTimeout(r, 500));
        const r = await deploy({
          ...base,
          image: images['1.2.0'],
          strategy: 'canary',
          steps: '10,50,100',
          'step-duration': '20s',
          'prometheus-url': prom.url,
          query: 'hello_error_ratio{version="${VERSION}"}',
          threshold: '< 0.05',
        });
        clearInterval(bad);
        await new Promise((r) => setTimeout(r, 500));
        const seen = await load.stop();
        show('canary metric fails at 10%', seen, r.summary);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(
          /canary 10%: metric gate failed: .* got 0\.3\. The canary stopped at 10%: every request goes to/,
        );
        expect(r.outputs).toMatchObject({ 'live-color': live, 'rolled-back': 'true', version: '1.1.0' });
        expect(seen.failed).toBe(0);
        expect(seen.versions.find((v) => v.version === '1.2.0')?.count ?? 0).toBeGreaterThan(0);
        const upstream = readFileSync(nginx.upstreamFile, 'utf8');
        expect(upstream).not.toMatch(/weight=/);
        expect(upstream).toContain(`:${base[`${live}-port`]};`);
        expect(await publicVersion(nginx.publicUrl)).toBe('1.1.0');
        expect(inspect(`${app}-${idle}`)?.State.Status).toBe('exited');
      } finally {
        await prom.stop();
      }
    }, 180_000);

    test('canary with auto-promote false under load: one step per run, promote takes the next, then the switch; no request fails', async () => {
      const { live, idle } = await colours();
      const weight = () => /weight=(\d+);\n\}/.exec(readFileSync(nginx.upstreamFile, 'utf8'))?.[1];
      const manual = {
        strategy: 'canary',
        steps: '10,50,100',
        'step-duration': '2s',
        'auto-promote': 'false',
      };
      const load = startLoad(nginx.publicUrl);
      await new Promise((r) => setTimeout(r, 500));
      const first = await deploy({ ...base, ...manual, image: images['1.2.0'] });
      expect({ code: first.code, log: first.code ? first.stderr.slice(-1500) : '' }).toEqual({
        code: 0,
        log: '',
      });
      expect(first.outputs.outcome).toBe('previewing');
      expect(readFileSync(nginx.upstreamFile, 'utf8')).toContain(`:${base[`${idle}-port`]} weight=10;`);
      const status = await deploy({ app, action: 'status', 'nginx-upstream-file': nginx.upstreamFile });
      expect(status.outputs['live-color']).toBe(live);
      const next = await deploy({ ...base, ...manual, action: 'promote' });
      expect(next.outputs.outcome).toBe('previewing');
      expect(readFileSync(nginx.upstreamFile, 'utf8')).toContain(`:${base[`${idle}-port`]} weight=50;`);
      const last = await deploy({ ...base, action: 'promote' });
      await new Promise((r) => setTimeout(r, 500));
      const seen = await load.stop();
      show('manual canary 10 → 50 → 100', seen, last.summary);
      expect(last.outputs).toMatchObject({ outcome: 'switched', 'live-color': idle, version: '1.2.0' });
      expect(weight()).toBeUndefined();
      expect(seen.failed).toBe(0);
      expect(await publicVersion(nginx.publicUrl)).toBe('1.2.0');
    }, 180_000);

    test('rollback to a version two releases back, under load: deployed again through the gate; status lists the history', async () => {
      for (const v of ['1.0.0', '1.1.0', '1.2.0'])
        expect((await deploy({ ...base, image: images[v] })).outputs.version).toBe(v);
      const { r, seen } = await underLoad(nginx.publicUrl, 'rollback to 1.0.0 (two back)', () =>
        deploy({ ...base, action: 'rollback', to: '1.0.0' }),
      );
      expect({ code: r.code, log: r.code ? r.stderr.slice(-1500) : '' }).toEqual({ code: 0, log: '' });
      expect(r.outputs).toMatchObject({ outcome: 'switched', version: '1.0.0', 'rolled-back': 'true' });
      expect(seen.failed).toBe(0);
      expect(seen.versions.map((v) => v.version)).toEqual(['1.2.0', '1.0.0']);
      expect(await publicVersion(nginx.publicUrl)).toBe('1.0.0');
      // Through the same gate: the ready checks ran on the colour before the switch.
      expect(r.summary).toMatch(/\| ready \|/);

      const s = await deploy({ app, action: 'status', 'nginx-upstream-file': nginx.upstreamFile });
      const rows = [...s.summary.matchAll(/^\| `(\d+\.\d+\.\d+)` \| `(\S+)` \| \S+ \|$/gm)].map((m) => m[1]);
      expect(rows.slice(0, 4)).toEqual(['1.0.0', '1.2.0', '1.1.0', '1.0.0']);
      const unknown = await deploy({ ...base, action: 'rollback', to: '0.9.0' });
      expect(unknown.code).not.toBe(0);
      expect(unknown.stderr).toMatch(
        /Input `to` got `0\.9\.0`; it accepts a version from .*history.*1\.0\.0/,
      );
      expect(await publicVersion(nginx.publicUrl)).toBe('1.0.0');
    }, 240_000);
  },
);
