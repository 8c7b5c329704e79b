// Bundles each action (src/actions/<name>/index.ts) and the CLI (src/cli/index.ts) with ncc into
// dist/<name>/index.js. CI rebuilds and fails when the committed dist/ differs.
// `node scripts/bundle.mjs [names...]`; `--stale` bundles only those whose sources.sha256 differs.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sourcesHash } from './sources-hash.mjs';

const entries = readdirSync('src/actions')
  .filter((name) => existsSync(join('src/actions', name, 'index.ts')))
  .map((name) => [name, join('src/actions', name, 'index.ts')]);
entries.push(['cli', 'src/cli/index.ts']);

const stale = process.argv.includes('--stale');
const only = process.argv.slice(2).filter((a) => a !== '--stale');
const hash = sourcesHash();
const stamp = (name) => join('dist', name, 'sources.sha256');
const current = (name) => existsSync(stamp(name)) && readFileSync(stamp(name), 'utf8').trim() === hash;
const todo = entries.filter(([name]) => (!only.length || only.includes(name)) && !(stale && current(name)));
if (stale && todo.length)
  console.log(`dist/ is older than the sources; bundling ${todo.map(([n]) => n).join(', ')} first`);
for (const [name, entry] of todo) {
  const out = join('dist', name);
  rmSync(out, { recursive: true, force: true });
  const started = Date.now();
  execFileSync(
    process.execPath,
    [
      'node_modules/@vercel/ncc/dist/ncc/cli.js',
      'build',
      entry,
      '-o',
      out,
      '--minify',
      '--license',
      'licenses.txt',
      '--quiet',
      '--target',
      'es2022',
    ],
    { stdio: 'inherit' },
  );
  writeFileSync(stamp(name), `${hash}\n`);
  const size = statSync(join(out, 'index.js')).size;
  console.log(`${name.padEnd(20)} ${(size / 1e6).toFixed(2)} MB  ${Date.now() - started} ms`);
}
