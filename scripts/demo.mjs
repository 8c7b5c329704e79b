// `npm run demo`: the go-ship actions run through the go-ship CLI on a scratch clone of
// examples/hello-svc (with its own bare remote for tags): setup, test, coverage gate, tag, build,
// image, and a blue-green deploy behind nginx when this machine has a Docker engine, a registry and
// nginx (scripts/start-components.sh starts the first two); then a table of what they produced.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'go-ship-demo-'));
const svc = join(work, 'hello-svc');
const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const env = { ...process.env, GOFLAGS: '-buildvcs=false', GOTOOLCHAIN: 'local' };

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
  console.log(
    bold(
      `\n$ go-ship ${action} ${Object.entries(inputs)
        .map(([k, v]) => `--with ${k}=${v}`)
        .join(' ')}`,
    ),
  );
  execFileSync(process.execPath, args, { stdio: 'inherit', env });
  return JSON.parse(readFileSync(resultFile, 'utf8'));
}

// 1. setup-go-cross: the Go that go.mod asks for, verified, plus the targets it can build.
const targets = 'linux/amd64,linux/arm64,darwin/arm64,windows/amd64';
const setup = goShip('setup-go-cross', { 'go-version-file': 'go.mod', targets });
env.PATH = `${join(setup.outputs['go-root'], 'bin')}${delimiter}${env.PATH}`;

// 2. Tests with coverage, then coverage-gate on the profile.
console.log(bold('\n$ go test -coverprofile=coverage.out ./...'));
execFileSync('go', ['test', '-coverprofile=coverage.out', './...'], { cwd: svc, stdio: 'inherit', env });
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
const registry = process.env.GO_SHIP_TEST_REGISTRY ?? '127.0.0.1:5055';
const ok = (file, args) => spawnSync(file, args, { stdio: 'ignore', timeout: 10_000 }).status === 0;
// Installed but not running (after a reboot): start the registry and the Docker engine.
if (
  !ok('curl', ['-fsS', `http://${registry}/v2/`]) &&
  (ok('sh', ['-c', 'command -v docker-registry']) || ok('sh', ['-c', 'command -v dockerd']))
) {
  console.log(bold('\n$ scripts/start-components.sh'));
  spawnSync(join(root, 'scripts', 'start-components.sh'), [], { stdio: 'inherit' });
}
const hasRegistry = ok('curl', ['-fsS', `http://${registry}/v2/`]);
const repo = `${registry}/go-ship-demo/hello-svc`;
const image = goShip('docker-multistage', {
  image: repo,
  version: tag.outputs.version,
  ...(hasRegistry ? {} : { push: 'false' }),
});

// 6. deploy-bluegreen: the image next to nothing (first deploy), then again as a new version would
// be, behind an nginx of the demo's own on loopback. Needs Docker, nginx and the registry.
const docker = ['/usr/bin/docker', 'docker'].find((d) => ok(d, ['version']));
const hasNginx = ok('nginx', ['-v']);
let deploy;
let deployNote = '';
if (hasRegistry && docker && hasNginx) {
  const freePort = () =>
    new Promise((res) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address();
        srv.close(() => res(port));
      });
    });
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
  env.PATH = `${join(docker, '..')}${delimiter}${env.PATH}`;
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
    deployNote = `${deploy.outputs.url} answers ${answer}`;
  } finally {
    // The demo leaves nothing running: nginx and both colours go away.
    spawnSync('nginx', ['-c', join(ng, 'nginx.conf'), '-s', 'quit']);
    for (const c of ['blue', 'green', 'deploy-lock']) spawnSync(docker, ['rm', '-f', `hello-demo-${c}`]);
  }
} else {
  deployNote = `skipped: needs ${[
    !docker && 'a Docker engine',
    !hasNginx && 'nginx',
    !hasRegistry && `a registry at ${registry}`,
  ]
    .filter(Boolean)
    .join(', ')} (scripts/start-components.sh starts the engine and the registry)`;
}

console.log(bold('\nWhat the demo produced'));
const rows = [
  ['stage', 'result'],
  ['setup-go-cross', `Go ${setup.outputs['go-version']} (${setup.outputs['go-source']}), targets ${targets}`],
  [
    'coverage-gate',
    `${coverage.outputs['total-func']}% (go tool cover -func), gate passed: ${coverage.outputs.passed}`,
  ],
  ['semver-tag', `${tag.outputs.tag} (${tag.outputs.bump}), created: ${tag.outputs.created}`],
  ...JSON.parse(build.outputs.artifacts).map((a) => [
    `build-matrix ${a.target}`,
    `${a.path.split('/').pop()} ${(a.size / 1e6).toFixed(2)} MB sha256 ${a.sha256.slice(0, 12)}…`,
  ]),
  ['checksums', build.outputs['checksums-file']],
  [
    'docker-multistage',
    hasRegistry
      ? `${image.outputs.image} (${image.outputs.tags.split('\n').length} tags)`
      : `OCI layout ${image.outputs['oci-layout']} (no registry at ${registry})`,
  ],
  [
    'deploy-bluegreen',
    deploy ? `${deploy.outputs['live-color']} live (${deploy.outputs.outcome}); ${deployNote}` : deployNote,
  ],
];
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(`  ${r.map((c, i) => c.padEnd(widths[i])).join('  ')}`);
console.log(`  scratch repository: ${svc}`);
