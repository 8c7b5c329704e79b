import type { GitHubClient, Repo } from './rest.js';

interface IssueComment {
  id: number;
  body?: string;
  html_url: string;
  user?: { login?: string; type?: string } | null;
}

/** The bot that GITHUB_TOKEN writes as; `GET /user` answers only for user tokens (PATs). */
const ACTIONS_BOT = 'github-actions[bot]';

/** Who the token writes as: its user for a PAT, else GitHub Actions' bot. */
async function identityOf(client: GitHubClient): Promise<string> {
  try {
    const { data } = await client.request<{ login?: string }>('GET', '/user');
    return data.login ?? ACTIONS_BOT;
  } catch {
    return ACTIONS_BOT;
  }
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
 * (the marker is an HTML comment, invisible when rendered). The oldest comment that this token's
 * identity wrote and that starts with the marker is the sticky one, so a re-run updates what
 * reviewers already saw and a maintainer's comment quoting the marker is never touched.
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
  // Only a comment this token wrote is ours to edit: anyone can paste the marker into theirs.
  const me = await identityOf(client);
  const mine = comments.find((c) => c.user?.login === me && c.body?.startsWith(`${marker}\n`));
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
