import { DeployFailure, Engine, type DeployConfig, type DeployResult } from '../../src/deploy/engine.js';
import { jest } from '@jest/globals';
import { afterMs } from '../../src/deploy/checks.js';
import { FakeTarget, fakeDeployConfig } from '../helpers/fake-target.js';
import { quietly } from '../helpers/quiet.js';
import { tempDir } from '../helpers/cli.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The deploy engine's paths (switch, verify, roll back, time out, lock) against a Target in memory:
 * no Docker, nginx or Kubernetes, so each path is quick and its order of calls is exact. The real
 * targets are tested end to end in docker-nginx.test.ts and kubernetes.test.ts.
 */
const config = (t: FakeTarget, over: Partial<DeployConfig> = {}): DeployConfig =>
  fakeDeployConfig(t.url, over);

const deploy = (t: FakeTarget, image: string, over: Partial<DeployConfig> = {}, graceMs?: number) =>
  quietly(() =>
    new Engine(config(t, { release: { image, version: t.behaviours.get(image)?.version }, ...over }), t, {
      graceMs,
    }).run(),
  );

const failure = async (p: Promise<DeployResult>): Promise<DeployResult & { message: string }> => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(DeployFailure);
  return { ...(e as DeployFailure).result, message: (e as Error).message };
};

describe('the deploy engine against a fake target', () => {
  let t: FakeTarget;
  beforeEach(async () => {
    t = await FakeTarget.create();
    t.behaviours.set('app:1', { version: '1.0.0' });
    t.behaviours.set('app:2', { version: '2.0.0' });
  });
  afterEach(() => t.close());

  test('a first deploy goes to blue; the next to green, which takes the traffic, and blue is stopped', async () => {
    const first = await deploy(t, 'app:1');
    expect(first).toMatchObject({ outcome: 'switched', live: 'blue', rolledBack: false });
    expect(t.calls).toEqual(['prepare app:1', 'lock', 'start blue app:1', 'route blue', 'unlock']);

    t.calls.length = 0;
    const second = await deploy(t, 'app:2');
    expect(second).toMatchObject({
      outcome: 'switched',
      live: 'green',
      previous: 'blue',
      previousVersion: '1.0.0',
    });
    expect(t.calls).toEqual([
      'prepare app:2',
      'lock',
      'start green app:2',
      'route green',
      'stop blue',
      'unlock',
    ]);
    expect(second.phases.map((p) => p.name)).toEqual([
      'inspect',
      'pull',
      'lock',
      'start green',
      'ready',
      'switch',
      'confirm',
      'verify',
      'stop blue',
    ]);
    expect(second.phases.some((p) => p.failed)).toBe(false);
    // The same release again: nothing to do.
    const again = await deploy(t, 'app:2');
    expect(again.outcome).toBe('unchanged');
  });

  test('a version that fails during verify: traffic goes back to the old colour, confirmed, and the new one stops', async () => {
    await deploy(t, 'app:1');
    t.behaviours.set('app:3', { version: '3.0.0', health: 'after:250' });
    t.calls.length = 0;
    const r = await failure(deploy(t, 'app:3', { verifyMs: 2_000 }));
    expect(r.outcome).toBe('rolled-back');
    expect(r.live).toBe('blue');
    expect(t.calls).toEqual([
      'prepare app:3',
      'lock',
      'start green app:3',
      'route green',
      'route blue',
      'stop green',
      'unlock',
    ]);
    expect(r.phases.find((p) => p.name === 'verify')?.failed).toBe(true);
    expect(r.phases.map((p) => p.name)).toContain('confirm back');
    expect(r.rollbackMs).toBeGreaterThanOrEqual(0);
    expect(r.message).toMatch(
      /^verify: \S+\/healthz → HTTP 500 \(want 200\): failing after \d+ms\. Rolled back: traffic is on blue \(1\.0\.0\) again \d+ms after the failed check; green was stopped\.$/,
    );
    expect(t.state.live).toBe('blue');
  });

  // Field report: node_exporter has no /version; its 404 body was read as the version "404 page not
  // found", and the gate waited out ready-timeout (2 minutes) before failing every deploy.
  test('a service with no version endpoint: checked by health alone, said in the check, switched without a version confirm', async () => {
    t.behaviours.set('ne:1', { version: '1.0.0', noVersionEndpoint: true });
    t.behaviours.set('ne:2', { version: '2.0.0', noVersionEndpoint: true });
    await deploy(t, 'ne:1');
    const r = await deploy(t, 'ne:2', { readyTimeoutMs: 60_000 });
    expect(r).toMatchObject({ outcome: 'switched', live: 'green' });
    const ready = r.checks.find((c) => c.phase === 'ready')!;
    expect(ready.detail).toMatch(/does not report its version, so it was checked by health only/);
    expect(r.checks.some((c) => c.phase === 'confirm')).toBe(false);
    // A failure after the switch still goes back, without a version confirm.
    t.behaviours.set('ne:3', { version: '3.0.0', health: 'after:250', noVersionEndpoint: true });
    const f = await failure(deploy(t, 'ne:3', { verifyMs: 2_000 }));
    expect(f.outcome).toBe('rolled-back');
    expect(t.state.live).toBe('green');
  });

  // Field trial, go-httpbin: /version answers 200 `{"service": "go-httpbin"}` (the version only with
  // -use-full-version); the gate read "no version" and waited out ready-timeout before failing.
  test('a version path that answers 200 with no version in it: checked by health alone, said with what it answered', async () => {
    for (const [image, body] of [
      ['hb:1', '{\n  "service": "go-httpbin"\n}'],
      ['hb:2', '{"service":"go-httpbin"}'],
    ] as const) {
      t.behaviours.set(image, { version: image.slice(3), versionBody: body });
      const r = await deploy(t, image, { readyTimeoutMs: 60_000 });
      expect(r.outcome).toBe('switched');
      const ready = r.checks.find((c) => c.phase === 'ready')!;
      expect(ready.detail).toMatch(
        /\/version answers 200 with no version in it: \{ ?"service": ?"go-httpbin" ?\}/,
      );
      expect(ready.detail).toMatch(/does not report its version, so it was checked by health only/);
    }
    // A JSON version that is another release still fails the gate.
    t.behaviours.set('hb:9', { version: '9.0.0', versionBody: '{"service":"go-httpbin","version":"1.0.0"}' });
    const f = await failure(
      quietly(() =>
        new Engine(config(t, { release: { image: 'hb:9', version: '9.0.0' }, readyTimeoutMs: 600 }), t).run(),
      ),
    );
    expect(f.message).toContain('/version reports version 1.0.0 (want 9.0.0)');
  });

  test('a service whose version endpoint answers the wrong version still fails its gate', async () => {
    t.behaviours.set('app:9', { version: '1.0.0' });
    const f = await failure(
      quietly(() =>
        new Engine(
          config(t, { release: { image: 'app:9', version: '9.0.0' }, readyTimeoutMs: 600 }),
          t,
        ).run(),
      ),
    );
    expect(f.message).toMatch(/\/version reports version 1\.0\.0 \(want 9\.0\.0\)/);
  });

  test('canary: each step below 100% is weighed and judged, then the full switch; a failure at 10% puts every request back', async () => {
    await deploy(t, 'app:1');
    t.calls.length = 0;
    const canary = { strategy: 'canary' as const, steps: [10, 50, 100], stepMs: 150 };
    const ok = await deploy(t, 'app:2', canary);
    expect(ok).toMatchObject({ outcome: 'switched', live: 'green', previous: 'blue' });
    expect(t.calls).toEqual([
      'prepare app:2',
      'lock',
      'start green app:2',
      'weigh green 10%',
      'weigh green 50%',
      'route green',
      'stop blue',
      'unlock',
    ]);
    expect(ok.phases.map((p) => p.name).filter((n) => /canary|judge/.test(n))).toEqual([
      'canary 10%',
      'judge 10%',
      'canary 50%',
      'judge 50%',
    ]);

    t.behaviours.set('app:3', { version: '3.0.0', health: 'after:100' });
    t.calls.length = 0;
    const bad = await failure(deploy(t, 'app:3', { ...canary, stepMs: 2_000 }));
    expect(bad).toMatchObject({ outcome: 'rolled-back', live: 'green', rolledBack: true });
    expect(t.calls).toEqual([
      'prepare app:3',
      'lock',
      'start blue app:3',
      'weigh blue 10%',
      'route green',
      'stop blue',
      'unlock',
    ]);
    expect(bad.phases.find((p) => p.name === 'judge 10%')?.failed).toBe(true);
    expect(bad.message).toMatch(
      /The canary stopped at 10%: every request goes to green \(2\.0\.0\) again \d+ms after the failed check; blue was stopped\.$/,
    );
    expect(t.state.live).toBe('green');
  });

  test('canary with auto-promote false: one step per run; promote takes the next, then the switch; rollback mid-canary goes back to stable', async () => {
    await deploy(t, 'app:1');
    const manual = { strategy: 'canary' as const, steps: [10, 50, 100], stepMs: 100, autoPromote: false };
    t.calls.length = 0;
    expect((await deploy(t, 'app:2', manual)).outcome).toBe('previewing');
    expect(t.calls).toEqual(['prepare app:2', 'lock', 'start green app:2', 'weigh green 10%', 'unlock']);
    expect(t.state.canary).toEqual({ color: 'green', percent: 10 });
    const promote = () => new Engine(config(t, { ...manual, action: 'promote' }), t).run();
    t.calls.length = 0;
    expect((await promote()).outcome).toBe('previewing');
    expect(t.calls).toEqual(['lock', 'weigh green 50%', 'unlock']);
    t.calls.length = 0;
    expect(await promote()).toMatchObject({ outcome: 'switched', live: 'green', version: '2.0.0' });
    expect(t.calls).toEqual(['lock', 'route green', 'stop blue', 'unlock']);
    expect(t.state.canary).toBeUndefined();

    // A canary left at 10%, then rolled back by hand: stable keeps everything, the canary stops.
    t.behaviours.set('app:3', { version: '3.0.0' });
    await deploy(t, 'app:3', manual);
    t.calls.length = 0;
    const back = await new Engine(config(t, { action: 'rollback' }), t).run();
    expect(back).toMatchObject({ live: 'green', rolledBack: true, version: '2.0.0' });
    expect(t.calls).toEqual(['lock', 'route green', 'stop blue', 'unlock']);
    expect(t.state.canary).toBeUndefined();
  });

  test('canary: a deploy while a canary is left is refused; a step the router refuses routes every request back', async () => {
    await deploy(t, 'app:1');
    const manual = { strategy: 'canary' as const, steps: [10, 50, 100], stepMs: 100, autoPromote: false };
    await deploy(t, 'app:2', manual);
    t.behaviours.set('app:3', { version: '3.0.0' });
    t.calls.length = 0;
    const overlap = await failure(deploy(t, 'app:3'));
    expect(overlap.message).toBe(
      'A canary of 2.0.0 takes 10% of new requests on green. Finish it first: action: promote takes the next step, action: rollback sends every request back to blue.',
    );
    expect(t.calls).toEqual(['prepare app:3', 'lock', 'unlock']);
    expect(t.state.colors.green.image).toBe('app:2');

    t.refuseWeigh.add(50);
    t.calls.length = 0;
    const refused = await failure(new Engine(config(t, { ...manual, action: 'promote' }), t).run());
    expect(refused.message).toBe('the router refused 50%');
    expect(t.calls).toEqual(['lock', 'weigh green 50%', 'route blue', 'stop green', 'unlock']);
    expect(t.state.live).toBe('blue');
    expect(t.state.canary).toBeUndefined();
  });

  test('rollback to a version two releases back: its image is deployed again through the gate; an unknown version lists the history', async () => {
    t.behaviours.set('app:3', { version: '3.0.0' });
    for (const image of ['app:1', 'app:2', 'app:3'])
      expect((await deploy(t, image)).outcome).toBe('switched');
    t.calls.length = 0;
    const r = await new Engine(config(t, { action: 'rollback', rollbackTo: '1.0.0' }), t).run();
    expect(r).toMatchObject({
      outcome: 'switched',
      version: '1.0.0',
      rolledBack: true,
      previousVersion: '3.0.0',
    });
    expect(t.calls).toEqual([
      'prepare app:1',
      'lock',
      'start green app:1',
      'route green',
      'stop blue',
      'unlock',
    ]);
    expect(r.phases.map((p) => p.name)).toContain('ready');
    expect(t.state.history?.map((h) => h.version)).toEqual(['1.0.0', '2.0.0', '3.0.0', '1.0.0']);
    const unknown = await failure(
      new Engine(config(t, { action: 'rollback', rollbackTo: '9.9.9' }), t).run(),
    );
    expect(unknown.message).toContain("Input `to` got `9.9.9`; it accepts a version from hello's history");
    expect(unknown.message).toContain('1.0.0, 2.0.0, 3.0.0, 1.0.0');
  });

  test('a version that never gets healthy: the ready gate fails, traffic never moves, the new colour stops', async () => {
    await deploy(t, 'app:1');
    t.behaviours.set('app:bad', { version: '9.9.9', health: 'never' });
    t.calls.length = 0;
    // It never answers healthy, so any ready-timeout ends the same way: a short one keeps the test quick.
    const r = await failure(deploy(t, 'app:bad', { readyTimeoutMs: 300 }));
    expect(r.outcome).toBe('failed');
    expect(t.calls).toEqual(['prepare app:bad', 'lock', 'start green app:bad', 'stop green', 'unlock']);
    expect(r.message).toMatch(/^green did not pass its checks, so traffic was not moved/);
    expect(t.state.live).toBe('blue');
  });

  test('a start that never returns ends at the phase deadline; the colour is stopped and the lock released', async () => {
    await deploy(t, 'app:1');
    t.behaviours.set('app:hang', { version: '4.0.0', hangOnStart: true });
    t.calls.length = 0;
    // The start phase's deadline is readyTimeoutMs plus the engine's grace (30 s), here none.
    const r = await failure(deploy(t, 'app:hang', { readyTimeoutMs: 300 }, 0));
    expect(r.message).toBe('Phase `start green` did not finish within 300ms.');
    expect(r.phases.find((p) => p.name === 'start green')?.failed).toBe(true);
    expect(t.calls).toEqual(['prepare app:hang', 'lock', 'start green app:hang', 'stop green', 'unlock']);
    expect(t.state.live).toBe('blue');
  });

  test('each canary step that held is told (canary-step), in order; a step that failed is not', async () => {
    await deploy(t, 'app:1');
    const steps: number[] = [];
    const canary = { strategy: 'canary' as const, steps: [10, 50, 100], stepMs: 100 };
    const run = (image: string, over = {}) =>
      quietly(() =>
        new Engine(
          config(t, { release: { image, version: t.behaviours.get(image)?.version }, ...canary, ...over }),
          t,
          {
            onCanaryStep: async (percent) => void steps.push(percent),
          },
        ).run(),
      );
    expect((await run('app:2')).outcome).toBe('switched');
    expect(steps).toEqual([10, 50]);
    steps.length = 0;
    t.behaviours.set('app:3', { version: '3.0.0', health: 'after:100' });
    await failure(run('app:3', { stepMs: 2_000 }));
    expect(steps).toEqual([]);
  });

  // #32: a migration runs once, as the new version, before anything of it starts; if it fails,
  // nothing moves. A smoke command after the switch that fails rolls back.
  test('before-traffic: run once as the new version under the lock before it starts; a canary runs it once, not per step', async () => {
    await deploy(t, 'app:1');
    t.calls.length = 0;
    const hooks = { beforeTraffic: ['migrate', 'up'], timeoutMs: 5_000 };
    const r = await deploy(t, 'app:2', { hooks });
    expect(t.calls).toEqual([
      'prepare app:2',
      'lock',
      'run-once app:2 migrate up',
      'start green app:2',
      'route green',
      'stop blue',
      'unlock',
    ]);
    expect(r.hooks).toEqual([
      expect.objectContaining({ hook: 'before-traffic', command: 'migrate up', code: 0, passed: true }),
    ]);
    expect(r.phases.map((p) => p.name).slice(3, 5)).toEqual(['before traffic', 'start green']);
    // A canary left at its first step: promote takes the next steps and the switch, no second run.
    t.behaviours.set('app:3', { version: '3.0.0' });
    t.calls.length = 0;
    const canary = {
      strategy: 'canary' as const,
      steps: [10, 50, 100],
      stepMs: 50,
      autoPromote: false,
      hooks,
    };
    expect((await deploy(t, 'app:3', canary)).outcome).toBe('previewing');
    const promote = () => quietly(() => new Engine(config(t, { ...canary, action: 'promote' }), t).run());
    expect((await promote()).outcome).toBe('previewing');
    expect((await promote()).outcome).toBe('switched');
    expect(t.calls.filter((c) => c.startsWith('run-once'))).toEqual(['run-once app:3 migrate up']);
    // A rollback to an older release does not run its migration against the newer schema.
    t.calls.length = 0;
    const back = await quietly(() =>
      new Engine(config(t, { action: 'rollback', rollbackTo: '1.0.0', hooks }), t).run(),
    );
    expect(back.version).toBe('1.0.0');
    expect(t.calls.filter((c) => c.startsWith('run-once'))).toEqual([]);
  });

  test('before-traffic that fails or outlives hook-timeout: nothing starts, nothing switches, the old version stays live', async () => {
    await deploy(t, 'app:1');
    t.behaviours.set('app:2', {
      version: '2.0.0',
      oneOff: { code: 3, output: 'applying 0007_add_index\nERROR: relation "users" does not exist' },
    });
    t.calls.length = 0;
    const r = await failure(
      deploy(t, 'app:2', { hooks: { beforeTraffic: ['migrate', 'up'], timeoutMs: 5_000 } }),
    );
    expect(t.calls).toEqual(['prepare app:2', 'lock', 'run-once app:2 migrate up', 'unlock']);
    expect(r).toMatchObject({ outcome: 'failed', live: 'blue' });
    expect(t.state.live).toBe('blue');
    expect(t.state.colors.green.state).toBe('absent');
    expect(r.phases.find((p) => p.name === 'before traffic')?.failed).toBe(true);
    expect(r.message).toBe(
      'The before-traffic command (migrate up) exited with code 3 on a fake container from app:2 as green, so nothing was started or switched: traffic stays on blue. Its last lines:\napplying 0007_add_index\nERROR: relation "users" does not exist',
    );
    t.behaviours.set('app:2', { version: '2.0.0', oneOff: 'hang' });
    t.calls.length = 0;
    const slow = await failure(deploy(t, 'app:2', { hooks: { beforeTraffic: ['migrate'], timeoutMs: 200 } }));
    expect(slow.message).toMatch(
      /^The before-traffic command \(migrate\) was stopped after \d+ms \(hook-timeout\)/,
    );
    expect(t.calls).toEqual(['prepare app:2', 'lock', 'run-once app:2 migrate', 'unlock']);
    expect(t.state.live).toBe('blue');
  });

  test('a target that cannot run before-traffic says so before anything starts', async () => {
    await deploy(t, 'app:1');
    const plain = new Proxy(t, {
      get: (target, p) => (p === 'runOnce' ? undefined : (Reflect.get(target, p, target) as unknown)),
    });
    t.calls.length = 0;
    const e = await quietly(() =>
      new Engine(
        config(t, {
          release: { image: 'app:2', version: '2.0.0' },
          hooks: { beforeTraffic: ['migrate'], timeoutMs: 1_000 },
        }),
        plain,
      ).run(),
    ).catch((x: unknown) => x as Error);
    expect((e as Error).message).toBe(
      'fake target cannot run a before-traffic command; remove `before-traffic` or deploy to a target that runs it (docker, hosts, kubernetes).',
    );
    expect(t.calls).toEqual(['prepare app:2', 'lock', 'unlock']);
  });

  test('after-switch: run on the runner against the public entry once it answers as the new version; a failure rolls back', async () => {
    const dir = tempDir('after-switch');
    const seen = join(dir, 'seen');
    await deploy(t, 'app:1');
    // The job's environment holds an input and a variable the smoke test was given by name.
    process.env.INPUT_TOKEN = 'input-secret';
    process.env.SMOKE_KEY = 'smoke-key';
    const passing = await deploy(t, 'app:2', {
      hooks: {
        afterSwitch: `curl -fsS "$GO_SHIP_URL/version" > ${seen}; echo "$GO_SHIP_VERSION $GO_SHIP_COLOR" >> ${seen}; echo "token:$INPUT_TOKEN key:$SMOKE_KEY" >> ${seen}`,
        afterSwitchEnv: ['SMOKE_KEY'],
        timeoutMs: 5_000,
      },
    }).finally(() => {
      delete process.env.INPUT_TOKEN;
      delete process.env.SMOKE_KEY;
    });
    expect(passing.outcome).toBe('switched');
    // It saw the new version through the public entry, was told what it checks, and got no inputs.
    expect(readFileSync(seen, 'utf8')).toBe('2.0.0' + '2.0.0 green\ntoken: key:smoke-key\n');
    expect(passing.phases.map((p) => p.name)).toEqual(
      expect.arrayContaining(['confirm', 'after switch', 'verify']),
    );
    t.behaviours.set('app:3', { version: '3.0.0' });
    t.calls.length = 0;
    const r = await failure(
      deploy(t, 'app:3', { hooks: { afterSwitch: 'echo "checkout: 502"; exit 4', timeoutMs: 5_000 } }),
    );
    expect(r.outcome).toBe('rolled-back');
    expect(t.state.live).toBe('green');
    expect(t.calls).toEqual([
      'prepare app:3',
      'lock',
      'start blue app:3',
      'route blue',
      'route green',
      'stop blue',
      'unlock',
    ]);
    expect(r.hooks).toEqual([
      expect.objectContaining({
        hook: 'after-switch',
        where: 'the runner',
        code: 4,
        output: 'checkout: 502',
        passed: false,
      }),
    ]);
    expect(r.phases.find((p) => p.name === 'after switch')?.failed).toBe(true);
    expect(r.message).toMatch(
      /^the after-switch command exited with code 4\. Rolled back: traffic is on green \(2\.0\.0\) again/,
    );
  });

  // What a promotion reads: the live version answering through the public entry right now.
  test('status: the live version checked through the public entry; without a url nothing is asked', async () => {
    const status = (over: Partial<DeployConfig> = {}) =>
      quietly(() => new Engine(config(t, { action: 'status', ...over }), t).run());
    expect((await status()).liveHealthy).toBeUndefined(); // nothing live yet
    await deploy(t, 'app:1');
    const healthy = await status();
    expect(healthy).toMatchObject({ outcome: 'status', live: 'blue', version: '1.0.0', liveHealthy: true });
    expect(healthy.phases.map((p) => p.name)).toEqual(['inspect', 'live health']);
    t.behaviours.set('app:1', { version: '1.0.0', health: 'never' });
    const sick = await status({ readyTimeoutMs: 300 });
    expect(sick.liveHealthy).toBe(false);
    expect(sick.checks.at(-1)).toMatchObject({ phase: 'live health', passed: false });
    const noUrl = await status({ url: '' });
    expect(noUrl.live).toBe('blue');
    expect(noUrl.liveHealthy).toBeUndefined();
    expect(noUrl.phases.map((p) => p.name)).toEqual(['inspect']);
  });

  test('a lock held by another deploy: waited for up to lock-timeout, then refused naming the holder', async () => {
    t.lockHolder = {
      holder: 'run 41 by someone',
      since: '2026-12-01T00:00:00Z',
      expires: '2099-01-01T00:00:00Z',
    };
    const r = await failure(deploy(t, 'app:1'));
    expect(r.message).toMatch(
      /^Another deploy of hello holds the lock: run 41 by someone, since 2026-12-01T00:00:00Z/,
    );
    expect(t.calls).toEqual(['prepare app:1']);
  });

  test('rollback: the stopped colour is resumed, gated, switched to, and the bad one stopped', async () => {
    await deploy(t, 'app:1');
    await deploy(t, 'app:2');
    t.calls.length = 0;
    const r = await quietly(() => new Engine(config(t, { action: 'rollback' }), t).run());
    expect(r).toMatchObject({ outcome: 'switched', live: 'blue', rolledBack: true, version: '1.0.0' });
    expect(t.calls).toEqual(['lock', 'resume blue', 'route blue', 'stop green', 'unlock']);
  });

  test('auto-promote false leaves the new colour previewing; promote switches to it', async () => {
    await deploy(t, 'app:1');
    t.calls.length = 0;
    const preview = await deploy(t, 'app:2', { autoPromote: false });
    expect(preview).toMatchObject({ outcome: 'previewing', live: 'blue' });
    expect(t.calls).toEqual(['prepare app:2', 'lock', 'start green app:2', 'unlock']);
    const promoted = await quietly(() => new Engine(config(t, { action: 'promote' }), t).run());
    expect(promoted).toMatchObject({ outcome: 'switched', live: 'green', previous: 'blue' });
  });

  // Untrusted/odd input (#29 item 7): only `deploy` was held to lock-ttl. A promote with keep-old 2h
  // took a Docker lock that expired mid-run; `drain: 596h` made a phase deadline fire after 1 ms.
  test.each([
    ['promote', { keepOldMs: 2 * 3_600_000 }, /keep-old 120m30s/],
    ['rollback', { keepOldMs: 2 * 3_600_000 }, /keep-old 120m30s/],
    ['promote', { drainMs: 596 * 3_600_000, lockTtlMs: 596 * 3_600_000 }, /stop the old colour 71521m30s/],
  ] as const)('%s is held to lock-ttl too: refused before the lock is taken', async (action, over, part) => {
    await deploy(t, 'app:1');
    await deploy(t, 'app:2', { autoPromote: false });
    t.calls.length = 0;
    const refused = await failure(
      quietly(() => new Engine(config(t, { action, lockTtlMs: 3_600_000, ...over }), t).run()),
    );
    expect(refused.message).toMatch(/This deploy could hold the lock for up to/);
    expect(refused.message).toMatch(part);
    expect(t.calls).toEqual([]);
  });
});

test('a deadline past the 24.8-day timer limit waits in pieces instead of firing at once', () => {
  jest.useFakeTimers();
  try {
    let fired = 0;
    afterMs(2 ** 31 + 5_000, () => fired++);
    jest.advanceTimersByTime(2 ** 31 - 1);
    expect(fired).toBe(0);
    jest.advanceTimersByTime(5_000);
    expect(fired).toBe(0);
    jest.advanceTimersByTime(1);
    expect(fired).toBe(1);
    const cancel = afterMs(2 ** 32, () => fired++);
    jest.advanceTimersByTime(2 ** 31);
    cancel();
    jest.advanceTimersByTime(2 ** 32);
    expect(fired).toBe(1);
  } finally {
    jest.useRealTimers();
  }
});
