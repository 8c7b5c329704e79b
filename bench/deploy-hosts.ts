// `npm run bench -- deploy-hosts`: the hosts target on a fleet of ten real servers (systemd, sshd
// and nginx in containers, scripts/fleet-hosts.sh): a rolling deploy in batches of 5 against
// batches of 1, and the upload of one binary (connect, send, sha256 on the server) against `scp`
// of the same file, the floor a hand-written script starts from.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { shippedBinaries } from '../src/crossbuild/binaries.js';
import { join, resolve } from 'node:path';
import { runAction, tempDir } from '../__tests__/helpers/cli.js';
import { testRepo } from '../__tests__/helpers/git.js';
import { testFleet } from '../__tests__/helpers/hosts.js';
import { parseHost, SshFleet } from '../src/deploy/targets/hosts/ssh.js';
import { HostTarget } from '../src/deploy/targets/hosts/target.js';
import { quietly } from '../__tests__/helpers/quiet.js';
import { median, timeRun, type BenchReport } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..');
const SERVERS = 10;
const STATE = '/tmp/go-ship-components/hosts-bench';

export async function bench(runs: number): Promise<BenchReport> {
  runs ||= 3;
  // A second fleet beside the tests' one: its own names, network and state.
  execFileSync('bash', [join(ROOT, 'scripts', 'fleet-hosts.sh'), 'start'], {
    env: {
      ...process.env,
      GO_SHIP_HOSTS: String(SERVERS),
      GO_SHIP_HOSTS_NET: '10.232',
      GO_SHIP_HOSTS_PREFIX: 'go-ship-bench',
      GO_SHIP_HOSTS_DIR: STATE,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const f = testFleet(STATE)!;
  const work = tempDir('bench-hosts');
  const { dir } = testRepo(join(work, 'hello-svc'), {
    from: join(ROOT, 'examples', 'hello-svc'),
    files: { '.gitignore': '/dist*/\n' },
    message: 'feat: hello',
  });
  const dists: string[] = [];
  for (const v of ['1.0.0', '1.1.0']) {
    const b = await runAction('build-matrix', {
      workspace: dir,
      with: { targets: 'linux/amd64', version: v, 'output-dir': `dist-${v}` },
    });
    if (b.code !== 0) throw new Error(b.stderr);
    dists.push(join(dir, `dist-${v}`));
  }
  const app = `bench-${randomBytes(3).toString('hex')}`;
  const ports = randomInt(20_000, 32_000);
  // A run cut short leaves its services behind: every bench app is removed before and after.
  const cleanup = () =>
    f.lines.forEach((_, i) =>
      f.sh(
        i,
        'for u in $(systemctl list-units --all --plain --no-legend "bench-*@*" | cut -d" " -f1); do systemctl stop "$u"; done; rm -rf /etc/systemd/system/bench-*@.service /opt/bench-* /tmp/scp-* /etc/nginx/sites-enabled/bench-*.conf /etc/nginx/go-ship/bench-*; systemctl daemon-reload; systemctl reload nginx',
      ),
    );
  cleanup();
  const upstreamFile = `/etc/nginx/go-ship/${app}-upstream.conf`;
  const site = `include ${upstreamFile};\nserver {\n  listen 80;\n  location / { proxy_pass http://${app}; }\n}\n`;
  f.lines.forEach((_, i) => f.sh(i, `cat > /etc/nginx/sites-enabled/${app}.conf <<'EOF'\n${site}EOF`));
  const base = {
    target: 'hosts',
    app,
    hosts: f.lines.join('\n'),
    'ssh-key': f.key,
    'known-hosts': f.knownHosts,
    url: `http://${f.web[0]}`,
    env: 'ADDR=127.0.0.1:${PORT}',
    'nginx-upstream-file': upstreamFile,
    'blue-port': String(ports),
    'green-port': String(ports + 1),
    'health-interval': '200ms',
    'verify-seconds': '2',
    drain: '1s',
  };
  const deploy = async (from: string, batch: string) => {
    const t0 = process.hrtime.bigint();
    const r = await runAction('deploy-bluegreen', { with: { ...base, from, batch } });
    if (r.code !== 0) throw new Error(r.stderr.slice(-3000));
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  // Both releases on every server first: the timed deploys below switch without uploading, so they
  // measure the rollout itself (the upload is timed on its own).
  await deploy(dists[0], '100%');
  await deploy(dists[1], '100%');
  const batch1: number[] = [];
  const batch5: number[] = [];
  let next = 0;
  for (let i = 0; i < runs; i++) {
    batch1.push(await deploy(dists[next++ % 2], '1'));
    batch5.push(await deploy(dists[next++ % 2], '5'));
    console.log(
      `run ${i + 1}: batch 1 ${batch1.at(-1)!.toFixed(0)} ms, batch 5 ${batch5.at(-1)!.toFixed(0)} ms`,
    );
  }

  // One binary to one server: go-ship's upload (its own connection, the sha256 checked on the
  // server, the release record) against scp of the same file over a new connection.
  const [shipped] = shippedBinaries(dists[0], { wanted: (t) => t === 'linux/amd64' }).binaries;
  const binary = join(work, 'hello-svc.bin');
  writeFileSync(binary, shipped.binary);
  const size = shipped.binary.length;
  const sha256 = shipped.artifact.binaries[0].sha256;
  const host = parseHost(f.lines[0]);
  const upload: number[] = [];
  const scp: number[] = [];
  for (let i = 0; i < runs; i++) {
    const version = `9.9.${i}-${randomBytes(2).toString('hex')}`;
    const t0 = process.hrtime.bigint();
    const ssh = new SshFleet({ ssh: 'ssh', key: f.key, knownHosts: f.knownHosts, acceptNewHostKeys: false });
    await ssh.connect(host);
    const target = new HostTarget(ssh, host, {
      app,
      binaryName: 'hello-svc',
      dir: `/opt/${app}-upload`,
      ports: { blue: 8081, green: 8082 },
      env: {},
      args: [],
      builds: new Map([['linux/amd64', { sha256, data: shipped.binary }]]),
      keep: 100,
      drainMs: 0,
      switchBy: 'nginx',
      nginx: { upstreamFile, upstreamName: app, binary: 'nginx' },
      entry: { host: '127.0.0.1', port: 80, path: '' },
    });
    await quietly(() => target.prepare({ image: `release:${version}`, version }));
    await ssh.close([host]);
    upload.push(Number(process.hrtime.bigint() - t0) / 1e6);
    scp.push(await timeRun('scp', [...f.sshOptions, binary, `${f.lines[0]}:/tmp/scp-${version}`]));
  }
  cleanup();
  const perServer = (xs: number[]) => `${(median(xs) / SERVERS / 1000).toFixed(2)} s`;
  return {
    title: `deploy-bluegreen target: hosts, ${SERVERS} servers`,
    setup: `${SERVERS} servers from scripts/fleet-hosts.sh (Debian bookworm containers booting systemd, sshd and nginx, each in its own network; the last behind a bastion), all on this machine. Each deploy switches every server to the other of two releases already on it (gate: 3 health checks 200 ms apart, version check, 2 s verify through the server's nginx, 1 s drain), so no upload is in it. Per server: batch 1 ${perServer(batch1)}, batch 5 ${perServer(batch5)}. The upload is one ${(size / 1e6).toFixed(1)} MB linux/amd64 hello-svc binary from build-matrix to the first server: go-ship opens its connection, checks the platform (uname), sends the file over SSH, checks its sha256 on the server and writes the release record; scp sends the same file over a new connection and checks nothing.`,
    series: [
      { name: 'rolling deploy, batch 1', samples: batch1 },
      { name: 'rolling deploy, batch 5', samples: batch5 },
      { name: 'go-ship upload of one binary (connect, send, sha256 there)', samples: upload },
      { name: 'scp of the same binary', samples: scp },
    ],
    ratios: [
      ['batch 5 / batch 1', 'rolling deploy, batch 5', 'rolling deploy, batch 1'],
      [
        'go-ship upload / scp',
        'go-ship upload of one binary (connect, send, sha256 there)',
        'scp of the same binary',
      ],
    ],
  };
}
