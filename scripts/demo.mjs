// `npm run demo`: the go-ship actions run through the go-ship CLI on a scratch clone of
// examples/hello-svc (with its own bare remote for tags): setup, test, coverage gate, tag, build,
// image, and a blue-green deploy behind nginx when this machine has a Docker engine, a registry and
// nginx (scripts/components.sh installs and starts them); then a table of what they produced.
// It leaves nothing behind: the scratch directory, the demo's own registry and what Docker pulled
// are removed at the end (GO_SHIP_DEMO_KEEP=1 keeps the scratch directory and says where).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { delimiter, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'go-ship-demo-'));
const svc = join(work, 'hello-svc');
const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const env = { ...process.env, GOFLAGS: '-buildvcs=false', GOTOOLCHAIN: 'local' };
const cleanups = [];
process.on('exit', () => {
  for (const fn of cleanups.reverse()) {
    try {
      fn();
    } catch {
      // best effort: the rest still runs
    }
  }
  if (process.env.GO_SHIP_DEMO_KEEP === '1') console.log(`  kept the scratch repository: ${svc}`);
  else rmSync(work, { recursive: true, force: true });
});

// A repository like a team's: one commit on main, pushed to a (local, bare) origin.
const git = (cwd, ...args) =>
  execFileSync('git', ['-c', 'user.name=demo', '-c', 'user.email=demo@example.com', ...args], {
    cwd,
    stdio: 'pipe',
  });
git(work, 'init', '-q', '--bare', '-b', 'main', 'origin.git');
cpSync(join(root, 'examples', 'hello-svc'), svc, { recursive: true });
git(svc, 'init', '-q', '-b', 'main');
git(svc, 'remote', 'add', 'origin', join(work, 'origin.git'));
writeFileSync(join(svc, '.gitignore'), '/dist/\n*.out\n');
git(svc, 'add', '.');
git(svc, 'commit', '-q', '-m', 'feat: hello-svc serves /version and /healthz');
git(svc, 'push', '-q', 'origin', 'main');

function goShip(action, inputs) {
  const resultFile = join(work, `${action}.json`);
  const args = [join(root, 'bin', 'go-ship.js'), action, '--workspace', svc, '--result', resultFile];
  for (const [k, v] of Object.entries(inputs)) args.push('--with', `${k}=${v}`);
  const withs = Object.entries(inputs).map(([k, v]) => `--with ${k}=${v}`);
  const oneLine = [`$ go-ship ${action}`, ...withs].join(' ');
  // A long command is shown one input per line, as a shell would take it.
  console.log(
    bold(`\n${oneLine.length <= 100 ? oneLine : [`$ go-ship ${action}`, ...withs].join(' \\\n    ')}`),
  );
  execFileSync(process.execPath, args, { stdio: 'inherit', env });
  return JSON.parse(readFileSync(resultFile, 'utf8'));
}

// 1. setup-go-cross: the Go that go.mod asks for, verified, plus the targets it can build.
const targets = 'linux/amd64,linux/arm64,darwin/arm64,windows/amd64';
const setup = goShip('setup-go-cross', { 'go-version-file': 'go.mod', targets });
env.PATH = `${join(setup.outputs['go-root'], 'bin')}${delimiter}${env.PATH}`;

// 2. quality-gate: gofmt, go vet and golangci-lint (built once into the tool cache), then
// go test -json with the race detector and a coverage profile; coverage-gate reads that profile.
const quality = goShip('quality-gate', { coverprofile: 'coverage.out' });
const coverage = goShip('coverage-gate', {
  'threshold-total': '50',
  'report-file': join(work, 'coverage.json'),
});

// 3. semver-tag: the first release of the module, pushed to origin.
const tag = goShip('semver-tag', {});

// 4. build-matrix: reproducible archives and checksums stamped with that version.
const build = goShip('build-matrix', { targets, version: tag.outputs.version });

// 5. docker-multistage: build-matrix's linux binaries as a two-platform image, pushed to the loopback
// registry when one answers, else written as an OCI layout.
const ok = (file, args) => spawnSync(file, args, { stdio: 'ignore', timeout: 10_000 }).status === 0;
const has = (program) => ok('sh', ['-c', `command -v ${program}`]);
const freePort = () =>
  new Promise((res) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
// Installed but not running (after a reboot): start the Docker engine (and the shared registry).
const docker = ['/usr/bin/docker', 'docker'].find((d) => ok(d, ['version']));
if (!docker && (has('dockerd') || existsSync('/usr/sbin/dockerd'))) {
  console.log(bold('\n$ bash scripts/components.sh start'));
  spawnSync('bash', [join(root, 'scripts', 'components.sh'), 'start'], { stdio: 'inherit' });
}
// A registry of the demo's own, its data in the scratch directory, so nothing outlives the run.
// Docker pulls from 127.0.0.0/8 over plain HTTP without configuration.
let registry = '';
if (has('docker-registry')) {
  const port = await freePort();
  registry = `127.0.0.1:${port}`;
  const conf = join(work, 'registry.yml');
  writeFileSync(
    conf,
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(work, 'registry')}\nhttp:\n  addr: ${registry}\n`,
  );
  const child = spawn('docker-registry', ['serve', conf], { stdio: 'ignore' });
  child.unref(); // the demo exits when its work is done; the exit handler stops the registry
  cleanups.push(() => child.kill());
  for (let i = 0; i < 50 && !ok('curl', ['-fsS', `http://${registry}/v2/`]); i++) await sleep(200);
}
const hasRegistry = Boolean(registry) && ok('curl', ['-fsS', `http://${registry}/v2/`]);
const repo = `${registry}/go-ship-demo/hello-svc`;
const image = goShip('docker-multistage', {
  image: repo,
  version: tag.outputs.version,
  ...(hasRegistry ? {} : { push: 'false' }),
});

// 6. deploy-bluegreen: the image next to nothing (first deploy), then again as a new version would
// be, behind an nginx of the demo's own on loopback. Needs Docker, nginx and the registry.
const dockerNow = ['/usr/bin/docker', 'docker'].find((d) => ok(d, ['version']));
const hasNginx = ok('nginx', ['-v']);
let deploy;
let deployNote = '';
if (hasRegistry && dockerNow && hasNginx) {
  const [pub, blue, green] = [await freePort(), await freePort(), await freePort()];
  const ng = join(work, 'nginx');
  mkdirSync(join(ng, 'tmp'), { recursive: true });
  writeFileSync(
    join(ng, 'nginx.conf'),
    `pid ${ng}/nginx.pid;\nerror_log ${ng}/error.log;\nevents {}\nhttp {\n  access_log off;\n  keepalive_timeout 0;\n` +
      `  client_body_temp_path ${ng}/tmp/body;\n  proxy_temp_path ${ng}/tmp/proxy;\n  fastcgi_temp_path ${ng}/tmp/fastcgi;\n` +
      `  uwsgi_temp_path ${ng}/tmp/uwsgi;\n  scgi_temp_path ${ng}/tmp/scgi;\n  include ${ng}/upstream.conf;\n` +
      `  server {\n    listen 127.0.0.1:${pub};\n    location / { proxy_pass http://hello-demo; }\n  }\n}\n`,
  );
  env.PATH = `${join(dockerNow, '..')}${delimiter}${env.PATH}`;
  try {
    deploy = goShip('deploy-bluegreen', {
      app: 'hello-demo',
      // By digest: a tag can point elsewhere than the image this run pushed.
      image: image.outputs.image,
      version: tag.outputs.version,
      url: `http://127.0.0.1:${pub}`,
      network: 'host',
      env: 'ADDR=127.0.0.1:${PORT}',
      'blue-port': String(blue),
      'green-port': String(green),
      'nginx-upstream-file': join(ng, 'upstream.conf'),
      'nginx-conf': join(ng, 'nginx.conf'),
      'verify-seconds': '3',
      drain: '2s',
    });
    const answer = execFileSync('curl', ['-fsS', `http://127.0.0.1:${pub}/version`], {
      encoding: 'utf8',
    }).trim();
    const v = JSON.parse(answer);
    deployNote = `${deploy.outputs.url}/version answers ${v.version} (commit ${v.commit.slice(0, 7)})`;
  } finally {
    // The demo leaves nothing running: nginx and both colours go away.
    spawnSync('nginx', ['-c', join(ng, 'nginx.conf'), '-s', 'quit']);
    for (const c of ['blue', 'green', 'deploy-lock']) spawnSync(dockerNow, ['rm', '-f', `hello-demo-${c}`]);
    // ...and the image Docker pulled from the demo's registry.
    const pulled = spawnSync(dockerNow, ['images', '-q', '--no-trunc', repo], { encoding: 'utf8' });
    const ids = [...new Set((pulled.stdout ?? '').split('\n').filter(Boolean))];
    if (ids.length) spawnSync(dockerNow, ['rmi', '-f', ...ids], { stdio: 'ignore' });
  }
} else {
  deployNote = `skipped: needs ${[
    !dockerNow && 'a Docker engine',
    !hasNginx && 'nginx',
    !hasRegistry && 'docker-registry',
  ]
    .filter(Boolean)
    .join(', ')} (bash scripts/components.sh install)`;
}

console.log(bold('\nWhat the demo produced'));
const short = (digestRef) => digestRef.replace(/@sha256:([0-9a-f]{12})[0-9a-f]+$/, '@sha256:$1…');
const rows = [
  ['stage', 'result'],
  ['setup-go-cross', `Go ${setup.outputs['go-version']} (${setup.outputs['go-source']})`],
  [
    'quality-gate',
    `lint: ${quality.outputs['lint-failing']} failing; ${quality.outputs.tests} tests, ${quality.outputs.failed} failed${quality.outputs.race === 'true' ? ', -race' : ''}`,
  ],
  [
    'coverage-gate',
    `${coverage.outputs['total-func']}% (go tool cover -func), gate passed: ${coverage.outputs.passed}`,
  ],
  ['semver-tag', `${tag.outputs.tag} (${tag.outputs.bump}), created: ${tag.outputs.created}`],
  ...JSON.parse(build.outputs.artifacts).map((a) => [
    `build-matrix`,
    `${a.path.split('/').pop()} ${(a.size / 1e6).toFixed(2)} MB sha256 ${a.sha256.slice(0, 12)}…`,
  ]),
  ['checksums', build.outputs['checksums-file'].split('/').pop()],
  [
    'docker-multistage',
    hasRegistry
      ? `${short(image.outputs.image).replace(`${registry}/`, '')} (${image.outputs.tags.split('\n').length} tags)`
      : `OCI layout (no docker-registry installed)`,
  ],
  [
    'deploy-bluegreen',
    deploy ? `${deploy.outputs['live-color']} live (${deploy.outputs.outcome})` : deployNote,
  ],
  ...(deploy ? [['', deployNote]] : []),
];
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(`  ${r.map((c, i) => c.padEnd(widths[i])).join('  ')}`.trimEnd());
