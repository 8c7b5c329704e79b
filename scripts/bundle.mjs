// Bundles each action (src/actions/<name>/index.ts) and the CLI (src/cli/index.ts) with ncc into
// dist/<name>/index.js. CI rebuilds and fails when the committed dist/ differs.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const entries = readdirSync('src/actions')
  .filter((name) => existsSync(join('src/actions', name, 'index.ts')))
  .map((name) => [name, join('src/actions', name, 'index.ts')]);
entries.push(['cli', 'src/cli/index.ts']);

const only = process.argv.slice(2);
for (const [name, entry] of entries) {
  if (only.length && !only.includes(name)) continue;
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
  const size = statSync(join(out, 'index.js')).size;
  console.log(`${name.padEnd(20)} ${(size / 1e6).toFixed(2)} MB  ${Date.now() - started} ms`);
}
