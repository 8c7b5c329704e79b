import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, runAction, tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { testRepo } from '../helpers/git.js';
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
      const repo = testRepo(join(tempDir('release-workflow'), 'work'), { origin: true });
      const commit = (message: string) => {
        writeFileSync(join(repo.dir, 'index.js'), `// ${message}\n`);
        writeFileSync(join(repo.dir, 'package.json'), '{ "name": "an-action", "version": "0.1.0" }\n');
        repo.git('add', '-A');
        repo.git('commit', '-q', '-m', message);
        repo.git('push', '-q', 'origin', 'HEAD');
        return repo.git('rev-parse', 'HEAD');
      };
      const tagsOnRemote = () =>
        Object.fromEntries(
          repo
            .git('ls-remote', '--tags', repo.origin!)
            .split('\n')
            .filter((l) => l.endsWith('^{}'))
            .map((l) => [l.split('\t')[1].slice('refs/tags/'.length, -3), l.split('\t')[0]]),
        );
      const release = async () => {
        const r = await runAction('semver-tag', {
          workspace: repo.dir,
          env: { GITHUB_API_URL: api!.url, GITHUB_REPOSITORY: 'o/r', GITHUB_TOKEN: TOKEN },
          with: semverStep!.with!,
        });
        expect(r.stderr).not.toContain(TOKEN);
        return r;
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
