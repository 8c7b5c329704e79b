import type { GitHubClient, Repo } from './rest.js';

interface IssueComment {
  id: number;
  body?: string;
  html_url: string;
}

export interface StickyResult {
  action: 'created' | 'updated' | 'unchanged';
  id: number;
  url: string;
}

/** GitHub caps a comment body at 65,536 characters. */
const MAX_BODY = 65_536;

/**
 * One comment per marker on a pull request, edited in place on every run instead of piling up
 * (the marker is an HTML comment, invisible when rendered). The oldest comment carrying the marker
 * is the sticky one, so a re-run updates what reviewers already saw.
 */
export async function upsertStickyComment(
  client: GitHubClient,
  { owner, repo }: Repo,
  issue: number,
  marker: string,
  body: string,
): Promise<StickyResult> {
  let text = `${marker}\n${body}`;
  if (text.length > MAX_BODY)
    text = `${text.slice(0, MAX_BODY - 200)}\n\n…cut to fit GitHub's comment size; the job summary has the rest.`;
  const comments = await client.paginate<IssueComment>(`/repos/${owner}/${repo}/issues/${issue}/comments`);
  const mine = comments.find((c) => c.body?.includes(marker));
  if (mine && mine.body === text) return { action: 'unchanged', id: mine.id, url: mine.html_url };
  if (mine) {
    const { data } = await client.request<IssueComment>(
      'PATCH',
      `/repos/${owner}/${repo}/issues/comments/${mine.id}`,
      { body: text },
    );
    return { action: 'updated', id: data.id, url: data.html_url };
  }
  const { data } = await client.request<IssueComment>(
    'POST',
    `/repos/${owner}/${repo}/issues/${issue}/comments`,
    {
      body: text,
    },
  );
  return { action: 'created', id: data.id, url: data.html_url };
}
