import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { testRepo } from '../helpers/git.js';
import { startGitHubApi } from '../helpers/github-api.js';

// The root action with `semver-tag: create-release` in .go-ship.yml: the tag stage makes a draft
// Release, the build stage attaches the archives and checksums and publishes it. The bundle runs
// asynchronously: the loopback GitHub API answers from this process.
describeWith(
  'go and git',
  hasCommand('go', ['version']) && hasCommand('git'),
  'the pipeline releases',
  () => {
    test('tag makes a draft, build attaches every asset, then publishes: the release is never public without them', async () => {
      const TOKEN = 'ghs_pipelineReleaseLoopbackToken';
      const api = await startGitHubApi({ token: TOKEN });
      try {
        const work = tempDir('pipeline-release');
        testRepo(join(work, 'svc'), {
          from: join(ROOT, 'examples', 'hello-svc'),
          files: {
            '.go-ship.yml': 'build-matrix:\n  targets: [linux/amd64]\nsemver-tag:\n  create-release: true\n',
            '.gitignore': '/dist/\n*.out\n',
          },
          message: 'feat: hello-svc',
          origin: true,
        });
        const output = join(work, 'output');
        const summary = join(work, 'summary');
        writeFileSync(output, '');
        writeFileSync(summary, '');
        const child = spawn(process.execPath, [join(ROOT, 'dist', 'pipeline', 'index.js')], {
          env: {
            ...process.env,
            GITHUB_WORKSPACE: work,
            'INPUT_WORKING-DIRECTORY': 'svc',
            INPUT_SKIP: 'test,coverage,image,deploy',
            'INPUT_GITHUB-TOKEN': TOKEN,
            GITHUB_EVENT_NAME: 'push',
            GITHUB_REF: 'refs/heads/main',
            GITHUB_API_URL: api.url,
            GITHUB_REPOSITORY: 'o/r',
            GITHUB_OUTPUT: output,
            GITHUB_STEP_SUMMARY: summary,
          },
        });
        let text = '';
        child.stdout.on('data', (d: Buffer) => (text += d.toString()));
        child.stderr.on('data', (d: Buffer) => (text += d.toString()));
        const status = await new Promise<number | null>((done) => child.on('close', done));
        expect({ status, tail: status ? text.slice(-2000) : '' }).toEqual({ status: 0, tail: '' });
        expect(api.releases).toHaveLength(1);
        expect(api.releases[0]).toMatchObject({ tag_name: 'v0.1.0', draft: false });
        expect(api.releases[0].assets.map((a) => a.name).sort()).toEqual([
          'hello-svc_0.1.0_checksums.txt',
          'hello-svc_0.1.0_linux_amd64.tar.gz',
        ]);
        // Created as a draft, every upload, then the one PATCH that publishes it.
        const calls = api.calls.map((c) => `${c.method} ${c.path.replace(/\?.*/, '')}`);
        const created = calls.indexOf('POST /repos/o/r/releases');
        const lastUpload = calls.map((c) => c.startsWith('POST /uploads/')).lastIndexOf(true);
        const published = calls.findIndex((c) => c.startsWith('PATCH /repos/o/r/releases/'));
        expect(created).toBeGreaterThanOrEqual(0);
        expect(lastUpload).toBeGreaterThan(created);
        expect(published).toBeGreaterThan(lastUpload);
        expect(calls.filter((c) => c.startsWith('PATCH'))).toHaveLength(1);
        // The runner swallows ::add-mask:: (and masks the value after it); nothing else may carry it.
        expect(text).toContain(`::add-mask::${TOKEN}`);
        expect(
          text
            .split('\n')
            .filter((l) => !l.startsWith('::add-mask::'))
            .join('\n'),
        ).not.toContain(TOKEN);
      } finally {
        await api.close();
      }
    }, 300_000);
  },
);
