import { GitHubApiError, type GitHubClient, type Repo } from './rest.js';

export interface ReleaseAsset {
  id: number;
  name: string;
  size: number;
  /** `sha256:<hex>`, computed by GitHub at upload (since 2025; absent on older servers). */
  digest?: string | null;
  browser_download_url: string;
}

export interface GitHubRelease {
  id: number;
  tag_name: string;
  body?: string | null;
  draft: boolean;
  prerelease: boolean;
  html_url: string;
  upload_url: string;
  assets: ReleaseAsset[];
}

/**
 * The release of a tag, drafts included: `GET /releases/tags/{tag}` does not see drafts, so the
 * list is searched (newest first, a few pages).
 */
async function findRelease(
  client: GitHubClient,
  { owner, repo }: Repo,
  tag: string,
): Promise<GitHubRelease | undefined> {
  const all = await client.paginate<GitHubRelease>(`/repos/${owner}/${repo}/releases`, 5);
  return all.find((r) => r.tag_name === tag);
}

export interface ReleaseResult {
  action: 'created' | 'exists';
  url: string;
  release: GitHubRelease;
}

/**
 * Marks a draft as go-ship's (an HTML comment: not shown on the release page). semver-tag's
 * `create-release: draft` and build-matrix's `release` make drafts with it; build-matrix publishes
 * only a draft that carries it, and leaves one a person or another tool made to them.
 */
export const DRAFT_MARK = '<!-- go-ship: this draft is published once every asset is attached -->';

/** A draft go-ship made (it carries DRAFT_MARK). */
export const isGoShipDraft = (r: GitHubRelease): boolean => r.draft && (r.body ?? '').includes(DRAFT_MARK);

/**
 * A GitHub Release for a tag, created when there is none (a draft when asked: build-matrix
 * publishes it once its assets are attached). A release that exists for the tag (a re-run, or the
 * API answering 422 `already_exists` to a concurrent create) is left as it is and reported.
 */
export async function ensureRelease(
  client: GitHubClient,
  repo: Repo,
  release: { tag: string; body: string; prerelease: boolean; draft?: boolean; commit?: string },
): Promise<ReleaseResult> {
  const existing = await findRelease(client, repo, release.tag);
  if (existing) return { action: 'exists', url: existing.html_url, release: existing };
  try {
    const { data } = await client.request<GitHubRelease>(
      'POST',
      `/repos/${repo.owner}/${repo.repo}/releases`,
      {
        tag_name: release.tag,
        name: release.tag,
        body: release.draft ? `${release.body}\n\n${DRAFT_MARK}` : release.body,
        draft: release.draft ?? false,
        prerelease: release.prerelease,
        // A missing tag is created at the built commit, never at the default branch's head.
        ...(release.commit ? { target_commitish: release.commit } : {}),
        make_latest: release.prerelease ? 'false' : 'legacy',
      },
    );
    return { action: 'created', url: data.html_url, release: data };
  } catch (e) {
    if (!(e instanceof GitHubApiError) || e.status !== 422) throw e;
    const again = await findRelease(client, repo, release.tag);
    if (!again) throw e;
    return { action: 'exists', url: again.html_url, release: again };
  }
}

/** Uploads one asset to the release's upload URL (uploads.github.com on github.com). */
export async function uploadAsset(
  client: GitHubClient,
  release: GitHubRelease,
  name: string,
  data: Buffer,
): Promise<ReleaseAsset> {
  const url = `${release.upload_url.replace(/\{.*\}$/, '')}?name=${encodeURIComponent(name)}`;
  const { data: asset } = await client.request<ReleaseAsset>('POST', url, data, {
    'content-type': 'application/octet-stream',
  });
  return asset;
}

export async function deleteAsset(client: GitHubClient, { owner, repo }: Repo, id: number): Promise<void> {
  await client.request('DELETE', `/repos/${owner}/${repo}/releases/assets/${id}`);
}

/** An asset's bytes (for servers that give no digest). */
export function assetBytes(client: GitHubClient, { owner, repo }: Repo, id: number): Promise<Buffer> {
  return client.download(`/repos/${owner}/${repo}/releases/assets/${id}`, 'application/octet-stream');
}

/** Publishes a draft release. */
export async function publishDraft(
  client: GitHubClient,
  { owner, repo }: Repo,
  release: GitHubRelease,
): Promise<GitHubRelease> {
  const { data } = await client.request<GitHubRelease>(
    'PATCH',
    `/repos/${owner}/${repo}/releases/${release.id}`,
    {
      draft: false,
      make_latest: release.prerelease ? 'false' : 'legacy',
    },
  );
  return data;
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
