import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { updateReadme } from '../../src/host/action-docs.js';
import { STAGES } from '../../src/pipeline/stages.js';
import { readActionMetadata } from '../../src/runner/action-metadata.js';
import { assertBundlesFresh, NODE20, NODE24, ROOT } from '../helpers/cli.js';

// The bundles are run under both Nodes: a stale one would test old code.
beforeAll(() => assertBundlesFresh());

const actions = readdirSync(ROOT).filter((d) => existsSync(join(ROOT, d, 'action.yml')));

test('there are actions to check', () => {
  expect(actions.length).toBeGreaterThan(0);
});

describe.each(actions)('%s/action.yml', (action) => {
  const dir = join(ROOT, action);
  const meta = readActionMetadata(join(dir, 'action.yml'));

  test('runs on node24 with a main (and post) that exist in dist/', () => {
    expect(meta.runs.using).toBe('node24');
    expect(meta.runs.main).toBe(`../dist/${action}/index.js`);
    expect(existsSync(resolve(dir, meta.runs.main))).toBe(true);
    if (meta.runs.post) expect(existsSync(resolve(dir, meta.runs.post))).toBe(true);
  });

  test('every input and output has a description; booleans default to a string', () => {
    for (const [name, spec] of Object.entries(meta.inputs)) {
      expect([name, (spec.description ?? '').trim().length > 10]).toEqual([name, true]);
      if (spec.default === 'true' || spec.default === 'false') expect(typeof spec.default).toBe('string');
    }
    for (const [name, spec] of Object.entries(meta.outputs)) {
      expect([name, (spec.description ?? '').trim().length > 10]).toEqual([name, true]);
    }
  });

  test('its README documents exactly this interface (regenerate with `node bin/go-ship.js docs`)', () => {
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(updateReadme(readme, meta)).toBe(readme);
  });

  test('its bundle stays under 1.5 MB', () => {
    expect(statSync(resolve(dir, meta.runs.main)).size).toBeLessThan(1_500_000);
  });

  test.each([
    ['Node 20', NODE20],
    ['Node 24', NODE24],
  ])('the bundle loads and reports a bad input as a step failure under %s', (name, node) => {
    expect(spawnSync(node, ['-v'], { encoding: 'utf8' }).stdout).toMatch(
      name === 'Node 20' ? /^v20\./ : /^v24\./,
    );
    const first = Object.keys(meta.inputs)[0];
    const env = {
      PATH: process.env.PATH ?? '',
      RUNNER_TOOL_CACHE: '/tmp',
      [`INPUT_${first.toUpperCase()}`]: '~~not a valid value~~',
    };
    const r = spawnSync(node, [resolve(dir, meta.runs.main)], { env, encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout).toMatch(/^::error::/m);
    expect(r.stdout).not.toContain('go-ship bug');
    expect(r.status).toBe(1);
  });
});

test('the root action (uses: org/go-ship@v1) runs dist/pipeline and the top-level README documents its interface', () => {
  const meta = readActionMetadata(join(ROOT, 'action.yml'));
  expect(meta.runs).toMatchObject({ using: 'node24', main: 'dist/pipeline/index.js' });
  expect(existsSync(join(ROOT, meta.runs.main))).toBe(true);
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  expect(updateReadme(readme, meta)).toBe(readme);
  expect(readme).toContain('| `skip` | no |');
  // The stage list is said once (src/pipeline/stages.ts); `go-ship docs` writes it into action.yml.
  expect(meta.inputs.skip.description).toContain(`(stages are ${STAGES.join(', ')})`);
});
