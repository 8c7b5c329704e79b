import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT, tempDir } from './helpers/cli.js';
import { layoutFromDoc, layoutViolations } from './helpers/layout.js';

/** The rules as docs/architecture.md states them: floors, same-floor imports, packages per folder. */
const DOC = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
const LAYOUT = layoutFromDoc(DOC);

test('every src/ folder is on a floor of docs/architecture.md, and the document names each', () => {
  const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  expect(folders).toEqual(Object.keys(LAYOUT.floors).sort());
  expect(LAYOUT.sideways.size).toBeGreaterThan(0);
  expect(Object.keys(LAYOUT.packages).length).toBeGreaterThan(0);
});

test('every import of every file follows docs/architecture.md, and no files import each other round a cycle', () => {
  expect(layoutViolations(join(ROOT, 'src'), LAYOUT)).toEqual([]);
});

// #30: the check read imports with one regex at folder level, and of five violations planted in a
// copy of src/ it caught one. Each kind below must fail it now.
test('the layout check catches each kind of violation planted in a copy of src/', () => {
  const copy = join(tempDir('layout'), 'src');
  cpSync(join(ROOT, 'src'), copy, { recursive: true });
  const plant = (file: string, line: string) =>
    writeFileSync(join(copy, file), `${readFileSync(join(copy, file), 'utf8')}\n${line}\n`);
  plant('runner/log.ts', "export const later = () => import('../cli/main.js');");
  plant('go/version.ts', "import '../actions/setup-go-cross/inputs.js';");
  plant('actions/semver-tag/main.ts', "export { run as other } from '../coverage-gate/main.js';");
  plant('runner/paths.ts', "import type { Inputs } from './inputs.js';");
  plant('deploy/checks.ts', "export * from '../actions/deploy-bluegreen/inputs.js';");
  plant('coverage/report.ts', "import 'tunnel';");
  plant('go/targets.ts', "import type { Manifest } from '../crossbuild/manifest.js';");
  plant('deploy/engine.ts', "import type { DockerTarget } from './targets/docker/target.js';");
  plant('deploy/targets/docker/index.ts', "import { kubeconfigPath } from '../kubernetes/api.js';");
  const found = layoutViolations(copy, LAYOUT);
  const expected = [
    /^runner\/log\.ts: runner \(floor 1\) imports cli \(floor 5\) above it/,
    /^go\/version\.ts: go \(floor 3\) imports actions \(floor 4\) above it/,
    /^actions\/semver-tag\/main\.ts: one action imports another/,
    /^a cycle: runner\/inputs\.ts <-> runner\/paths\.ts$/,
    /^deploy\/checks\.ts: deploy \(floor 3\) imports actions \(floor 4\) above it/,
    /^coverage\/report\.ts: imports package tunnel, not listed for coverage/,
    /^go\/targets\.ts: go -> crossbuild on one floor is not in the table/,
    /^deploy\/engine\.ts: the deploy engine's side imports a target/,
    /^deploy\/targets\/docker\/index\.ts: one deploy target imports another/,
  ];
  for (const e of expected) expect(found.filter((v) => e.test(v))).toHaveLength(1);
  // An import up a floor also closes a cycle through the files below it; nothing else is reported.
  expect(found.filter((v) => !expected.some((e) => e.test(v)) && !v.startsWith('a cycle: '))).toEqual([]);
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
