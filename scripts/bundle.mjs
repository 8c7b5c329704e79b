// Bundles each action (src/actions/<name>/index.ts) and the CLI (src/cli/index.ts) with ncc into
// dist/<name>/index.js. CI rebuilds and fails when the committed dist/ differs.
// `node scripts/bundle.mjs [names...]`; `--stale` bundles only those whose sources.sha256 differs;
// `--check` bundles nothing and exits 1, naming them, when any is stale.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleEntries, bundleHash, staleBundles } from './sources-hash.mjs';

if (process.argv.includes('--check')) {
  const old = staleBundles();
  if (old.length) {
    console.error(
      `dist/ is older than the sources for ${old.join(', ')}: run \`node scripts/bundle.mjs --stale\` (npm test does).`,
    );
    process.exit(1);
  }
  process.exit(0);
}

const STUB = `import * as module from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
module.enableCompileCache?.(join(cache, 'go-ship', 'node-compile-cache'));
await import('./main.js');
`;

const entries = bundleEntries();
const stale = process.argv.includes('--stale');
const only = process.argv.slice(2).filter((a) => a !== '--stale');
const outdated = stale ? new Set(staleBundles()) : undefined;
const stamp = (name) => join('dist', name, 'sources.sha256');
const todo = entries.filter(
  ([name]) => (!only.length || only.includes(name)) && (!outdated || outdated.has(name)),
);
if (stale && todo.length)
  console.log(`dist/ is older than the sources; bundling ${todo.map(([n]) => n).join(', ')} first`);
for (const [name, entry] of todo) {
  const out = join('dist', name);
  // The sources' hash before ncc reads them: an edit made while it runs leaves the bundle stale, not stamped fresh.
  const hash = bundleHash(entry);
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
      '--stats-out',
      join(out, 'stats.json'),
      '--quiet',
      '--target',
      'es2022',
    ],
    { stdio: 'inherit' },
  );
  // index.js turns on Node's compile cache, then loads the bundle: a second start of the same
  // bundle on the machine skips compiling its ~0.6 MB (about 10 ms of each action's start, measured
  // in docs/benchmarks.md). The cache is the user's own folder, never a shared temp one: a planted
  // cache entry would be code. Node 20 has no compile cache and just loads the bundle.
  renameSync(join(out, 'index.js'), join(out, 'main.js'));
  writeFileSync(join(out, 'licenses.txt'), licenses(join(out, 'stats.json')));
  rmSync(join(out, 'stats.json'));
  writeFileSync(join(out, 'index.js'), STUB);
  writeFileSync(stamp(name), `${hash}\n`);
  const size = statSync(join(out, 'main.js')).size;
  console.log(`${name.padEnd(20)} ${(size / 1e6).toFixed(2)} MB  ${Date.now() - started} ms`);
}

/**
 * The licenses of every package with code in the bundle, from webpack's own module list. ncc's
 * `--license` lists only the packages of split-off chunks, so the code in main.js (@actions/core,
 * @actions/http-client, undici, ...) went unlisted.
 */
function licenses(statsFile) {
  // Every module's name, those concatenated into another included (`./node_modules/<pkg>/...`).
  const names = [];
  const walk = (modules) => {
    for (const m of modules ?? []) {
      names.push(m.name);
      walk(m.modules);
    }
  };
  walk(JSON.parse(readFileSync(statsFile, 'utf8')).modules);
  // A package's folder: the last node_modules/<name> (or @scope/<name>) on the path.
  const roots = new Set(
    names.map((n) => /^(?:\.\/)?(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(n)?.[1]).filter(Boolean),
  );
  const entries = [];
  for (const root of roots) {
    const pkgFile = join(root, 'package.json');
    if (!existsSync(pkgFile)) continue;
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
    const file = readdirSync(root).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    const text = file ? readFileSync(join(root, file), 'utf8').trim() : '';
    entries.push(`${pkg.name}\n${pkg.license ?? 'UNKNOWN'}\n${text}`);
  }
  return [...new Set(entries)].sort().join('\n\n') + '\n';
}
