import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { NODE24, ROOT } from './helpers/cli.js';
import { spawnSync } from 'node:child_process';

// Bundles take `undici` from scripts/lazy-undici.cjs (tsconfig.json's `paths`), which loads the real
// one on first use. A name a bundled package imports that the shim does not define would be
// `undefined` in a bundle at run time, so every import of undici in the installed packages is read.

const require = createRequire(import.meta.url);
const SHIM = join(ROOT, 'scripts', 'lazy-undici.cjs');

/** Every installed package (path in node_modules) whose package.json depends on undici at run time. */
function undiciDependents(): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dependencies?: Record<string, string>; dev?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([path, p]) => path && !p.dev && p.dependencies?.undici)
    .map(([path]) => path);
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules') return [];
    if (statSync(path).isDirectory()) return jsFiles(path);
    return /\.(c|m)?js$/.test(name) ? [path] : [];
  });
}

/**
 * The names `file` imports from undici: `import { a, b as c } from 'undici'`, `require('undici').x`,
 * `const u = require('undici')` and `u.x`; `*` for a whole-module import whose names cannot be listed.
 */
function namesImported(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const names: string[] = [];
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*['"]undici['"]/g))
    names.push(
      ...m[1]
        .split(',')
        .map((part) => part.trim().split(/\s+as\s+/)[0])
        .filter(Boolean),
    );
  for (const m of text.matchAll(/(?:(\w+)\s*=\s*)?require\(\s*['"]undici['"]\s*\)(\.(\w+))?/g)) {
    if (m[3]) names.push(m[3]);
    else if (m[1])
      // `const undici_1 = require("undici")`: the names read off it
      for (const use of text.matchAll(new RegExp(`\\b${m[1]}\\.(\\w+)`, 'g'))) names.push(use[1]);
    else names.push('*');
  }
  if (/import\s+(\*\s+as\s+)?\w+\s*from\s*['"]undici['"]/.test(text)) names.push('*');
  return names;
}

test('the shim defines every name the installed packages import from undici', () => {
  const dependents = undiciDependents();
  // @actions/http-client (ProxyAgent) and @actions/github (fetch) today; the test must see them.
  expect(dependents.some((p) => p.endsWith('@actions/http-client'))).toBe(true);
  const shim = require(SHIM) as Record<string, unknown>;
  const imported = new Map<string, string>();
  for (const pkg of dependents)
    for (const file of jsFiles(join(ROOT, pkg)))
      for (const name of namesImported(file)) imported.set(name, file);
  expect(imported.size).toBeGreaterThan(0);
  const missing = [...imported].filter(([name]) => !(name in shim)).map(([n, f]) => `${n} (${f})`);
  expect(missing).toEqual([]);
});

test('the shim loads undici only when a name is read, and gives the real one', () => {
  const real = require.resolve('undici/index.js', { paths: [join(ROOT, 'scripts')] });
  delete require.cache[SHIM];
  delete require.cache[real];
  const shim = require(SHIM) as { ProxyAgent: unknown; fetch: unknown };
  expect(require.cache[real]).toBeUndefined();
  const { ProxyAgent, fetch } = require(real) as { ProxyAgent: unknown; fetch: unknown };
  expect(shim.ProxyAgent).toBe(ProxyAgent);
  expect(shim.fetch).toBe(fetch);
});

test('every bundle takes undici from the shim', () => {
  for (const name of readdirSync(join(ROOT, 'dist'))) {
    const bundle = join(ROOT, 'dist', name, 'main.js');
    const text = readFileSync(bundle, 'utf8');
    // ncc keeps the shim's loop over its names; a bundle that evaluates undici at start has no such line.
    expect([name, text.includes('["ProxyAgent","fetch"]')]).toEqual([name, true]);
  }
});

// @actions/http-client the same way (scripts/lazy/http-client.ts): @actions/core imports it, and
// with it Node's https, at every action's start.
test('the http-client shim names exactly the package exports', async () => {
  const text = readFileSync(join(ROOT, 'scripts', 'lazy', 'http-client.ts'), 'utf8');
  const names = [.../export const NAMES = \[([^\]]*)\]/.exec(text)![1].matchAll(/'(\w+)'/g)].map((m) => m[1]);
  const real = Object.keys(await import('@actions/http-client'));
  expect(names.sort()).toEqual(real.sort());
});

// @actions/exec too (scripts/lazy/exec.ts): @actions/core imports it for platform details, and with
// it Node's child_process and @actions/io.
test('the exec shim names exactly the package exports', async () => {
  const text = readFileSync(join(ROOT, 'scripts', 'lazy', 'exec.ts'), 'utf8');
  const names = [.../export const NAMES = \[([^\]]*)\]/.exec(text)![1].matchAll(/'(\w+)'/g)].map((m) => m[1]);
  const real = Object.keys(await import('@actions/exec'));
  expect(names.sort()).toEqual(real.sort());
});

test('a bundle that makes no request does not load https, and every bundle takes http-client from the shim', () => {
  for (const name of readdirSync(join(ROOT, 'dist'))) {
    const text = readFileSync(join(ROOT, 'dist', name, 'main.js'), 'utf8');
    expect([
      name,
      text.includes(
        '["Headers","HttpClient","HttpClientError","HttpClientResponse","HttpCodes","MediaTypes","getProxyUrl","isHttps"]',
      ),
      text.includes('["exec","getExecOutput"]'),
    ]).toEqual([name, true, true]);
  }
  // An input error stops the action before any request: Node's https must not have been loaded.
  // Nor child_process: it is loaded by the first command, not at start.
  const probe = `process.on('exit', () => process.stderr.write(['https', 'child_process'].map((m) => m + ' loaded: ' + process.moduleLoadList.includes('NativeModule ' + m)).join(', ') + '\\n'))`;
  const r = spawnSync(
    NODE24,
    [
      '--import',
      `data:text/javascript,${encodeURIComponent(probe)}`,
      join(ROOT, 'dist', 'quality-gate', 'index.js'),
    ],
    {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, INPUT_CHECKS: 'banana', GITHUB_OUTPUT: '', GITHUB_STEP_SUMMARY: '' },
    },
  );
  expect(r.stdout).toContain('Input `checks` got `banana`');
  expect(r.stderr).toContain('https loaded: false, child_process loaded: false');
});
