import { GitHubApiError, GitHubClient, type Repo } from './rest.js';

export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

interface Deployment {
  id: number;
  environment: string;
}

interface DeploymentStatus {
  state: DeploymentState;
}

/** GitHub caps a status description at 140 characters (422 past it). */
const describe = (text: string): string => (text.length > 140 ? `${text.slice(0, 139)}…` : text);

/**
 * GitHub Deployments for one repository, as the REST API documents them: a deploy, promotion or
 * rollback is a Deployment of its environment (the commit, the version in its payload) with
 * statuses in progress → success or failure, the environment URL on the last one. When a new one
 * succeeds, the environment's earlier deployments that had succeeded get an `inactive` status, so
 * the Environments page shows one live version; GitHub's own `auto_inactive` skips production
 * environments, so go-ship retires them itself.
 */
export class DeploymentLog {
  constructor(
    private readonly client: GitHubClient,
    private readonly repo: Repo,
  ) {}

  /** On a runner (a token and GITHUB_REPOSITORY), else undefined: outside GitHub there is nothing to record. */
  static fromEnv(token: string | undefined, env = process.env): DeploymentLog | undefined {
    if (!token || !env.GITHUB_REPOSITORY) return undefined;
    const { client, repo } = GitHubClient.fromEnv(token, env);
    return new DeploymentLog(client, repo);
  }

  private get base(): string {
    return `/repos/${this.repo.owner}/${this.repo.repo}/deployments`;
  }

  /** Creates the Deployment and its `in_progress` status; returns its id. */
  async begin(o: {
    ref: string;
    environment: string;
    description: string;
    payload: Record<string, string>;
    logUrl?: string;
  }): Promise<number> {
    const { data } = await this.client.request<Deployment>('POST', this.base, {
      ref: o.ref,
      environment: o.environment,
      description: describe(o.description),
      payload: o.payload,
      // go-ship deploys what the pipeline already checked: no merge of the default branch, no
      // required commit statuses.
      auto_merge: false,
      required_contexts: [],
    });
    await this.status(data.id, 'in_progress', { logUrl: o.logUrl, description: o.description });
    return data.id;
  }

  /** The last status; on success, the environment's earlier successful deployments end inactive. */
  async end(
    id: number,
    environment: string,
    state: 'success' | 'failure' | 'error',
    o: { environmentUrl?: string; logUrl?: string; description: string },
  ): Promise<void> {
    await this.status(id, state, o);
    if (state === 'success') await this.retireBefore(id, environment);
  }

  private async status(
    id: number,
    state: DeploymentState,
    o: { environmentUrl?: string; logUrl?: string; description: string },
  ): Promise<void> {
    await this.client.request('POST', `${this.base}/${id}/statuses`, {
      state,
      description: describe(o.description),
      ...(o.logUrl ? { log_url: o.logUrl } : {}),
      ...(o.environmentUrl ? { environment_url: o.environmentUrl } : {}),
      // Retiring is done below for every kind of environment, production included.
      auto_inactive: false,
    });
  }

  private async retireBefore(id: number, environment: string): Promise<void> {
    const earlier = (
      await this.client.paginate<Deployment>(`${this.base}?environment=${encodeURIComponent(environment)}`, 3)
    ).filter((d) => d.id !== id && d.environment === environment);
    for (const d of earlier) {
      const { data: latest } = await this.client.request<DeploymentStatus[]>(
        'GET',
        `${this.base}/${d.id}/statuses?per_page=1`,
      );
      if (latest[0]?.state === 'success')
        await this.status(d.id, 'inactive', { description: `Replaced by deployment ${id}` });
    }
  }
}

/** What a refusal means for the user: the permission the token lacks. */
export function deploymentsProblem(e: unknown): string {
  if (e instanceof GitHubApiError && (e.status === 403 || e.status === 404))
    return `${e.message}. The workflow's token needs \`deployments: write\` (permissions:), or set github-token to empty to skip GitHub Deployments.`;
  return (e as Error).message;
}
