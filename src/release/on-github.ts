import { ensureRelease, mergedPullOf } from '../github/releases.js';
import { GitHubApiError, GitHubClient } from '../github/rest.js';
import { UserError } from '../runner/errors.js';
import { log } from '../runner/log.js';
import * as workflow from '../runner/workflow.js';
import { bumpFromLabels } from './commits.js';
import type { ReleaseRules } from './plan.js';

/** The merged PR's `release:` label, when the token can read it; an unreadable PR is a warning. */
export async function releaseLabel(token: string | undefined, head: string): Promise<ReleaseRules['label']> {
  if (!process.env.GITHUB_REPOSITORY) return undefined;
  if (!token) {
    workflow.warning(
      "github-token is empty, so the merged pull request's `release:` labels were not read; the bump comes from the commits alone. Pass `github-token: ${{ github.token }}` (semver-tag's default, and the root action's), or set labels: false.",
    );
    return undefined;
  }
  try {
    const { client, repo } = GitHubClient.fromEnv(token);
    const pr = await mergedPullOf(client, repo, head);
    if (!pr) return undefined;
    const bump = bumpFromLabels(pr.labels, pr.number);
    const name = pr.labels.find((l) => l.toLowerCase().startsWith('release:'));
    return bump && name ? { bump, pr: pr.number, name } : undefined;
  } catch (e) {
    if (!(e instanceof GitHubApiError)) throw e;
    workflow.warning(
      `Could not read the pull request of ${head.slice(0, 7)} for release labels (${e.message}); deciding from the commits.`,
    );
    return undefined;
  }
}

/** The GitHub Release of a pushed tag (kept as it is on a re-run); its URL, or undefined without a token. */
export async function publishRelease(
  token: string | undefined,
  release: { tag: string; body: string; prerelease: boolean; draft: boolean },
): Promise<string | undefined> {
  if (!token) {
    workflow.warning(
      'create-release needs github-token (contents: write); the tag was pushed without a GitHub Release.',
    );
    return undefined;
  }
  const { client, repo } = GitHubClient.fromEnv(token);
  try {
    const r = await ensureRelease(client, repo, release);
    log.info(`GitHub Release ${r.action}${r.release.draft ? ' (draft)' : ''}: ${r.url}`);
    return r.url;
  } catch (e) {
    if (!(e instanceof GitHubApiError)) throw e;
    throw new UserError(
      `The tag ${release.tag} is pushed, but creating its GitHub Release failed: ${e.message}. The token needs \`contents: write\`; re-running the job creates the release for the existing tag.`,
    );
  }
}
