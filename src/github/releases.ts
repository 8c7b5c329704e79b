import { GitHubApiError, type GitHubClient, type Repo } from './rest.js';

export interface ReleaseResult {
  action: 'created' | 'exists';
  url: string;
}

/**
 * A GitHub Release for an existing tag. A release that already exists for the tag (a re-run: the
 * API answers 422 `already_exists`) is left as it is and reported, never duplicated.
 */
export async function ensureRelease(
  client: GitHubClient,
  { owner, repo }: Repo,
  release: { tag: string; body: string; prerelease: boolean },
): Promise<ReleaseResult> {
  try {
    const { data } = await client.request<{ html_url: string }>('POST', `/repos/${owner}/${repo}/releases`, {
      tag_name: release.tag,
      name: release.tag,
      body: release.body,
      prerelease: release.prerelease,
      make_latest: release.prerelease ? 'false' : 'legacy',
    });
    return { action: 'created', url: data.html_url };
  } catch (e) {
    if (!(e instanceof GitHubApiError) || e.status !== 422) throw e;
    const { data } = await client.request<{ html_url: string }>(
      'GET',
      `/repos/${owner}/${repo}/releases/tags/${encodeURIComponent(release.tag)}`,
    );
    return { action: 'exists', url: data.html_url };
  }
}

interface PullForCommit {
  number: number;
  merged_at: string | null;
  merge_commit_sha?: string;
  labels: { name: string }[];
}

/** The merged pull request that produced a commit (GET /repos/{owner}/{repo}/commits/{sha}/pulls). */
export async function mergedPullOf(
  client: GitHubClient,
  { owner, repo }: Repo,
  sha: string,
): Promise<{ number: number; labels: string[] } | undefined> {
  const { data } = await client.request<PullForCommit[]>(
    'GET',
    `/repos/${owner}/${repo}/commits/${sha}/pulls`,
  );
  const pr = data.find((p) => p.merged_at && p.merge_commit_sha === sha) ?? data.find((p) => p.merged_at);
  return pr && { number: pr.number, labels: pr.labels.map((l) => l.name) };
}
