// What a bundle is made from: every file under src/, the lockfile, tsconfig.json and the bundler
// script. bundle.mjs writes this hash beside each bundle (dist/<name>/sources.sha256); `npm test`
// re-bundles when it differs, so the tests never run a dist/ older than the sources.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else yield p;
  }
}

export function sourcesHash(root = '.') {
  const h = createHash('sha256');
  const inputs = [
    ...files(join(root, 'src')),
    join(root, 'package-lock.json'),
    join(root, 'tsconfig.json'),
    join(root, 'scripts', 'bundle.mjs'),
  ];
  for (const f of inputs) {
    h.update(`${relative(root, f)}\0`);
    h.update(readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex');
}
