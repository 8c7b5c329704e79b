import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultsModule } from '../../src/host/action-docs.js';
import { readActionMetadata } from '../../src/runner/action-metadata.js';
import { Inputs } from '../../src/runner/inputs.js';
import { ROOT } from '../helpers/cli.js';

// #30: action.yml is the one place an input's default lives. Parsers read it through the generated
// defaults.ts; a `?? literal` after an input read repeated it (33 times) and could drift from it.
const actions = readdirSync(join(ROOT, 'src', 'actions')).map((dir) => ({
  dir,
  yml: dir === 'pipeline' ? 'action.yml' : `${dir}/action.yml`,
}));

test.each(actions)('src/actions/$dir/defaults.ts is $yml as written by `go-ship docs`', ({ dir, yml }) => {
  expect(readFileSync(join(ROOT, 'src', 'actions', dir, 'defaults.ts'), 'utf8')).toBe(
    defaultsModule(readActionMetadata(join(ROOT, yml)), yml),
  );
});

type Fallback = { where: string; name: string; fallback: string };

/** `inputs.x('name' …) ?? fallback` in a source text, with where it is. */
function fallbacksIn(text: string, file: string): Fallback[] {
  return text.split('\n').flatMap((line, i) =>
    [...line.matchAll(/inputs\.\w+\(\s*'([a-z-]+)'[^)]*\)!?\s*\?\?\s*([^,;)]+)/g)].map((m) => ({
      where: `${file}:${i + 1}`,
      name: m[1],
      fallback: m[2].trim(),
    })),
  );
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

test('no parser repeats a default that action.yml declares', () => {
  const declared = new Set<string>();
  for (const { yml } of actions)
    for (const [name, spec] of Object.entries(readActionMetadata(join(ROOT, yml)).inputs))
      if (spec.default && !spec.default.includes('${{')) declared.add(name);
  const repeats = (found: Fallback[]) =>
    found.filter((f) => declared.has(f.name)).map((f) => `${f.where}: ${f.name} ?? ${f.fallback}`);
  // The check can fail: a repeat as the code had it is found.
  expect(repeats(fallbacksIn("    mode: inputs.oneOf('mode', MODES) ?? 'build',", 'planted.ts'))).toEqual([
    "planted.ts:1: mode ?? 'build'",
  ]);
  const found = sources(join(ROOT, 'src')).flatMap((f) =>
    fallbacksIn(readFileSync(f, 'utf8'), f.slice(ROOT.length + 1)),
  );
  expect(repeats(found)).toEqual([]);
  // What remains is for inputs without a literal default (`github-token`'s is an expression).
  expect(found.map((f) => f.name)).toContain('github-token');
});

test('an input left empty reads as its default; isSet tells a chosen value from the default', () => {
  const inputs = new Inputs(
    { INPUT_TARGET: 'docker', INPUT_REMOTE: '' },
    { target: 'docker', remote: 'origin' },
  );
  expect(inputs.string('remote')).toBe('origin');
  expect(inputs.isSet('remote')).toBe(false);
  expect(inputs.isSet('target')).toBe(false);
  expect(new Inputs({ INPUT_TARGET: 'kubernetes' }, { target: 'docker' }).isSet('target')).toBe(true);
});
