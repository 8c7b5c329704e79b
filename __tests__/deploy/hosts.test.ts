import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { join } from 'node:path';
import { goShip, ROOT, tempDir, runAction, type ActionRun } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { testRepo } from '../helpers/git.js';
import { reachableFleet, type TestFleet } from '../helpers/hosts.js';
import { startLoad, type LoadReport } from '../helpers/load.js';
import { freePort } from '../helpers/net.js';
import { nginxConfig, type Nginx } from '../helpers/nginx.js';

const fleet = reachableFleet();

/** Fails with the end of the step's log, so a failure shows why. */
function ok(r: ActionRun): void {
  if (r.code !== 0) throw new Error(`the step failed (exit code ${r.code}):\n${r.stderr.slice(-4000)}`);
}

/** What each server's nginx answers on /version, in the fleet's order. */
async function versions(f: TestFleet): Promise<string[]> {
  return Promise.all(
    f.web.map(
      async (w) => ((await (await fetch(`http://${w}/version`)).json()) as { version: string }).version,
    ),
  );
}

/** A step run under wrk load through the front nginx; the load starts 500 ms before and ends 500 ms after. */
async function underLoad(url: string, name: string, step: () => Promise<ActionRun>) {
  const load = startLoad(url);
  await new Promise((r) => setTimeout(r, 500));
  const r = await step();
  await new Promise((r) => setTimeout(r, 500));
  const seen: LoadReport = await load.stop();
  console.log(
    `${name}: wrk ${seen.requests} requests, ${seen.failed} failed ${JSON.stringify(seen.errors)}, by version ${seen.versions.map((v) => `${v.version}×${v.count}`).join(', ')}; bytes-sent ${r.outputs['bytes-sent']}`,
  );
  return { r, seen };
}

describeWith(
  'the hosts of scripts/fleet-hosts.sh (systemd, sshd, nginx), nginx, wrk and go',
  !!fleet && hasCommand('nginx', ['-v']) && existsSync('/usr/bin/wrk') && hasCommand('go', ['version']),
  'deploy-bluegreen to a fleet of servers over SSH (target: hosts), under constant load',
  () => {
    const f = fleet!;
    const app = `hello-${randomBytes(3).toString('hex')}`;
    const work = tempDir('hosts');
    const upstreamFile = `/etc/nginx/go-ship/${app}-upstream.conf`;
    const dists: Record<string, string> = {};
    let front: Nginx;
    let base: Record<string, string>;
    const deploy = (withs: Record<string, string>) =>
      runAction('deploy-bluegreen', { with: { ...base, ...withs } });
    /** Every server's upstream file and lock folder, to show that a refused run changed nothing. */
    const snapshot = () =>
      f.lines.map(
        (_, i) => f.sh(i, `cat ${upstreamFile} 2>/dev/null; ls -d /opt/${app}/.lock 2>/dev/null`).stdout,
      );

    beforeAll(async () => {
      // The binaries, as a workflow makes them: build-matrix on a copy of the example, one version each.
      const { dir } = testRepo(join(work, 'hello-svc'), {
        from: join(ROOT, 'examples', 'hello-svc'),
        files: { '.gitignore': '/dist*/\n' },
        message: 'feat: hello',
      });
      for (const v of ['1.0.0', '1.1.0', '1.2.0']) {
        const b = await runAction('build-matrix', {
          workspace: dir,
          with: { targets: 'linux/amd64', version: v, 'output-dir': `dist-${v}` },
        });
        expect(b.stderr).not.toMatch(/go-ship bug/);
        expect(b.code).toBe(0);
        dists[v] = join(dir, `dist-${v}`);
      }
      // Each server's site, as its admin writes it: the upstream comes from the file go-ship owns.
      // nginx is not reloaded here (the file does not exist yet); the first deploy does it.
      for (const [i] of f.lines.entries()) {
        const site = `include ${upstreamFile};\nserver {\n  listen 80;\n  location / {\n    proxy_pass http://${app};\n    proxy_http_version 1.1;\n    proxy_set_header Connection "";\n  }\n}\n`;
        expect(f.sh(i, `cat > /etc/nginx/sites-enabled/${app}.conf <<'EOF'\n${site}EOF`).code).toBe(0);
      }
      // The front nginx balances over every server's nginx, as a load balancer in front of a fleet does.
      front = nginxConfig(join(work, 'front'), app, await freePort(), { keepalive: false });
      writeFileSync(
        front.upstreamFile,
        `upstream ${app} {\n${f.web.map((w) => `  server ${w}:80;`).join('\n')}\n}\n`,
      );
      execFileSync('nginx', ['-c', front.conf], { stdio: 'inherit' });
      const ports = randomInt(20_000, 32_000);
      base = {
        target: 'hosts',
        app,
        hosts: f.lines.join('\n'),
        'ssh-key': f.key,
        'known-hosts': f.knownHosts,
        url: front.publicUrl,
        env: 'ADDR=127.0.0.1:${PORT}',
        'blue-port': String(ports),
        'green-port': String(ports + 1),
        'nginx-upstream-file': upstreamFile,
        batch: '1',
        'health-interval': '200ms',
        'verify-seconds': '2',
        drain: '2s',
        'lock-timeout': '0s',
        'ready-timeout': '15s',
      };
    }, 300_000);

    afterAll(() => {
      front?.stop();
      for (const [i] of f.lines.entries())
        f.sh(
          i,
          `systemctl stop ${app}@blue ${app}@green; rm -rf /etc/systemd/system/${app}@.service /etc/systemd/system/${app}@.service.d /opt/${app} /etc/nginx/sites-enabled/${app}.conf ${upstreamFile}; systemctl daemon-reload; systemctl reload nginx`,
        );
    });

    test('first deploy: every server gets the binary, checked by sha256 there, and its nginx switches to it', async () => {
      const r = await deploy({ from: dists['1.0.0'] });
      expect(r.stderr).not.toMatch(/go-ship bug/);
      ok(r);
      expect(r.outputs).toMatchObject({ outcome: 'switched', version: '1.0.0', 'live-color': 'blue' });
      // One linux/amd64 binary per server.
      const size = Number(f.sh(0, `stat -c %s /opt/${app}/releases/1.0.0/hello-svc`).stdout.trim());
      expect(size).toBeGreaterThan(1_000_000);
      expect(Number(r.outputs['bytes-sent'])).toBe(3 * size);
      // The sha256 on the server is build-matrix's.
      const manifest = JSON.parse(readFileSync(join(dists['1.0.0'], 'manifest.json'), 'utf8')) as {
        artifacts: { binaries: { sha256: string }[] }[];
      };
      const sums = f.lines.map(
        (_, i) => f.sh(i, `sha256sum /opt/${app}/releases/1.0.0/hello-svc`).stdout.split(' ')[0],
      );
      expect(sums).toEqual(Array(3).fill(manifest.artifacts[0].binaries[0].sha256));
      expect(await versions(f)).toEqual(['1.0.0', '1.0.0', '1.0.0']);
      // The colour runs as a systemd instance of the unit go-ship wrote.
      expect(f.sh(1, `systemctl is-active ${app}@blue`).stdout.trim()).toBe('active');
      for (const line of f.lines) expect(r.summary).toContain(line.split(' via ')[0]);
    }, 300_000);

    test('a rolling deploy of three servers in batches of one under load: 0 failed requests', async () => {
      const { r, seen } = await underLoad(front.publicUrl, 'rolling 1.0.0 → 1.1.0', () =>
        deploy({ from: dists['1.1.0'] }),
      );
      expect(r.stderr).not.toMatch(/go-ship bug/);
      ok(r);
      expect(r.outputs).toMatchObject({ outcome: 'switched', version: '1.1.0', 'live-color': 'green' });
      expect(seen.requests).toBeGreaterThan(100);
      expect(seen.failed).toBe(0);
      expect(seen.versions.map((v) => v.version).sort()).toEqual(['1.0.0', '1.1.0']);
      // Batch by batch, in the order given.
      const batches = [...r.stderr.matchAll(/■ batch (\d) of 3: (\S+)/g)].map((m) => m[2]);
      expect(batches).toEqual(f.lines.map((l) => l.split(' ')[0]));
      expect(await versions(f)).toEqual(['1.1.0', '1.1.0', '1.1.0']);
    }, 300_000);

    test('a version that fails its gate on the second server leaves all three on the old release, 0 failed', async () => {
      // The second server's service gets a fault the old colour, already running, does not have.
      f.sh(
        1,
        `mkdir -p /etc/systemd/system/${app}@.service.d && printf '[Service]\\nEnvironment=HELLO_FAULT=healthz\\n' > /etc/systemd/system/${app}@.service.d/fault.conf && systemctl daemon-reload`,
      );
      const third = f.sh(2, `cat ${upstreamFile}`).stdout;
      try {
        const { r, seen } = await underLoad(front.publicUrl, 'failing 1.1.0 → 1.2.0', () =>
          deploy({ from: dists['1.2.0'] }),
        );
        expect(r.stderr).not.toMatch(/go-ship bug/);
        expect(r.code).not.toBe(0);
        expect(r.outputs).toMatchObject({ outcome: 'rolled-back', 'rolled-back': 'true' });
        expect(seen.failed).toBe(0);
        expect(await versions(f)).toEqual(['1.1.0', '1.1.0', '1.1.0']);
        // The first server was switched and returned; the third was never touched.
        const row = (i: number) =>
          r.summary.split('\n').find((l) => l.includes(f.lines[i].split(' ')[0])) ?? '';
        expect(row(0)).toMatch(/returned/i);
        expect(row(1)).toMatch(/failed/i);
        expect(row(2)).toMatch(/not reached/i);
        expect(f.sh(2, `cat ${upstreamFile}`).stdout).toBe(third);
        expect(r.stderr).toMatch(/did not pass its checks/);
      } finally {
        f.sh(1, `rm -rf /etc/systemd/system/${app}@.service.d && systemctl daemon-reload`);
      }
    }, 300_000);

    // #32: a migration runs once for the whole fleet, on the first server, as the new binary, before
    // any server starts it; one that fails leaves every server as it was.
    test('a migration before traffic runs once for the fleet; one that fails leaves all three on the old release, 0 failed', async () => {
      const db = `/opt/${app}/migrations.db`;
      const env = `ADDR=127.0.0.1:\${PORT}\nHELLO_DB=${db}`;
      const hooks = { 'before-traffic': 'migrate', 'hook-timeout': '1m' };
      const dbs = () => f.lines.map((_, i) => f.sh(i, `cat ${db} 2>/dev/null`).stdout);
      const failed = await underLoad(front.publicUrl, 'failed migration 1.1.0 → 1.2.0', () =>
        deploy({ from: dists['1.2.0'], ...hooks, env: `${env}\nHELLO_FAULT=migrate` }),
      );
      expect(failed.r.stderr).not.toMatch(/go-ship bug/);
      expect(failed.r.code).not.toBe(0);
      const first = f.lines[0].split(' ')[0];
      expect(failed.r.stderr).toContain(
        `The before-traffic command (migrate) exited with code 1 on ${first}: hello-svc 1.2.0, so no server was started or switched.`,
      );
      expect(failed.r.stderr).toContain('migrate: ERROR: relation "greetings" does not exist');
      expect(failed.seen.failed).toBe(0);
      expect(await versions(f)).toEqual(['1.1.0', '1.1.0', '1.1.0']);
      expect(dbs()).toEqual(['', '', '']);
      expect(failed.r.summary).toMatch(
        /\| before-traffic \| `migrate` \| [^|]+ \| [^|]+ \| ❌ exited with code 1 \|/,
      );

      const { r, seen } = await underLoad(front.publicUrl, 'migrated 1.1.0 → 1.2.0', () =>
        deploy({ from: dists['1.2.0'], ...hooks, env }),
      );
      ok(r);
      expect(seen.failed).toBe(0);
      expect(await versions(f)).toEqual(['1.2.0', '1.2.0', '1.2.0']);
      // Exactly once, on the first server, before its batch.
      expect(dbs()).toEqual(['schema 1.2.0\n', '', '']);
      expect(r.stderr.indexOf('before traffic, once for the fleet')).toBeLessThan(
        r.stderr.indexOf('■ batch 1 of 3'),
      );
      expect(r.summary).toContain('Before traffic, once for the fleet');
      // Its environment file does not outlive it.
      expect(f.sh(0, `ls /opt/${app}/before-traffic.env 2>&1`).code).not.toBe(0);
    }, 300_000);

    test('a rollback to the release two back on every server: no upload, 0 failed', async () => {
      const up = await deploy({ from: dists['1.2.0'] });
      ok(up);
      expect(await versions(f)).toEqual(['1.2.0', '1.2.0', '1.2.0']);
      const { r, seen } = await underLoad(front.publicUrl, 'rollback 1.2.0 → 1.0.0', () =>
        deploy({ action: 'rollback', to: '1.0.0' }),
      );
      expect(r.stderr).not.toMatch(/go-ship bug/);
      ok(r);
      expect(r.outputs['bytes-sent']).toBe('0');
      expect(r.stderr).not.toMatch(/ sent hello-svc/);
      expect(seen.failed).toBe(0);
      expect(await versions(f)).toEqual(['1.0.0', '1.0.0', '1.0.0']);
    }, 300_000);

    test('status: server × colour × version, changing nothing', async () => {
      const before = snapshot();
      const r = await deploy({ action: 'status' });
      ok(r);
      expect(r.outputs.outcome).toBe('status');
      for (const line of f.lines) {
        const row = r.summary.split('\n').find((l) => l.includes(line.split(' ')[0])) ?? '';
        expect(row).toMatch(/`1\.0\.0`/);
        expect(row).toMatch(/`1\.2\.0`/);
      }
      expect(snapshot()).toEqual(before);
    }, 120_000);

    test('a changed host key on the server behind the bastion stops the deploy before anything changes, naming it', async () => {
      const before = snapshot();
      const third = f.lines[2].split(' ')[0].split('@')[1];
      const other = join(work, 'other_key');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
      const pub = readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
      const knownHosts = f.knownHosts.replace(
        new RegExp(`^${third.replace(/\./g, '\\.')} .*$`, 'm'),
        `${third} ${pub}`,
      );
      expect(knownHosts).not.toBe(f.knownHosts);
      const r = await deploy({ from: dists['1.1.0'], 'known-hosts': knownHosts });
      expect(r.stderr).not.toMatch(/go-ship bug/);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(`host key of root@${third.replace(/\./g, '\\.')}.* has changed`));
      expect(r.stderr).toMatch(/nothing was deployed anywhere/);
      expect(snapshot()).toEqual(before);
      expect(await versions(f)).toEqual(['1.0.0', '1.0.0', '1.0.0']);
    }, 120_000);

    test('a deploy lock held on one server stops the run before anything changes on any, naming it', async () => {
      const before = snapshot();
      f.sh(
        1,
        `mkdir -p /opt/${app}/.lock && printf 'someone else (run 7)\\n2026-01-01T00:00:00Z\\n2099-01-01T00:00:00Z\\n' > /opt/${app}/.lock/info`,
      );
      try {
        const r = await deploy({ from: dists['1.1.0'] });
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(new RegExp(`lock on ${f.lines[1].split(' ')[0]}: someone else \\(run 7\\)`));
        expect(r.stderr).toMatch(/Nothing was changed on any host/);
      } finally {
        f.sh(1, `rm -rf /opt/${app}/.lock`);
      }
      expect(snapshot()).toEqual(before);
    }, 120_000);

    test("the user's own template unit instead of go-ship's; one without the colour as its instance is refused by name", async () => {
      const work2 = tempDir('hosts-unit');
      const unit = (exec: string) =>
        `[Unit]\nDescription=${app} colour %i, the team's own unit\n[Service]\nEnvironmentFile=/opt/${app}/%i.env\nExecStart=${exec}\nRestart=on-failure\n`;
      writeFileSync(join(work2, 'bad@.service'), unit(`/opt/${app}/current/hello-svc`));
      const bad = await runAction('deploy-bluegreen', {
        workspace: work2,
        with: { ...base, from: dists['1.1.0'], 'systemd-unit': 'bad@.service' },
      });
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(
        /Input `systemd-unit` got `bad@\.service`.*ExecStart=\/opt\/hello-[0-9a-f]+\/%i\/hello-svc/s,
      );
      writeFileSync(join(work2, 'mine@.service'), unit(`/opt/${app}/%i/hello-svc -addr=127.0.0.1:\${PORT}`));
      const r = await runAction('deploy-bluegreen', {
        workspace: work2,
        with: { ...base, from: dists['1.1.0'], 'systemd-unit': 'mine@.service', env: '' },
      });
      ok(r);
      expect(await versions(f)).toEqual(['1.1.0', '1.1.0', '1.1.0']);
      const live = r.outputs['live-color'];
      expect(f.sh(2, `systemctl show -p Description --value ${app}@${live}`).stdout.trim()).toBe(
        `${app} colour ${live}, the team's own unit`,
      );
    }, 300_000);

    test('server-switch: restart, a service that owns its port: one colour at a time, the gap stated, a failed gate starts the old one again', async () => {
      const svc = `${app}-own`;
      const port = Number(base['blue-port']) + 2;
      const answers = () =>
        Promise.all(
          f.web.map(async (w) => {
            const res = await fetch(`http://${w}:${port}/version`);
            return ((await res.json()) as { version: string }).version;
          }),
        );
      const own = (from: string) =>
        runAction('deploy-bluegreen', {
          with: {
            ...base,
            app: svc,
            from,
            'server-switch': 'restart',
            'blue-port': String(port),
            // No nginx on the servers for this one: the service listens where clients reach it.
            env: 'ADDR=0.0.0.0:${PORT}',
            'nginx-upstream-file': '',
          },
        });
      try {
        ok(await own(dists['1.0.0']));
        const r = await own(dists['1.1.0']);
        ok(r);
        expect(r.outputs.outcome).toBe('switched');
        expect(await answers()).toEqual(['1.1.0', '1.1.0', '1.1.0']);
        for (const line of f.lines) {
          const row = r.summary.split('\n').find((l) => l.includes(line.split(' ')[0])) ?? '';
          expect(row).toMatch(/deployed \(down \d+(\.\d+)?m?s while restarting\)/);
        }
        // Only one colour runs on each server.
        expect(
          f
            .sh(0, `systemctl is-active ${svc}@blue ${svc}@green`)
            .stdout.split('\n')
            .filter((l) => l === 'active'),
        ).toHaveLength(1);

        f.sh(
          0,
          `mkdir -p /etc/systemd/system/${svc}@.service.d && printf '[Service]\\nEnvironment=HELLO_FAULT=healthz\\n' > /etc/systemd/system/${svc}@.service.d/fault.conf && systemctl daemon-reload`,
        );
        const failed = await own(dists['1.2.0']);
        expect(failed.code).not.toBe(0);
        expect(failed.stderr).toMatch(/runs again/);
        expect(await answers()).toEqual(['1.1.0', '1.1.0', '1.1.0']);
      } finally {
        f.lines.forEach((_, i) =>
          f.sh(
            i,
            `systemctl stop ${svc}@blue ${svc}@green; rm -rf /etc/systemd/system/${svc}@.service /etc/systemd/system/${svc}@.service.d /opt/${svc}; systemctl daemon-reload`,
          ),
        );
      }
    }, 300_000);

    // #32: servers too get exactly what staging runs: the release's build, checked by sha256
    // against staging's servers before anything changes, and read back from production's.
    test('promote staging → production on servers: the build staging runs, by sha256; another build is refused', async () => {
      const ws = tempDir('hosts-promote');
      const apps = { staging: `${app}-stg`, production: `${app}-prd` };
      const port = Number(base['blue-port']) + 4;
      const ports = { staging: port, production: port + 1 };
      const env = (name: 'staging' | 'production', hosts: string[], web: string) => ({
        app: apps[name],
        hosts,
        url: `http://${web}:${ports[name]}`,
        'blue-port': ports[name],
      });
      writeFileSync(
        join(ws, '.go-ship.yml'),
        stringify({
          'deploy-bluegreen': {
            target: 'hosts',
            'known-hosts': f.knownHosts,
            'server-switch': 'restart',
            'nginx-upstream-file': '',
            'green-port': base['green-port'],
            env: { ADDR: '0.0.0.0:${PORT}' },
            batch: '1',
            'health-interval': '200ms',
            'verify-seconds': 1,
            drain: '1s',
            'lock-timeout': '0s',
            'ready-timeout': '15s',
          },
          environments: {
            staging: { branch: 'develop', 'deploy-bluegreen': env('staging', [f.lines[0]], f.web[0]) },
            production: {
              from: 'staging',
              'deploy-bluegreen': env('production', f.lines.slice(1), f.web[1]),
            },
          },
        }),
      );
      const status = (name: string) =>
        runAction('deploy-bluegreen', {
          workspace: ws,
          with: { action: 'status', environment: name, 'ssh-key': f.key },
        }).then((r) => r.outputs);
      const promote = (build: string) =>
        goShip(['promote', 'staging', 'production', '--workspace', ws, '--with', `from=${build}`, '--json'], {
          env: { GO_SHIP_SSH_KEY: f.key },
        });
      try {
        ok(
          await runAction('deploy-bluegreen', {
            workspace: ws,
            with: { environment: 'staging', from: dists['1.0.0'], 'ssh-key': f.key },
          }),
        );
        const staging = await status('staging');
        expect(staging).toMatchObject({ version: '1.0.0', healthy: 'true' });
        expect(staging['binary-sha256']).toMatch(/^[0-9a-f]{64}$/);

        // Another release's build is not what staging runs: refused before production changes.
        const wrong = await promote(dists['1.1.0']);
        expect(wrong.code).toBe(1);
        const refused = JSON.parse(wrong.stdout) as { reason: string; steps: { name: string }[] };
        expect(refused.reason).toContain(
          `is not what staging runs: its servers run sha256 ${staging['binary-sha256'].slice(0, 12)}, which the build does not hold`,
        );
        expect(refused.steps.map((x) => x.name)).toEqual(['read staging']);
        expect((await status('production'))['live-color']).toBe('');

        const r = await promote(dists['1.0.0']);
        expect(r.stderr).not.toMatch(/go-ship bug/);
        const out = JSON.parse(r.stdout) as { passed: boolean; digest: string; version: string };
        expect(out).toMatchObject({
          passed: true,
          version: '1.0.0',
          digest: `sha256:${staging['binary-sha256']}`,
        });
        const production = await status('production');
        expect(production).toMatchObject({
          version: '1.0.0',
          healthy: 'true',
          'binary-sha256': staging['binary-sha256'],
        });
        // Read back on the servers themselves too.
        for (const i of [1, 2])
          expect(
            f.sh(i, `sha256sum < /opt/${apps.production}/releases/1.0.0/hello-svc`).stdout.split(' ')[0],
          ).toBe(staging['binary-sha256']);
      } finally {
        f.lines.forEach((_, i) =>
          f.sh(
            i,
            Object.values(apps)
              .map(
                (a) =>
                  `systemctl stop ${a}@blue ${a}@green; rm -rf /etc/systemd/system/${a}@.service /opt/${a}`,
              )
              .join('; ') + '; systemctl daemon-reload',
          ),
        );
      }
    }, 300_000);

    test('the root pipeline on a push: tagged, built, and the same binaries deployed to the servers', async () => {
      const svc = join(tempDir('hosts-pipeline'), 'svc');
      cpSync(join(ROOT, 'examples', 'hello-svc'), svc, { recursive: true });
      // .go-ship.yml as a team writes it: the servers and their keys' fingerprints, no secret.
      writeFileSync(
        join(svc, '.go-ship.yml'),
        stringify({
          'setup-go-cross': { 'go-version-file': 'go.mod' },
          'build-matrix': { targets: ['linux/amd64'] },
          'deploy-bluegreen': {
            target: 'hosts',
            app,
            hosts: f.lines,
            'known-hosts': f.knownHosts,
            url: front.publicUrl,
            env: { ADDR: '127.0.0.1:${PORT}' },
            'blue-port': base['blue-port'],
            'green-port': base['green-port'],
            'nginx-upstream-file': upstreamFile,
            'health-interval': '200ms',
            'verify-seconds': 2,
            drain: '2s',
          },
        }),
      );
      writeFileSync(join(svc, '.gitignore'), '/dist/\n*.out\n');
      testRepo(svc, { message: 'feat: hello-svc', origin: true });
      const r = await goShip(['pipeline', '--workspace', svc, '--json', '--with', 'event=push'], {
        env: { GO_SHIP_SSH_KEY: f.key },
      });
      ok({ ...r, outputs: {}, summary: '' });
      const stages = (
        JSON.parse(r.stdout) as {
          stages: { stage: string; status: string; outputs: Record<string, string> }[];
        }
      ).stages;
      const by = Object.fromEntries(stages.map((x) => [x.stage, x]));
      expect(by.image.status).toBe('skipped');
      expect(by.deploy).toMatchObject({
        status: 'passed',
        outputs: { outcome: 'switched', version: '0.1.0' },
      });
      expect(await versions(f)).toEqual(['0.1.0', '0.1.0', '0.1.0']);
      // What runs on the servers is the build stage's binary, byte for byte.
      const manifest = JSON.parse(readFileSync(join(svc, 'dist', 'manifest.json'), 'utf8')) as {
        artifacts: { binaries: { sha256: string }[] }[];
      };
      expect(f.sh(0, `sha256sum /opt/${app}/releases/0.1.0/hello-svc`).stdout.split(' ')[0]).toBe(
        manifest.artifacts[0].binaries[0].sha256,
      );
      expect(r.stdout + r.stderr).not.toContain(f.key.trim().split('\n')[1]);
    }, 600_000);
  },
);
