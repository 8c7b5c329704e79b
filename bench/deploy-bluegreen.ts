import { execFileSync, spawnSync } from 'node:child_process';
import { goShip } from '../__tests__/helpers/cli.js';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DOCKER } from '../__tests__/helpers/docker.js';
import { canarySteps, shareOf, startLoad, type LoadReport } from '../__tests__/helpers/load.js';
import { freePort, waitForHttp } from '../__tests__/helpers/net.js';
import { helloImage, nginxConfig, type Nginx } from '../__tests__/helpers/nginx.js';
import { median, type BenchReport, type Series } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..');

interface Outcome {
  ms: number;
  load: LoadReport;
  mixedMs?: number;
  rollbackMs?: number;
  /** Canary: the new version's share of wrk's answers inside each step below 100%. */
  shares?: { weight: number; percent: number }[];
}

const CANARY = ['strategy=canary', 'steps=10,50,100', 'step-duration=4s'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A figure from the step summary's table, in ms. */
function figure(summary: string, label: string): number | undefined {
  const m = new RegExp(`\\| ${label}[^|]*\\| ([\\d.]+)(ms|s) \\|`).exec(summary);
  return m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : undefined;
}

/** One go-ship deploy under wrk load; `fault` ships a version that breaks after the switch. */
async function goShipDeploy(
  nginx: Nginx,
  app: string,
  ports: number[],
  image: string,
  fault?: string,
  extra: string[] = [],
  version?: string,
): Promise<Outcome> {
  // Which port is idle: the new version starts there, and a canary weighs it.
  const routed = existsSync(nginx.upstreamFile) ? readFileSync(nginx.upstreamFile, 'utf8') : '';
  const idle = routed.includes(`:${ports[0]};`) ? ports[1] : ports[0];
  const steps = extra.length ? canarySteps(nginx.upstreamFile, idle) : undefined;
  const load = startLoad(nginx.publicUrl);
  await sleep(1000);
  const t0 = Date.now();
  // Asynchronous: the canary's step watcher polls the upstream file while the deploy runs.
  const r = await goShip(
    [
      'deploy-bluegreen',
      '--json',
      ...[
        `app=${app}`,
        `image=${image}`,
        `url=${nginx.publicUrl}`,
        'network=host',
        `env=ADDR=127.0.0.1:\${PORT}${fault ? `\nHELLO_FAULT=${fault}` : ''}`,
        `blue-port=${ports[0]}`,
        `green-port=${ports[1]}`,
        `nginx-upstream-file=${nginx.upstreamFile}`,
        `nginx-conf=${nginx.conf}`,
        'health-interval=200ms',
        'verify-seconds=2',
        'drain=2s',
        ...extra,
      ].flatMap((w) => ['--with', w]),
    ],
    { env: { PATH: `/usr/bin:${process.env.PATH}` } },
  );
  const ms = Date.now() - t0;
  await sleep(1000);
  const seen = await load.stop();
  const windows = steps?.stop() ?? [];
  const summary = (JSON.parse(r.stdout || '{}') as { summary?: string }).summary ?? '';
  if ((r.code === 0) === !!fault)
    throw new Error(`deploy ${fault ? 'should have failed' : 'failed'}:\n${r.stderr.slice(-2000)}`);
  return {
    ms,
    load: seen,
    mixedMs: figure(summary, 'Mixed-version window'),
    rollbackMs: figure(summary, 'Failed check'),
    shares: version
      ? windows
          .filter((w) => w.percent < 100)
          .map((w) => ({ weight: w.percent, percent: shareOf(seen, version, w.from, w.to).percent }))
      : undefined,
  };
}

/**
 * What a team without blue-green runs on a Docker host (a deploy script, or `docker compose up -d`
 * recreating the service): stop the old container, start the new one on the same port, wait for health.
 */
async function recreate(nginx: Nginx, name: string, port: number, image: string): Promise<Outcome> {
  const load = startLoad(nginx.publicUrl);
  await sleep(1000);
  const t0 = Date.now();
  execFileSync(DOCKER, ['stop', '--time', '2', name], { stdio: 'ignore' });
  execFileSync(DOCKER, ['rm', name], { stdio: 'ignore' });
  execFileSync(
    DOCKER,
    ['run', '-d', '--name', name, '--network', 'host', '-e', `ADDR=127.0.0.1:${port}`, image],
    {
      stdio: 'ignore',
    },
  );
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, 30_000);
  const ms = Date.now() - t0;
  await sleep(1000);
  return { ms, load: await load.stop() };
}

/**
 * examples/hello-svc behind nginx on loopback under constant wrk load (2 threads, 8 connections),
 * alternating 1.0.0 and 1.1.0: a go-ship deploy, a go-ship deploy whose version breaks after the
 * switch (automatic roll back), and the recreate a script or compose does, each with client
 * keep-alive off and on at nginx.
 */
export async function bench(runs: number): Promise<BenchReport> {
  const n = runs || 3;
  const work = mkdtempSync(join(tmpdir(), 'bench-deploy-'));
  const images = ['1.0.0', '1.1.0', '1.2.0'].map((v) => helloImage(DOCKER, ROOT, v, work));
  const id = randomBytes(3).toString('hex');
  const rows: string[] = [];
  const canaryShares: string[] = [];
  const series: Series[] = [];
  const cleanup: (() => void)[] = [];
  try {
    for (const keepalive of [false, true]) {
      const mode = keepalive ? 'keep-alive on' : 'keep-alive off';
      const app = `bench-${id}-${keepalive ? 'ka' : 'noka'}`;
      const dir = join(work, app);
      mkdirSync(dir);
      const ports = [await freePort(), await freePort()];
      const nginx = nginxConfig(dir, app, await freePort(), { keepalive });
      cleanup.push(() => {
        nginx.stop();
        for (const c of ['blue', 'green', 'deploy-lock']) spawnSync(DOCKER, ['rm', '-f', `${app}-${c}`]);
      });
      // The first deploy starts nginx; it is not measured (nothing was live).
      await goShipDeploy(nginx, app, ports, images[0]).catch(() => undefined);
      const good: Outcome[] = [];
      const bad: Outcome[] = [];
      const canary: Outcome[] = [];
      for (let i = 0; i < n; i++) {
        process.stderr.write(`  ${mode}: go-ship deploy ${i + 1}/${n}\n`);
        good.push(await goShipDeploy(nginx, app, ports, images[1]));
        process.stderr.write(`  ${mode}: go-ship deploy that breaks after the switch ${i + 1}/${n}\n`);
        bad.push(await goShipDeploy(nginx, app, ports, images[2], 'healthz-after=3'));
        process.stderr.write(`  ${mode}: go-ship canary 10/50/100 ${i + 1}/${n}\n`);
        // Back to 1.0.0 by canary, so the next plain deploy moves to 1.1.0 again.
        canary.push(await goShipDeploy(nginx, app, ports, images[0], undefined, CANARY, '1.0.0'));
      }

      // The recreate: its own nginx and one container on a fixed port.
      const rapp = `${app}-recreate`;
      const rdir = join(work, rapp);
      mkdirSync(rdir);
      const rport = await freePort();
      const rnginx = nginxConfig(rdir, rapp, await freePort(), { keepalive });
      writeFileSync(rnginx.upstreamFile, `upstream ${rapp} { server 127.0.0.1:${rport}; }\n`);
      execFileSync(
        DOCKER,
        ['run', '-d', '--name', rapp, '--network', 'host', '-e', `ADDR=127.0.0.1:${rport}`, images[0]],
        {
          stdio: 'ignore',
        },
      );
      execFileSync('nginx', ['-c', rnginx.conf]);
      cleanup.push(() => {
        rnginx.stop();
        spawnSync(DOCKER, ['rm', '-f', rapp]);
      });
      await waitForHttp(`${rnginx.publicUrl}/healthz`, 30_000);
      const naive: Outcome[] = [];
      for (let i = 0; i < n; i++) {
        process.stderr.write(`  ${mode}: docker stop + docker run ${i + 1}/${n}\n`);
        naive.push(await recreate(rnginx, rapp, rport, images[(i + 1) % 2]));
      }

      const med = (xs: (number | undefined)[]) => {
        const v = xs.filter((x): x is number => x !== undefined);
        return v.length ? `${Math.round(median(v))} ms` : '–';
      };
      const failed = (os: Outcome[]) =>
        `${os.reduce((a, o) => a + o.load.failed, 0)} of ${os.reduce((a, o) => a + o.load.requests, 0).toLocaleString('en')}`;
      const kinds = (os: Outcome[]) => {
        const e = { connect: 0, read: 0, write: 0, timeout: 0, status: 0 };
        for (const o of os) for (const k of Object.keys(e) as (keyof typeof e)[]) e[k] += o.load.errors[k];
        return (
          Object.entries(e)
            .filter(([, v]) => v)
            .map(([k, v]) => `${k === 'status' ? 'non-2xx' : k} ${v}`)
            .join(', ') || 'none'
        );
      };
      rows.push(
        `| go-ship deploy | ${mode} | ${failed(good)} | ${kinds(good)} | ${med(good.map((o) => o.mixedMs))} | – |`,
        `| go-ship deploy, broken after the switch (rolled back) | ${mode} | ${failed(bad)} | ${kinds(bad)} | ${med(bad.map((o) => o.mixedMs))} | ${med(bad.map((o) => o.rollbackMs))} |`,
        `| go-ship canary 10/50/100, 4 s per step | ${mode} | ${failed(canary)} | ${kinds(canary)} | ${med(canary.map((o) => o.mixedMs))} | – |`,
        `| docker stop + docker run (recreate) | ${mode} | ${failed(naive)} | ${kinds(naive)} | – | – |`,
      );
      const shares = [10, 50].map((w) => {
        const xs = canary
          .flatMap((o) => o.shares ?? [])
          .filter((s) => s.weight === w && !Number.isNaN(s.percent));
        return `${w}% → ${xs.length ? median(xs.map((s) => s.percent)).toFixed(1) : '–'}%`;
      });
      canaryShares.push(`${mode}: ${shares.join(', ')} (median of ${n} canaries)`);
      series.push(
        { name: `go-ship deploy (${mode})`, samples: good.map((o) => o.ms) },
        { name: `docker stop + docker run (${mode})`, samples: naive.map((o) => o.ms) },
      );
    }
  } finally {
    for (const c of cleanup) c();
  }
  return {
    title: 'deploy-bluegreen: examples/hello-svc behind nginx under constant load',
    setup: [
      `${n} deploys per row, alternating hello-svc 1.0.0 and 1.1.0 (images made with \`docker import\` of the static binary:`,
      'a plain deploy to 1.1.0, one of 1.2.0 that breaks after the switch, a canary back to 1.0.0),',
      'Debian nginx 1.22 on loopback, wrk 4.1 (2 threads, 8 connections) on `/hello` through nginx from 1 s before each deploy',
      'to 1 s after it. go-ship: health-interval 200ms, verify-seconds 2, drain 2s; times are the whole step (lock, start,',
      'gate, switch, confirm, verify, stop). The recreate is what a deploy script or `docker compose up -d` does on one',
      'port. Kamal (the closest tool for this target) is not installable here. "Failed" counts refused connections,',
      'read/write errors (resets), timeouts and non-2xx answers as wrk reports them.',
      '',
      '| what | nginx client keep-alive | failed requests (all runs) | kinds | mixed-version window (median) | failed check → old version (median) |',
      '| --- | --- | ---: | --- | ---: | ---: |',
      ...rows,
      '',
      "The canary's share of answers from the new version inside each step, counted by wrk from `X-Version` over the",
      "whole seconds inside the step (the step's bounds read from the upstream file go-ship writes):",
      '',
      ...canaryShares.map((l) => `- ${l}`),
    ].join('\n'),
    series,
    ratios: [
      ['go-ship deploy / recreate, keep-alive off (time)', series[0].name, series[1].name],
      ['go-ship deploy / recreate, keep-alive on (time)', series[2].name, series[3].name],
    ],
  };
}
