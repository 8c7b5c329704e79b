import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { ROOT } from './helpers/cli.js';

/** docs/architecture.md's floors: a folder may import its own floor's neighbours only as listed, and floors below. */
const FLOOR: Record<string, number> = {
  runner: 1,
  archive: 2,
  github: 2,
  go: 3,
  cache: 3,
  crossbuild: 3,
  coverage: 3,
  release: 3,
  oci: 3,
  deploy: 3,
  actions: 4,
  pipeline: 4,
  host: 4,
  cli: 5,
};
/** Same-floor imports the document names (domain on domain). */
const ALLOWED_SIDEWAYS = new Set([
  'go->cache',
  'crossbuild->go',
  'release->go',
  'deploy->go',
  'oci->release',
  'oci->crossbuild',
  'pipeline->host',
  'actions->pipeline',
]);

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

function edges(): [string, string, string][] {
  const src = join(ROOT, 'src');
  const out: [string, string, string][] = [];
  for (const file of sources(src)) {
    const from = relative(src, file).split('/')[0];
    for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) {
      const to = relative(src, normalize(join(dirname(file), m[1]))).split('/')[0];
      if (to !== from) out.push([from, to, relative(ROOT, file)]);
    }
  }
  return out;
}

test('every src/ folder is on a floor of docs/architecture.md, and the document names each', () => {
  const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  expect(folders).toEqual(Object.keys(FLOOR).sort());
  const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  for (const f of folders) expect(doc).toContain(f === 'actions' ? 'src/actions/<action>/' : `src/${f}/`);
});

test('imports point down (or sideways only where the document says), so there are no cycles', () => {
  const wrong = edges()
    .filter(
      ([from, to]) =>
        FLOOR[to] > FLOOR[from] || (FLOOR[to] === FLOOR[from] && !ALLOWED_SIDEWAYS.has(`${from}->${to}`)),
    )
    .map(([from, to, file]) => `${file}: ${from} -> ${to}`);
  expect(wrong).toEqual([]);
});

// #29: one way to join a path that comes from data. A manifest's, a config's or an entry's `.path`
// (or `.project`) joined with path.join or path.resolve is how `../../outside` got out before.
test('paths from data are joined only through joinInside', () => {
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith(join('runner', 'paths.ts')))
        readFileSync(p, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            if (/\b(join|resolve)\([^)]*\b\w+\.(path|project)\b/.test(line) && !line.includes('joinInside('))
              offenders.push(`${relative(ROOT, p)}:${i + 1}: ${line.trim()}`);
          });
    }
  };
  walk(join(ROOT, 'src'));
  expect(offenders).toEqual([]);
});
