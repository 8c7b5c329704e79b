import { readFileSync } from 'node:fs';
import * as workflow from '../runner/workflow.js';

/** A REST answer that was not 2xx; `status` 0 means no answer at all. */
export class GitHubApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly apiMessage: string,
  ) {
    super(
      `${method} ${path} ${status ? `answered ${status}` : 'failed'}${apiMessage ? `: ${apiMessage}` : ''}`,
    );
    this.name = 'GitHubApiError';
  }
}

export interface Repo {
  owner: string;
  repo: string;
}

/**
 * The repository's web address (`https://github.com/owner/repo`), from GITHUB_SERVER_URL and
 * GITHUB_REPOSITORY as the runner sets them. Undefined when either is missing: outside GitHub (the
 * CLI on a GitLab checkout) go-ship writes no link rather than a github.com link that goes nowhere.
 */
export function repositoryUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const server = env.GITHUB_SERVER_URL?.replace(/\/+$/, '');
  return server && env.GITHUB_REPOSITORY ? `${server}/${env.GITHUB_REPOSITORY}` : undefined;
}

/**
 * The few REST endpoints go-ship calls, with fetch: JSON in and out, `Link` pagination, and errors
 * that keep the status and GitHub's message so callers can tell a read-only token (403) from an
 * outage. The token is masked before its first use.
 */
export class GitHubClient {
  readonly apiUrl: string;

  constructor(
    readonly token: string,
    apiUrl = 'https://api.github.com',
    private readonly timeoutMs = 30_000,
  ) {
    this.apiUrl = apiUrl.replace(/\/+$/, '');
    if (token) workflow.setSecret(token);
  }

  /** GITHUB_API_URL and GITHUB_REPOSITORY as the runner sets them. */
  static fromEnv(token: string, env = process.env): { client: GitHubClient; repo: Repo } {
    const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/');
    if (!owner || !repo)
      throw new Error(`GITHUB_REPOSITORY is \`${env.GITHUB_REPOSITORY ?? ''}\`; expected owner/repo.`);
    return { client: new GitHubClient(token, env.GITHUB_API_URL || undefined), repo: { owner, repo } };
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<{ data: T; headers: Headers }> {
    const url = path.startsWith('http') ? path : `${this.apiUrl}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          accept: 'application/vnd.github+json',
          'x-github-api-version': '2022-11-28',
          'user-agent': 'go-ship',
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause;
      throw new GitHubApiError(method, path, 0, cause?.code ?? (e as Error).message);
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // not JSON: keep the text
      }
      throw new GitHubApiError(method, path, res.status, message);
    }
    return { data: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
  }

  /**
   * The bytes behind a download endpoint. GitHub answers 302 to a signed storage URL, which is
   * fetched without the token (it must not leave for another host).
   */
  async download(path: string): Promise<Buffer> {
    const url = `${this.apiUrl}${path}`;
    const fail = (status: number, message: string) => new GitHubApiError('GET', path, status, message);
    let res: Response;
    try {
      res = await fetch(url, {
        headers: {
          authorization: `Bearer ${this.token}`,
          'user-agent': 'go-ship',
          'x-github-api-version': '2022-11-28',
        },
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location)
        res = await fetch(new URL(location, url), { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      throw fail(0, (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message);
    }
    if (!res.ok) throw fail(res.status, (await res.text()).slice(0, 300));
    return Buffer.from(await res.arrayBuffer());
  }

  /** Every page of a list endpoint, following `Link: <…>; rel="next"` up to `maxPages`. */
  async paginate<T>(path: string, maxPages = 20): Promise<T[]> {
    const all: T[] = [];
    let next: string | undefined = `${path}${path.includes('?') ? '&' : '?'}per_page=100`;
    for (let page = 0; next && page < maxPages; page++) {
      const { data, headers }: { data: T[]; headers: Headers } = await this.request<T[]>('GET', next);
      all.push(...data);
      next = /<([^>]+)>;\s*rel="next"/.exec(headers.get('link') ?? '')?.[1];
    }
    return all;
  }
}

/** The event payload the runner wrote (GITHUB_EVENT_PATH), or {} outside a workflow. */
export function eventPayload(env = process.env): Record<string, unknown> {
  if (!env.GITHUB_EVENT_PATH) return {};
  try {
    return JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** The pull request this run is for: pull_request and pull_request_target events. */
export function pullRequestOf(
  payload: Record<string, unknown>,
): { number: number; headSha: string } | undefined {
  const pr = payload.pull_request as { number?: number; head?: { sha?: string } } | undefined;
  return pr?.number ? { number: pr.number, headSha: pr.head?.sha ?? '' } : undefined;
}
