import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  actionsIn,
  projectInputs,
  projectSchema,
  readProjectConfig,
} from '../../src/runner/project-config.js';
import { assertBundlesFresh, goShip, ROOT, tempDir } from '../helpers/cli.js';
import { isSecretInput, readActionMetadata } from '../../src/runner/action-metadata.js';

const actions = actionsIn(ROOT);

function file(text: string): string {
  const f = join(tempDir('pc'), '.go-ship.yml');
  writeFileSync(f, text);
  return f;
}

test('values become the strings a runner passes: lists join by line, mappings become KEY=value lines', () => {
  const cfg = readProjectConfig(
    file(
      [
        'build-matrix:',
        '  targets: [linux/amd64, linux/arm64]',
        '  parallelism: 2',
        '  trimpath: true',
        'docker-multistage:',
        '  labels: {org.opencontainers.image.vendor: acme, team: payments}',
        'coverage-gate:',
        '',
      ].join('\n'),
    ),
    actions,
  );
  expect(cfg['build-matrix']).toEqual({
    targets: 'linux/amd64\nlinux/arm64',
    parallelism: '2',
    trimpath: 'true',
  });
  expect(cfg['docker-multistage']).toEqual({ labels: 'org.opencontainers.image.vendor=acme\nteam=payments' });
});

test.each([
  [
    'build-matirx:\n  targets: x\n',
    /unknown section `build-matirx`\. Did you mean `build-matrix`\? Sections are action names: build-matrix, coverage-gate/,
  ],
  [
    'build-matrix:\n  target: x\n',
    /`build-matrix` has no input `target`\. Did you mean `targets`\? Its inputs: mode, targets/,
  ],
  [
    'build-matrix:\n  targets: [[a]]\n',
    /`build-matrix\.targets` got \[\["a"\]\]; it accepts a string, number, boolean, a list of them, or a KEY: value mapping/,
  ],
  ['- build-matrix\n', /must be a mapping of action names to their inputs/],
  ['build-matrix: [a]\n', /`build-matrix` must be a mapping of its inputs to values/],
  ['build-matrix:\n  targets: [a\n', /is not valid YAML/],
])('%j is refused with a message that names the file and the key', (text, message) => {
  expect(() => readProjectConfig(file(text), actions)).toThrow(message);
});

test('the workflow wins: the file fills only inputs that are absent, empty or at their default', () => {
  const cfg = { 'build-matrix': { targets: 'linux/arm64', shards: '4', version: '9.9.9' } };
  const meta = actions['build-matrix'];
  const env = { INPUT_TARGETS: 'linux/amd64', INPUT_SHARDS: meta.inputs.shards.default, INPUT_VERSION: '' };
  expect(projectInputs(cfg, 'build-matrix', meta, env)).toEqual({
    INPUT_SHARDS: '4',
    INPUT_VERSION: '9.9.9',
  });
});

test('schema/go-ship.schema.json is what the action.yml files generate (run `node bin/go-ship.js docs`)', () => {
  const onDisk = JSON.parse(readFileSync(join(ROOT, 'schema', 'go-ship.schema.json'), 'utf8'));
  expect(onDisk).toEqual(projectSchema(actions));
  expect(Object.keys(onDisk.properties)).toEqual([...Object.keys(actions), 'environments']);
  expect(onDisk.properties['build-matrix'].properties.targets.description).toMatch(/GOOS\/GOARCH targets/);
});

describe('through the bundles', () => {
  const dir = join(tempDir('pc-run'), 'hello-svc');
  cpSync(join(ROOT, 'examples', 'hello-svc'), dir, { recursive: true });
  writeFileSync(
    join(dir, '.go-ship.yml'),
    'build-matrix:\n  targets: [linux/arm64, windows/amd64]\n  shards: 1\n',
  );

  const plan = async (withs: string[]) => {
    const r = await goShip([
      'build-matrix',
      '--workspace',
      dir,
      '--json',
      '--with',
      'mode=plan',
      ...withs.flatMap((w) => ['--with', w]),
    ]);
    return {
      ...r,
      outputs: (JSON.parse(r.stdout || '{}') as { outputs?: Record<string, string> }).outputs ?? {},
    };
  };

  test('the CLI takes defaults from .go-ship.yml; --with wins', async () => {
    const fromFile = await plan([]);
    expect(fromFile.code).toBe(0);
    expect(JSON.parse(fromFile.outputs.matrix)).toEqual({
      include: [{ shard: '1', targets: 'linux/arm64,windows/amd64' }],
    });
    const given = await plan(['targets=linux/amd64']);
    expect(JSON.parse(given.outputs.matrix)).toEqual({ include: [{ shard: '1', targets: 'linux/amd64' }] });
  });

  // Field report (node_exporter): `.go-ship.yml` said packages [., ./tools]; `--with packages=.`
  // (the input's default) was replaced by the file's value inside the action.
  test('--with an input at exactly its default still wins over .go-ship.yml', async () => {
    expect(actions['build-matrix'].inputs.shards.default).toBe('2');
    const atDefault = await plan(['shards=2']);
    expect(atDefault.code).toBe(0);
    // Two shards (the file said 1), of the file's targets.
    const { include } = JSON.parse(atDefault.outputs.matrix) as {
      include: { shard: string; targets: string }[];
    };
    expect(include.map((s) => s.shard)).toEqual(['1', '2']);
    expect(include.map((s) => s.targets).sort()).toEqual(['linux/arm64', 'windows/amd64']);
  });

  test('on a runner (inputs at their defaults in INPUT_*), the bundle reads .go-ship.yml itself', () => {
    const outputs = join(tempDir('pc-out'), 'output');
    writeFileSync(outputs, '');
    const defaults = Object.fromEntries(
      Object.entries(actions['build-matrix'].inputs)
        .filter(([, s]) => s.default !== undefined && !s.default.includes('${{'))
        .map(([n, s]) => [`INPUT_${n.toUpperCase()}`, s.default!]),
    );
    assertBundlesFresh();
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'build-matrix', 'index.js')], {
      env: { ...process.env, ...defaults, INPUT_MODE: 'plan', GITHUB_WORKSPACE: dir, GITHUB_OUTPUT: outputs },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('.go-ship.yml sets targets, shards (inputs given in the workflow win)');
    expect(readFileSync(outputs, 'utf8')).toContain(
      '{"include":[{"shard":"1","targets":"linux/arm64,windows/amd64"}]}',
    );
  });

  test('a mistake in .go-ship.yml fails the step with its file and key', async () => {
    writeFileSync(join(dir, '.go-ship.yml'), 'build-matrix:\n  targts: linux/amd64\n');
    const r = await plan([]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /\.go-ship\.yml: `build-matrix` has no input `targts`\. Did you mean `targets`\?/,
    );
  });
});

test.each([
  ['docker-multistage', 'password', 'registry-password'],
  ['semver-tag', 'github-token', 'github-token'],
  ['deploy-bluegreen', 'kubeconfig', 'kubeconfig'],
])(
  'a secret in .go-ship.yml (%s.%s) is refused, naming the key and the input to use instead',
  (section, key, input) => {
    expect(() => readProjectConfig(file(`${section}:\n  ${key}: hunter2\n`), actions)).toThrow(
      new RegExp(`\`${section}\\.${key}\` holds a secret.*with: ${input}: \\$\\{\\{ secrets\\.NAME \\}\\}`),
    );
  },
);

// #30: which inputs are secrets is said once, in action.yml (`Secret.` starts the description); a
// hand-kept list here had to be edited for each new one, or a committed secret was read.
test('every input that holds a credential is declared secret in action.yml, and .go-ship.yml refuses each', () => {
  const all = { ...actions, '(root)': readActionMetadata(join(ROOT, 'action.yml')) };
  const undeclared = Object.entries(all).flatMap(([name, meta]) =>
    Object.entries(meta.inputs)
      .filter(
        ([input, spec]) => /password|token|kubeconfig|secret|passphrase/.test(input) && !isSecretInput(spec),
      )
      .map(([input]) => `${name}.${input}`),
  );
  expect(undeclared).toEqual([]);
  const declared = Object.entries(actions).flatMap(([name, meta]) =>
    Object.entries(meta.inputs)
      .filter(([, spec]) => isSecretInput(spec))
      .map(([input]) => [name, input]),
  );
  expect(declared.length).toBeGreaterThanOrEqual(5);
  for (const [section, key] of declared)
    expect(() => readProjectConfig(file(`${section}:\n  ${key}: hunter2\n`), actions)).toThrow(
      `\`${section}.${key}\` holds a secret`,
    );
});

test('the schema offers no secret inputs', () => {
  const props = (projectSchema(actions).properties as Record<string, { properties: object }>)[
    'docker-multistage'
  ].properties;
  expect(Object.keys(props)).toContain('username');
  expect(Object.keys(props)).not.toContain('password');
});
