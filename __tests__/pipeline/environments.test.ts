import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describeRules, environmentForRef, globMatches } from '../../src/pipeline/environments.js';
import {
  actionsIn,
  projectSchema,
  readEnvironments,
  readProjectConfig,
} from '../../src/runner/project-config.js';
import { ROOT, tempDir } from '../helpers/cli.js';

// #32: environments in .go-ship.yml, each with the one rule that deploys it.
const actions = actionsIn(ROOT);

function file(text: string): string {
  const f = join(tempDir('envs'), '.go-ship.yml');
  writeFileSync(f, text);
  return f;
}

const CHAIN = [
  'deploy-bluegreen:',
  '  target: docker',
  '  network: host',
  'environments:',
  '  staging:',
  '    branch: develop',
  '    deploy-bluegreen:',
  '      app: hello-staging',
  '      url: http://127.0.0.1:8081',
  '      blue-port: 18081',
  '  production:',
  '    from: staging',
  '    deploy-bluegreen:',
  '      app: hello',
  '      url: https://hello.example.com',
  '      strategy: canary',
  '      steps: [10, 50, 100]',
  '  preview:',
  '    branch: [feature/*, fix/**]',
  '    tags: v*-rc.*',
  '',
].join('\n');

test('environments: each with its rule and its own deploy-bluegreen inputs as a runner passes them; the action sections stay as they were', () => {
  const f = file(CHAIN);
  expect(readEnvironments(f, actions)).toEqual([
    {
      name: 'staging',
      branches: ['develop'],
      tags: [],
      from: undefined,
      deploy: { app: 'hello-staging', url: 'http://127.0.0.1:8081', 'blue-port': '18081' },
    },
    {
      name: 'production',
      branches: [],
      tags: [],
      from: 'staging',
      deploy: { app: 'hello', url: 'https://hello.example.com', strategy: 'canary', steps: '10\n50\n100' },
    },
    { name: 'preview', branches: ['feature/*', 'fix/**'], tags: ['v*-rc.*'], from: undefined, deploy: {} },
  ]);
  expect(readProjectConfig(f, actions)).toEqual({
    'deploy-bluegreen': { target: 'docker', network: 'host' },
  });
  // The generated schema (editor completion) takes the same file, and refuses a key it does not know.
  const ajv = new Ajv2020({ strict: false });
  const valid = ajv.compile(projectSchema(actions));
  expect(valid(parse(CHAIN))).toBe(true);
  expect(valid(parse(CHAIN.replace('    from: staging', '    form: staging')))).toBe(false);
});

test.each([
  ['environments:\n  staging: {}\n', /`environments\.staging` needs a rule: `branch`/],
  [
    'environments:\n  staging: {branch: develop}\n  production: {from: staging, branch: main}\n',
    /`environments\.production` has `from: staging` and a branch or tag rule; an environment fed by promotion takes nothing else, so that nothing reaches it that did not pass staging/,
  ],
  [
    'environments:\n  production: {from: stagin}\n  staging: {branch: develop}\n',
    /`environments\.production\.from` names `stagin`, which is not an environment here \(production, staging\)/,
  ],
  [
    'environments:\n  a: {from: b}\n  b: {from: a}\n',
    /environments promote round in a circle \(a → b → a\); one of them needs a branch or tag rule/,
  ],
  ['environments:\n  staging: {branch: develop, url: x}\n', /`environments\.staging` has no setting `url`/],
  [
    'environments:\n  staging:\n    branch: develop\n    deploy-bluegreen: {ap: x}\n',
    /`environments\.staging\.deploy-bluegreen` has no input `ap`\. Did you mean `app`\?/,
  ],
  [
    'environments:\n  staging:\n    branch: develop\n    deploy-bluegreen: {ssh-key: x}\n',
    /`environments\.staging\.deploy-bluegreen\.ssh-key` holds a secret/,
  ],
  [
    'environments:\n  staging:\n    branch: develop\n    deploy-bluegreen: {image: app:1}\n',
    /`environments\.staging\.deploy-bluegreen\.image` is set by go-ship for each deploy/,
  ],
  ['environments:\n  "stag ing": {branch: develop}\n', /environment name `stag ing` must be letters/],
  [
    'environments:\n  staging: {branch: [[develop]]}\n',
    /`environments\.staging\.branch` got \[\["develop"\]\]/,
  ],
  ['environments: [staging]\n', /`environments` must be a mapping of environment names/],
])('a bad environments section is refused, naming the key: %s', (text, message) => {
  expect(() => readEnvironments(file(text), actions)).toThrow(message);
});

test('a push selects the environment whose branch or tag rule matches; promotion-fed ones never', () => {
  const envs = readEnvironments(file(CHAIN), actions);
  const name = (ref: string) => environmentForRef(envs, ref)?.name;
  expect(name('refs/heads/develop')).toBe('staging');
  expect(name('refs/heads/main')).toBeUndefined();
  expect(name('refs/heads/feature/login')).toBe('preview');
  expect(name('refs/heads/feature/a/b')).toBeUndefined();
  expect(name('refs/heads/fix/a/b')).toBe('preview');
  expect(name('refs/tags/v1.2.0-rc.1')).toBe('preview');
  expect(name('refs/tags/v1.2.0')).toBeUndefined();
  // A tag named like a branch rule is not a branch.
  expect(name('refs/tags/develop')).toBeUndefined();
  expect(name('')).toBeUndefined();
  expect(describeRules(envs)).toBe(
    'staging: branch develop; production: promoted from staging; preview: branch feature/*, branch fix/**, tags v*-rc.*',
  );
  expect(globMatches('release/*', 'release/1.2')).toBe(true);
  expect(globMatches('release/*', 'release/1.2/x')).toBe(false);
  expect(globMatches('a.b', 'axb')).toBe(false);
});
