import { existsSync, readFileSync } from 'node:fs';
import { readZip } from '../archive/zip-reader.js';
import { UserError } from '../runner/errors.js';
import { GitHubApiError, GitHubClient, type Repo } from '../github/rest.js';
import * as workflow from '../runner/workflow.js';
import { relative } from 'node:path';
import { formatPercent, percent, type Ratio } from './report.js';

/** What a base-branch run left behind: the figures of its JSON report that a comparison needs. */
export interface Baseline {
  /** Where it came from, for the summary: a path or `artifact NAME (run N, commit abc1234)`. */
  source: string;
  commit?: string;
  totalFunc: Ratio;
  packages: { pkg: string; func: Ratio }[];
}

function isRatio(x: unknown): x is Ratio {
  const r = x as Ratio | undefined;
  return Number.isInteger(r?.covered) && Number.isInteger(r?.total);
}

/** Reads the figures from a coverage-gate JSON report; anything else is an error that says what it got. */
export function parseBaseline(text: string, source: string): Baseline {
  let json: { totalFunc?: unknown; commit?: unknown; packages?: { pkg?: unknown; func?: unknown }[] };
  try {
    json = JSON.parse(text) as typeof json;
  } catch (e) {
    throw new UserError(`The baseline ${source} is not JSON (${(e as Error).message}); it must be the report-file of a coverage-gate run on the base branch.`);
  }
  if (!isRatio(json.totalFunc))
    throw new UserError(`The baseline ${source} has no \`totalFunc\`; it must be the report-file of a coverage-gate run on the base branch.`);
  return {
    source,
    commit: typeof json.commit === 'string' ? json.commit : undefined,
    totalFunc: { covered: json.totalFunc.covered, total: json.totalFunc.total },
    packages: (json.packages ?? [])
      .filter((p) => typeof p.pkg === 'string' && isRatio(p.func))
      .map((p) => ({ pkg: p.pkg as string, func: p.func as Ratio })),
  };
}

function readBaselineFile(path: string, label: string): Baseline | undefined {
  return existsSync(path) ? parseBaseline(readFileSync(path, 'utf8'), label) : undefined;
}

interface Artifact {
  id: number;
  name: string;
  expired: boolean;
  created_at: string;
  workflow_run?: {
    id?: number;
    head_branch?: string;
    head_sha?: string;
    repository_id?: number;
    head_repository_id?: number;
  };
}

/**
 * The newest unexpired artifact called `name` uploaded by a run of this repository's own code on
 * `branch`, downloaded through the REST API (needs `actions: read`), and the first `.json` file in
 * it. A fork's pull request runs in the base repository too, with its own `main`: the branch name
 * alone would let it supply the baseline, so the run's head repository must be this repository
 * (`repositoryId`, from GITHUB_REPOSITORY_ID, when known). Undefined when there is none.
 */
async function readBaselineArtifact(
  client: GitHubClient,
  { owner, repo }: Repo,
  name: string,
  branch: string,
  repositoryId?: number,
): Promise<Baseline | undefined> {
  const { data } = await client.request<{ artifacts: Artifact[] }>(
    'GET',
    `/repos/${owner}/${repo}/actions/artifacts?name=${encodeURIComponent(name)}&per_page=100`,
  );
  const found = data.artifacts
    .filter((a) => {
      const run = a.workflow_run;
      const own =
        run?.repository_id !== undefined &&
        run.head_repository_id === run.repository_id &&
        (repositoryId === undefined || run.repository_id === repositoryId);
      return a.name === name && !a.expired && run?.head_branch === branch && own;
    })
    .sort((a, b) => b.created_at.localeCompare(a.created_at))[0];
  if (!found) return undefined;
  const zip = await client.download(`/repos/${owner}/${repo}/actions/artifacts/${found.id}/zip`);
  // The artifact is data from another run: a damaged one is that run's (or the storage's) fault.
  const unreadable = (e: unknown) =>
    new UserError(
      `The baseline artifact ${name} (id ${found.id}) cannot be read: ${(e as Error).message}. Re-run the base branch's coverage-gate job to upload it again, or delete that artifact.`,
      { cause: e },
    );
  let entry: ReturnType<typeof readZip>[number] | undefined;
  try {
    entry = readZip(zip, `artifact ${name}`).find((e) => e.name.endsWith('.json'));
  } catch (e) {
    throw unreadable(e);
  }
  if (!entry) throw new UserError(`The baseline artifact ${name} (id ${found.id}) holds no .json file; upload coverage-gate's report-file under that name.`);
  const sha = found.workflow_run?.head_sha;
  let text: string;
  try {
    text = entry.read().toString('utf8');
  } catch (e) {
    throw unreadable(e);
  }
  return parseBaseline(
    text,
    `artifact ${name} (run ${found.workflow_run?.id ?? '?'}${sha ? `, commit ${sha.slice(0, 7)}` : ''})`,
  );
}

/** now >= base - maxDrop, in integers: both percentages and the allowance in tenths, cross-multiplied. */
export function withinDrop(now: Ratio, base: Ratio, maxDropTenths: number): boolean {
  if (now.total === 0 || base.total === 0) return true;
  const n = BigInt(now.covered) * 1000n * BigInt(base.total);
  const b = (BigInt(base.covered) * 1000n - BigInt(maxDropTenths) * BigInt(base.total)) * BigInt(now.total);
  return n >= b;
}

/** The change in percentage points as printed: `+0.4`, `-1.2`, `±0.0`. */
export function formatDelta(now: Ratio, base: Ratio): string {
  const d = percent(now) - percent(base);
  const text = formatPercent(Math.abs(d));
  return text === '0.0' ? '±0.0' : `${d > 0 ? '+' : '-'}${text}`;
}

/** Where the base branch's figures are: a report-file, or an artifact of the base branch's runs. */
export type BaselineSpec = { kind: 'file'; path: string } | { kind: 'artifact'; name: string };

/**
 * The base branch's figures, or undefined (with a notice saying why) when there are none yet. An
 * artifact that cannot be read (the token lacks `actions: read`) is a warning, not a failure.
 */
export async function findBaseline(
  spec: BaselineSpec,
  o: { workspace: string; token: string; judgesDrop: boolean },
): Promise<Baseline | undefined> {
  const missing = (where: string) => {
    workflow.notice(
      `No baseline yet (${where}): the delta is not shown${o.judgesDrop ? ' and max-drop is not judged' : ''}. The base branch's coverage-gate run provides it (see the README's baseline section).`,
    );
    return undefined;
  };
  if (spec.kind === 'file') {
    const inside = relative(o.workspace, spec.path);
    return readBaselineFile(spec.path, inside.startsWith('..') ? spec.path : inside) ?? missing(`no file ${spec.path}`);
  }
  const branch = process.env.GITHUB_BASE_REF || workflow.defaultBranch();
  if (!branch) return missing('neither a pull request base branch nor the default branch is known');
  try {
    const { client, repo } = GitHubClient.fromEnv(o.token);
    return (
      (await readBaselineArtifact(client, repo, spec.name, branch, repositoryIdOf(workflow.eventPayload()))) ??
      missing(`no unexpired artifact \`${spec.name}\` from branch ${branch}`)
    );
  } catch (e) {
    if (!(e instanceof GitHubApiError)) throw e;
    workflow.warning(
      `Could not read the baseline artifact \`${spec.name}\`: ${e.message}.${e.status === 403 || e.status === 401 ? ' The token needs `actions: read` (permissions in the workflow).' : ''} The delta is not shown and max-drop is not judged.`,
    );
    return undefined;
  }
}

/** This repository's id: the runner's GITHUB_REPOSITORY_ID, else the event's repository. */
function repositoryIdOf(payload: Record<string, unknown>): number | undefined {
  const id = Number(process.env.GITHUB_REPOSITORY_ID || (payload.repository as { id?: number } | undefined)?.id);
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}
