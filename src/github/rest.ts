import { UserError } from '../runner/errors.js';
import { request } from '../runner/http.js';
import { log } from '../runner/log.js';
import * as workflow from '../runner/workflow.js';

interface OctokitLike {
  request(route: {
    method: string;
    url: string;
    data?: unknown;
    headers?: Record<string, string>;
  }): Promise<{ data: unknown; headers: object }>;
}

/** How many times a rate-limited call is tried again, and the longest wait go-ship accepts. */
const RATE_LIMIT_RETRIES = 2;
const RATE_LIMIT_MAX_WAIT_S = 120;

async function makeOctokit(token: string, baseUrl: string): Promise<OctokitLike> {
  const [{ GitHub, getOctokitOptions }, { retry }, { throttling }] = await Promise.all([
    import('@actions/github/lib/utils'),
    import('@octokit/plugin-retry'),
    import('@octokit/plugin-throttling'),
  ]);
  const onLimit =
    (kind: string) =>
    (after: number, options: { method: string; url: string }, _o: unknown, retryCount: number) => {
      const again = retryCount < RATE_LIMIT_RETRIES && after <= RATE_LIMIT_MAX_WAIT_S;
      log.warning(
        `GitHub's ${kind} rate limit on ${options.method} ${options.url}: ${again ? `retrying after ${after} s` : `not retrying (asked to wait ${after} s)`}.`,
      );
      return again;
    };
  // GitHub's defaults put the runner's proxy (HTTPS_PROXY / NO_PROXY) into Octokit's fetch; a
  // `request` option here would replace them (Octokit merges options one level deep).
  const options = getOctokitOptions(token || 'anonymous', {
    baseUrl,
    userAgent: 'go-ship',
    throttle: { onRateLimit: onLimit('primary'), onSecondaryRateLimit: onLimit('secondary') },
  });
  if (!token) delete options.auth;
  const Octokit = GitHub.plugin(retry, throttling);
  return new Octokit(options) as unknown as OctokitLike;
}

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
 * The REST endpoints go-ship calls, through @actions/github's Octokit with the retry and throttling
 * plugins (5xx retried, primary and secondary rate limits waited out as GitHub asks), behind the
 * runner's proxy settings. Errors keep the status and GitHub's message so callers can tell a
 * read-only token (403) from an outage. The token is masked before its first use. Octokit loads
 * on the first call, so actions that never call the API do not pay its start-up time.
 */
export class GitHubClient {
  readonly apiUrl: string;
  private octokit?: Promise<OctokitLike>;

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
    const m = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/.exec(
      env.GITHUB_REPOSITORY ?? '',
    );
    // The runner always sets owner/repo; anything else was set by the job (env:) or the machine.
    if (!m || m[2] === '.' || m[2] === '..')
      throw new UserError(
        `GITHUB_REPOSITORY is \`${(env.GITHUB_REPOSITORY ?? '').slice(0, 120)}\`; it must be owner/repo as the runner sets it (e.g. \`octo-org/hello\`). Remove the job's own GITHUB_REPOSITORY setting, or set it to owner/repo outside GitHub.`,
      );
    const [, owner, repo] = m;
    return { client: new GitHubClient(token, env.GITHUB_API_URL || undefined), repo: { owner, repo } };
  }

  /** A JSON call; `body` may be raw bytes (a release asset upload) with their `headers`. */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ data: T; headers: Headers }> {
    const url = path.startsWith('http') ? path : `${this.apiUrl}${path}`;
    const octokit = await (this.octokit ??= makeOctokit(this.token, this.apiUrl));
    try {
      const res = await octokit.request({
        method,
        url,
        ...(body === undefined ? {} : { data: body }),
        ...(headers ? { headers } : {}),
      });
      return { data: res.data as T, headers: new Headers(res.headers as Record<string, string>) };
    } catch (e) {
      const err = e as { status?: number; message?: string; response?: { data?: unknown } };
      if (typeof err.status !== 'number') throw e;
      const data = err.response?.data;
      const message =
        (data as { message?: string } | undefined)?.message ??
        (typeof data === 'string' ? data.slice(0, 300) : (err.message ?? ''));
      throw new GitHubApiError(method, path, err.status === 500 && !err.response ? 0 : err.status, message);
    }
  }

  /**
   * The bytes behind a download endpoint. GitHub answers 302 to a signed storage URL, which is
   * fetched without the token (it must not leave for another host).
   */
  async download(path: string, accept?: string): Promise<Buffer> {
    const url = `${this.apiUrl}${path}`;
    const fail = (status: number, message: string) => new GitHubApiError('GET', path, status, message);
    let res: Response;
    try {
      res = await request(url, {
        headers: {
          authorization: `Bearer ${this.token}`,
          'user-agent': 'go-ship',
          'x-github-api-version': '2022-11-28',
          ...(accept ? { accept } : {}),
        },
        redirect: 'manual',
        timeoutMs: this.timeoutMs,
      });
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.arrayBuffer().catch(() => undefined);
        res = await request(new URL(location, url).toString(), { timeoutMs: this.timeoutMs });
      }
    } catch (e) {
      throw fail(0, (e as Error).message);
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
      // The token goes only to the API host: a Link elsewhere ends the list here.
      if (next && new URL(next, this.apiUrl).host !== new URL(this.apiUrl).host) {
        log.warning(
          `GET ${path}: the next page's link leaves ${new URL(this.apiUrl).host}; stopped at ${all.length} items.`,
        );
        next = undefined;
      }
    }
    return all;
  }
}

/** The pull request this run is for: pull_request and pull_request_target events. */
export function pullRequestOf(
  payload: Record<string, unknown>,
): { number: number; headSha: string } | undefined {
  const pr = payload.pull_request as { number?: number; head?: { sha?: string } } | undefined;
  return pr?.number ? { number: pr.number, headSha: pr.head?.sha ?? '' } : undefined;
}
