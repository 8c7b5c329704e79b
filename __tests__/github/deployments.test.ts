import { DeploymentLog, deploymentsProblem } from '../../src/github/deployments.js';
import { GitHubClient } from '../../src/github/rest.js';
import { startGitHubApi } from '../helpers/github-api.js';
import { quietly } from '../helpers/quiet.js';

// Against a stand-in that follows docs.github.com/rest/deployments (helpers/github-api.ts), driven
// by Octokit as on a runner.
const SHA = 'a'.repeat(40);

test('each deploy is a Deployment with statuses; the one it replaced ends inactive, production too; a failure leaves the live one alone', async () => {
  const api = await startGitHubApi({ token: 'tok' });
  try {
    const log = await quietly(
      async () => new DeploymentLog(new GitHubClient('tok', api.url), { owner: 'o', repo: 'r' }),
    );
    const deploy = async (environment: string, version: string, state: 'success' | 'failure') => {
      const id = await log.begin({
        ref: SHA,
        environment,
        description: `hello v${version}`,
        payload: { version },
        logUrl: 'https://github.com/o/r/actions/runs/1',
      });
      await log.end(id, environment, state, {
        environmentUrl: `https://${environment}.example.com`,
        description:
          state === 'success' ? `v${version} is live` : `v${version} failed its checks; `.repeat(20),
      });
      return id;
    };
    const states = (id: number) => api.deployments.find((d) => d.id === id)!.statuses.map((s) => s.state);
    // Production: GitHub's own auto_inactive would leave it alone (Octokit spaces writes 1 s apart,
    // as GitHub asks, so one environment keeps this quick).
    for (const environment of ['production']) {
      const first = await deploy(environment, '1.0.0', 'success');
      const second = await deploy(environment, '1.1.0', 'success');
      const failed = await deploy(environment, '1.2.0', 'failure');
      expect([environment, states(first), states(second), states(failed)]).toEqual([
        environment,
        ['in_progress', 'success', 'inactive'],
        ['in_progress', 'success'],
        ['in_progress', 'failure'],
      ]);
      const live = api.deployments.find((d) => d.id === second)!;
      expect(live).toMatchObject({ environment, ref: SHA, payload: { version: '1.1.0' } });
      expect(live.statuses[1]).toMatchObject({
        environment_url: `https://${environment}.example.com`,
        log_url: '',
      });
      expect(live.statuses[0].log_url).toBe('https://github.com/o/r/actions/runs/1');
    }
  } finally {
    await api.close();
  }
});

test('a token that may not write deployments: the error names the permission', async () => {
  const api = await startGitHubApi({ token: 'tok', readOnly: true });
  try {
    const log = await quietly(
      async () => new DeploymentLog(new GitHubClient('tok', api.url), { owner: 'o', repo: 'r' }),
    );
    const e = await log.begin({ ref: SHA, environment: 'staging', description: 'x', payload: {} }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(deploymentsProblem(e)).toMatch(
      /answered 403: Resource not accessible by integration.*`deployments: write`/,
    );
  } finally {
    await api.close();
  }
});
