import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { goShip, ROOT, tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { startGitHubApi, type GitHubApi } from '../helpers/github-api.js';

interface Step {
  id?: string;
  uses?: string;
  with?: Record<string, string>;
  run?: string;
}

/** go-ship's own release workflow, as GitHub would read it. */
const workflow = parse(readFileSync(join(ROOT, '.github', 'workflows', 'release.yml'), 'utf8')) as {
  on: Record<string, unknown>;
  jobs: Record<string, { steps: Step[] }>;
};
const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
const semverStep = steps.find((s) => s.uses === './semver-tag');

const IDENTITY = {
  GIT_AUTHOR_NAME: 'Dev',
  GIT_AUTHOR_EMAIL: 'dev@example.com',
  GIT_COMMITTER_NAME: 'Dev',
  GIT_COMMITTER_EMAIL: 'dev@example.com',
};

describeWith(
  'git',
  hasCommand('git'),
  "go-ship's release workflow, run as far as this machine allows",
  () => {
    let api: GitHubApi | undefined;
    afterEach(async () => api?.close());

    test('it releases with the committed ./semver-tag bundle after CI passes on main', () => {
      expect(workflow.on).toHaveProperty('workflow_run');
      expect(semverStep).toBeDefined();
      expect(semverStep!.with).toMatchObject({ 'major-tag': 'true', 'create-release': 'true' });
      expect(readFileSync(join(ROOT, 'semver-tag', 'action.yml'), 'utf8')).toContain(
        'main: ../dist/semver-tag/index.js',
      );
    });

    test("the semver-tag step's inputs on a repository without go.mod: v1.0.0 and v1 first, then v1.1.0 moves v1", async () => {
      const TOKEN = 'ghs_releaseWorkflowLoopback0000';
      api = await startGitHubApi({ token: TOKEN });
      const root = tempDir('release-workflow');
      const remote = join(root, 'remote.git');
      const work = join(root, 'work');
      const git = (cwd: string, ...args: string[]) =>
        execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...IDENTITY } }).trim();
      git(root, 'init', '-q', '--bare', '-b', 'main', remote);
      git(root, 'init', '-q', '-b', 'main', work);
      git(work, 'remote', 'add', 'origin', remote);
      const commit = (message: string) => {
        writeFileSync(join(work, 'index.js'), `// ${message}\n`);
        writeFileSync(join(work, 'package.json'), '{ "name": "an-action", "version": "0.1.0" }\n');
        git(work, 'add', '-A');
        git(work, 'commit', '-q', '-m', message);
        git(work, 'push', '-q', 'origin', 'HEAD');
        return git(work, 'rev-parse', 'HEAD');
      };
      const tagsOnRemote = () =>
        Object.fromEntries(
          git(root, 'ls-remote', '--tags', remote)
            .split('\n')
            .filter((l) => l.endsWith('^{}'))
            .map((l) => [l.split('\t')[1].slice('refs/tags/'.length, -3), l.split('\t')[0]]),
        );
      const release = async () => {
        const r = await goShip([
          'semver-tag',
          '--workspace',
          work,
          '--json',
          ...['GITHUB_API_URL=' + api!.url, 'GITHUB_REPOSITORY=o/r', `GITHUB_TOKEN=${TOKEN}`].flatMap((e) => [
            '--env',
            e,
          ]),
          ...Object.entries(semverStep!.with!).flatMap(([k, v]) => ['--with', `${k}=${v}`]),
        ]);
        expect(r.stderr).not.toContain(TOKEN);
        return {
          ...r,
          outputs: (JSON.parse(r.stdout || '{}') as { outputs?: Record<string, string> }).outputs ?? {},
        };
      };

      const first = commit('feat: the first actions');
      const r1 = await release();
      expect(r1.code).toBe(0);
      expect(r1.stderr).toContain('No go.mod: o/r is versioned as a whole');
      expect(r1.outputs).toMatchObject({ tag: 'v1.0.0', created: 'true' });
      expect(tagsOnRemote()).toEqual({ 'v1.0.0': first, v1: first });
      expect(api.releases).toEqual([expect.objectContaining({ tag_name: 'v1.0.0' })]);

      commit('docs: typo');
      const quiet = await release();
      expect(quiet.outputs).toMatchObject({ created: 'false', bump: 'none' });

      const second = commit('feat: a new input');
      const r2 = await release();
      expect(r2.outputs).toMatchObject({ tag: 'v1.1.0', created: 'true', 'previous-tag': 'v1.0.0' });
      expect(tagsOnRemote()).toEqual({ 'v1.0.0': first, 'v1.1.0': second, v1: second });
      expect(api.releases.map((r) => r.tag_name)).toEqual(['v1.0.0', 'v1.1.0']);
      expect(api.releases[1].body).toContain('a new input');
    }, 120_000);
  },
);
