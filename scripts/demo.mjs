// `npm run demo`: the go-ship actions that exist so far, run through the go-ship CLI on
// examples/hello-svc, then a table of what they produced.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const svc = join(root, 'examples', 'hello-svc');
const work = mkdtempSync(join(tmpdir(), 'go-ship-demo-'));
const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

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
  execFileSync(process.execPath, args, { stdio: 'inherit' });
  return JSON.parse(readFileSync(resultFile, 'utf8'));
}

// 1. setup-go-cross: the Go that go.mod asks for, verified, plus the targets it can build.
const setup = goShip('setup-go-cross', {
  'go-version-file': 'go.mod',
  targets: 'linux/amd64,linux/arm64,linux/arm/7,darwin/arm64,windows/amd64',
});
const go = join(setup.outputs['go-root'], 'bin', 'go');
const targets = JSON.parse(setup.outputs.targets);

// 2. Cross-compile hello-svc with that Go for every target (build-matrix will own this step).
console.log(bold(`\nCross-compiling hello-svc with ${go}`));
const rows = [];
for (const t of targets) {
  const out = join(work, 'bin', t.id, t.goos === 'windows' ? 'hello-svc.exe' : 'hello-svc');
  const started = Date.now();
  execFileSync(go, ['build', '-trimpath', '-ldflags', '-s -w -X main.version=demo', '-o', out, '.'], {
    cwd: svc,
    env: { ...process.env, ...t.env, CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false', GOTOOLCHAIN: 'local' },
  });
  const info = execFileSync(go, ['version', '-m', out], { encoding: 'utf8' });
  const built = /\bbuild\s+GOOS=(\S+)/.exec(info)?.[1] + '/' + /\bbuild\s+GOARCH=(\S+)/.exec(info)?.[1];
  rows.push([
    t.name,
    `${(statSync(out).size / 1e6).toFixed(2)} MB`,
    built,
    `${((Date.now() - started) / 1000).toFixed(1)}s`,
  ]);
  console.log(`[${rows.length}/${targets.length}] ${t.name} built in ${rows.at(-1)[3]}`);
}

console.log(bold('\nWhat the demo produced'));
console.log(
  `  Go ${setup.outputs['go-version']} from ${setup.outputs['go-source']} at ${setup.outputs['go-root']}`,
);
const table = [['target', 'size', 'go version -m says', 'time'], ...rows];
const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
for (const r of table) console.log(`  ${r.map((c, i) => c.padEnd(widths[i])).join('  ')}`);
console.log(`  binaries in ${join(work, 'bin')}`);
