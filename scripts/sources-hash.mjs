// What a bundle is made from: the files its entry reaches through relative imports (every kind the
// TypeScript compiler sees: static, type-only, side-effect, re-export, dynamic), the lockfile,
// tsconfig.json and the bundler scripts. bundle.mjs writes this hash beside each bundle
// (dist/<name>/sources.sha256), so a change to one file restamps only the bundles that include it;
// `npm test` re-bundles what is stale, and every test that runs a bundle refuses a stale one.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** Every bundle: [name, entry], the actions under src/actions and the CLI. */
export function bundleEntries(root = '.') {
  const entries = readdirSync(join(root, 'src/actions'))
    .filter((name) => existsSync(join(root, 'src/actions', name, 'index.ts')))
    .sort()
    .map((name) => [name, join('src/actions', name, 'index.ts')]);
  entries.push(['cli', 'src/cli/index.ts']);
  return entries;
}

/** The source files `entry` reaches, sorted, relative to `root`. */
export function moduleGraph(entry, root = '.') {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!file.endsWith('.ts')) return;
    for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = resolve(dirname(file), fileName).replace(/\.js$/, '.ts');
      if (existsSync(target)) visit(target);
    }
  };
  visit(resolve(root, entry));
  return [...seen].map((f) => relative(root, f)).sort();
}

export function bundleHash(entry, root = '.') {
  const h = createHash('sha256');
  const inputs = [
    ...moduleGraph(entry, root),
    'package-lock.json',
    'tsconfig.json',
    join('scripts', 'bundle.mjs'),
    join('scripts', 'sources-hash.mjs'),
    join('scripts', 'lazy-undici.cjs'),
    join('scripts', 'lazy', 'http-client.ts'),
    join('scripts', 'lazy', 'package.json'),
  ];
  for (const f of inputs) {
    h.update(`${f}\0`);
    h.update(readFileSync(join(root, f)));
    h.update('\0');
  }
  return h.digest('hex');
}

/** The bundles whose stamp is not their sources' hash. */
export function staleBundles(root = '.') {
  return bundleEntries(root)
    .filter(([name, entry]) => {
      const stamp = join(root, 'dist', name, 'sources.sha256');
      return !existsSync(stamp) || readFileSync(stamp, 'utf8').trim() !== bundleHash(entry, root);
    })
    .map(([name]) => name);
}
