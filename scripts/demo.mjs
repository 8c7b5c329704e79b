// `npm run demo`: the go-ship actions that exist so far, run through the go-ship CLI on a scratch
// clone of examples/hello-svc (with its own bare remote for tags), then a table of what they produced.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
];
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(`  ${r.map((c, i) => c.padEnd(widths[i])).join('  ')}`);
console.log(`  scratch repository: ${svc}`);
