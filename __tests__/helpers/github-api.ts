import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { readBody, startServer, type LoopbackServer } from './server.js';

export interface FakeComment {
  id: number;
  body: string;
  html_url: string;
  /** Who wrote it; comments the token posts are GITHUB_TOKEN's bot. */
  user?: { login: string; type: string };
}

/** The repository id the fake answers for o/r; a fork's runs carry another head repository id. */
export const REPOSITORY_ID = 4242;

export interface FakeArtifact {
  id: number;
  name: string;
  expired: boolean;
  created_at: string;
  branch: string;
  headSha: string;
  /** The run's head repository: REPOSITORY_ID unless the run came from a fork. */
  headRepositoryId?: number;
  zip: Buffer;
}

export interface GitHubApi extends LoopbackServer {
  comments: Map<number, FakeComment[]>;
  /** `METHOD path authorization` of every call, to check the token went where it should. */
  calls: { method: string; path: string; auth: string | undefined }[];
  pulls: Map<number, { headSha: string }>;
  artifacts: FakeArtifact[];
  /** GET /repos/o/r/commits/{sha}/pulls answers. */
  commitPulls: Map<
    string,
    { number: number; merged_at: string | null; merge_commit_sha: string; labels: { name: string }[] }[]
  >;
  releases: FakeRelease[];
  deployments: FakeDeployment[];
}

/** A Deployment as GET /repos/{o}/{r}/deployments answers, with its statuses oldest first. */
export interface FakeDeployment {
  id: number;
  ref: string;
  sha: string;
  environment: string;
  description: string;
  payload: Record<string, unknown>;
  production_environment: boolean;
  transient_environment: boolean;
  statuses: { id: number; state: string; description: string; environment_url: string; log_url: string }[];
}

export interface FakeRelease {
  id: number;
  tag_name: string;
  name: string;
  body: string;
  prerelease: boolean;
  draft: boolean;
  target_commitish?: string;
  html_url: string;
  upload_url: string;
  assets: FakeAsset[];
}

export interface FakeAsset {
  id: number;
  name: string;
  size: number;
  /** `sha256:<hex>` as github.com computes it; omitted with `noDigests` (older servers). */
  digest?: string;
  browser_download_url: string;
  data: Buffer;
}

async function body(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : undefined;
}

/**
 * A loopback server that answers like GitHub's REST endpoints go-ship uses (issue comments with
 * `Link` pagination, pulls, workflow artifacts with a 302 to a storage URL). `readOnly` answers
 * writes the way a fork's pull-request token is answered: 403 "Resource not accessible by integration".
 */
export async function startGitHubApi(opts: {
  token: string;
  readOnly?: boolean;
  pageSize?: number;
  /** Release assets without `digest`, as GitHub Enterprise Server before it had them. */
  noDigests?: boolean;
}): Promise<GitHubApi> {
  const comments = new Map<number, FakeComment[]>();
  const calls: GitHubApi['calls'] = [];
  const pulls = new Map<number, { headSha: string }>();
  const artifacts: FakeArtifact[] = [];
  const commitPulls: GitHubApi['commitPulls'] = new Map();
  const releases: GitHubApi['releases'] = [];
  const deployments: FakeDeployment[] = [];
  let nextId = 1000;
  const server = await startServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    calls.push({
      method: req.method ?? '',
      path: url.pathname + url.search,
      auth: req.headers.authorization,
    });
    const json = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(data));
    };
    if (url.pathname.startsWith('/storage/')) {
      const a = artifacts.find((x) => `/storage/${x.id}.zip` === url.pathname);
      if (!a || req.headers.authorization) return json(400, { message: 'signed URL: no Authorization' });
      res.writeHead(200, { 'content-type': 'application/zip' });
      res.end(a.zip);
      return;
    }
    if (req.headers.authorization?.replace(/^token /, 'Bearer ') !== `Bearer ${opts.token}`)
      return json(401, { message: 'Bad credentials' });
    let m: RegExpExecArray | null;
    if ((m = /^\/repos\/o\/r\/issues\/(\d+)\/comments$/.exec(url.pathname))) {
      const issue = Number(m[1]);
      const list = comments.get(issue) ?? [];
      if (req.method === 'GET') {
        const size = opts.pageSize ?? Number(url.searchParams.get('per_page') ?? 30);
        const page = Number(url.searchParams.get('page') ?? 1);
        const last = Math.max(1, Math.ceil(list.length / size));
        const link =
          page < last
            ? { link: `<${server.url}${url.pathname}?per_page=${size}&page=${page + 1}>; rel="next"` }
            : undefined;
        return json(200, list.slice((page - 1) * size, page * size), link);
      }
      if (req.method === 'POST') {
        if (opts.readOnly) return json(403, { message: 'Resource not accessible by integration' });
        const c = {
          id: nextId++,
          body: ((await body(req)) as { body: string }).body,
          html_url: '',
          user: { login: 'github-actions[bot]', type: 'Bot' },
        };
        c.html_url = `https://github.com/o/r/pull/${issue}#issuecomment-${c.id}`;
        comments.set(issue, [...list, c]);
        return json(201, c);
      }
    }
    if ((m = /^\/repos\/o\/r\/issues\/comments\/(\d+)$/.exec(url.pathname)) && req.method === 'PATCH') {
      if (opts.readOnly) return json(403, { message: 'Resource not accessible by integration' });
      const c = [...comments.values()].flat().find((x) => x.id === Number(m![1]));
      if (!c) return json(404, { message: 'Not Found' });
      c.body = ((await body(req)) as { body: string }).body;
      return json(200, c);
    }
    if ((m = /^\/repos\/o\/r\/pulls\/(\d+)$/.exec(url.pathname))) {
      const pr = pulls.get(Number(m[1]));
      return pr
        ? json(200, { number: Number(m[1]), head: { sha: pr.headSha } })
        : json(404, { message: 'Not Found' });
    }
    if ((m = /^\/repos\/o\/r\/commits\/([0-9a-f]{40})\/pulls$/.exec(url.pathname)))
      return json(200, commitPulls.get(m[1]) ?? []);
    // Releases as GitHub keeps them: drafts are listed but not found by tag; assets are uploaded to
    // the release's upload_url (uploads.github.com there, /uploads here) with their bytes as the body.
    // Deployments and their statuses as docs.github.com/rest/deployments documents them: a 422 for a
    // state it does not know or a description past 140 characters, auto_inactive (default true)
    // retiring earlier successful deployments of the environment unless it is production or transient.
    if (url.pathname === '/repos/o/r/deployments' && req.method === 'POST') {
      if (opts.readOnly) return json(403, { message: 'Resource not accessible by integration' });
      const d = (await body(req)) as Partial<FakeDeployment> & { ref?: string };
      if (!d.ref) return json(422, { message: 'Invalid request. "ref" wasn\'t supplied.' });
      if ((d.description ?? '').length > 140) return json(422, { message: 'description is too long' });
      const environment = d.environment ?? 'production';
      const dep: FakeDeployment = {
        id: nextId++,
        ref: d.ref,
        sha: /^[0-9a-f]{40}$/.test(d.ref) ? d.ref : 'f'.repeat(40),
        environment,
        description: d.description ?? '',
        payload: (d.payload as Record<string, unknown>) ?? {},
        production_environment: d.production_environment ?? environment === 'production',
        transient_environment: d.transient_environment ?? false,
        statuses: [],
      };
      deployments.push(dep);
      return json(201, withoutStatuses(dep));
    }
    if (url.pathname === '/repos/o/r/deployments' && req.method === 'GET') {
      const env = url.searchParams.get('environment');
      return json(
        200,
        [...deployments]
          .reverse()
          .filter((d) => !env || d.environment === env)
          .map(withoutStatuses),
      );
    }
    if ((m = /^\/repos\/o\/r\/deployments\/(\d+)\/statuses$/.exec(url.pathname))) {
      const dep = deployments.find((d) => d.id === Number(m![1]));
      if (!dep) return json(404, { message: 'Not Found' });
      if (req.method === 'GET') {
        const per = Number(url.searchParams.get('per_page') ?? 30);
        return json(200, [...dep.statuses].reverse().slice(0, per));
      }
      if (req.method === 'POST') {
        if (opts.readOnly) return json(403, { message: 'Resource not accessible by integration' });
        const st = (await body(req)) as {
          state?: string;
          description?: string;
          environment_url?: string;
          log_url?: string;
          auto_inactive?: boolean;
        };
        const states = ['error', 'failure', 'inactive', 'in_progress', 'queued', 'pending', 'success'];
        if (!st.state || !states.includes(st.state))
          return json(422, { message: `state ${st.state} is not valid` });
        if ((st.description ?? '').length > 140) return json(422, { message: 'description is too long' });
        const status = {
          id: nextId++,
          state: st.state,
          description: st.description ?? '',
          environment_url: st.environment_url ?? '',
          log_url: st.log_url ?? '',
        };
        dep.statuses.push(status);
        if (st.state === 'success' && st.auto_inactive !== false)
          for (const other of deployments)
            if (
              other !== dep &&
              other.environment === dep.environment &&
              !other.production_environment &&
              !other.transient_environment &&
              other.statuses.at(-1)?.state === 'success'
            )
              other.statuses.push({ ...status, id: nextId++, state: 'inactive' });
        return json(201, status);
      }
    }
    const release = (id: number) => releases.find((x) => x.id === id);
    const assetJson = (a: FakeAsset) => ({
      id: a.id,
      name: a.name,
      size: a.size,
      digest: a.digest,
      browser_download_url: a.browser_download_url,
    });
    const shown = (r: FakeRelease) => ({ ...r, assets: r.assets.map(assetJson) });
    if (url.pathname === '/repos/o/r/releases' && req.method === 'GET')
      return json(200, [...releases].reverse().map(shown));
    if (url.pathname === '/repos/o/r/releases' && req.method === 'POST') {
      if (opts.readOnly) return json(403, { message: 'Resource not accessible by integration' });
      const r = (await body(req)) as Partial<FakeRelease>;
      if (!r.draft && releases.some((x) => x.tag_name === r.tag_name && !x.draft))
        return json(422, {
          message: 'Validation Failed',
          errors: [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }],
        });
      const id = nextId++;
      const rel: FakeRelease = {
        id,
        tag_name: r.tag_name!,
        name: r.name ?? r.tag_name!,
        body: r.body ?? '',
        prerelease: r.prerelease ?? false,
        draft: r.draft ?? false,
        target_commitish: r.target_commitish,
        html_url: `https://github.com/o/r/releases/tag/${r.tag_name}`,
        upload_url: `${server.url}/uploads/repos/o/r/releases/${id}/assets{?name,label}`,
        assets: [],
      };
      releases.push(rel);
      return json(201, shown(rel));
    }
    if ((m = /^\/repos\/o\/r\/releases\/tags\/(.+)$/.exec(url.pathname))) {
      const rel = releases.find((x) => x.tag_name === decodeURIComponent(m![1]) && !x.draft);
      return rel ? json(200, shown(rel)) : json(404, { message: 'Not Found' });
    }
    if ((m = /^\/repos\/o\/r\/releases\/(\d+)$/.exec(url.pathname)) && req.method === 'PATCH') {
      const rel = release(Number(m[1]));
      if (!rel) return json(404, { message: 'Not Found' });
      Object.assign(rel, { draft: ((await body(req)) as { draft?: boolean }).draft ?? rel.draft });
      return json(200, shown(rel));
    }
    if (
      (m = /^\/uploads\/repos\/o\/r\/releases\/(\d+)\/assets$/.exec(url.pathname)) &&
      req.method === 'POST'
    ) {
      const rel = release(Number(m[1]));
      const name = url.searchParams.get('name') ?? '';
      if (!rel) return json(404, { message: 'Not Found' });
      if (req.headers['content-type'] !== 'application/octet-stream')
        return json(400, { message: `content-type ${req.headers['content-type']}` });
      if (rel.assets.some((a) => a.name === name))
        return json(422, {
          message: 'Validation Failed',
          errors: [{ resource: 'ReleaseAsset', code: 'already_exists', field: 'name' }],
        });
      const data = await readBody(req);
      const asset: FakeAsset = {
        id: nextId++,
        name,
        size: data.length,
        ...(opts.noDigests ? {} : { digest: `sha256:${createHash('sha256').update(data).digest('hex')}` }),
        browser_download_url: `https://github.com/o/r/releases/download/${rel.tag_name}/${name}`,
        data,
      };
      rel.assets.push(asset);
      return json(201, assetJson(asset));
    }
    if ((m = /^\/repos\/o\/r\/releases\/assets\/(\d+)$/.exec(url.pathname))) {
      const id = Number(m[1]);
      const rel = releases.find((r) => r.assets.some((a) => a.id === id));
      const asset = rel?.assets.find((a) => a.id === id);
      if (!rel || !asset) return json(404, { message: 'Not Found' });
      if (req.method === 'DELETE') {
        rel.assets = rel.assets.filter((a) => a.id !== id);
        res.writeHead(204);
        res.end();
        return;
      }
      if (req.headers.accept === 'application/octet-stream') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(asset.data);
        return;
      }
      return json(200, assetJson(asset));
    }
    if (url.pathname === '/repos/o/r/actions/artifacts') {
      const name = url.searchParams.get('name');
      const list = artifacts.filter((a) => !name || a.name === name);
      return json(200, {
        total_count: list.length,
        artifacts: list.map((a) => ({
          id: a.id,
          name: a.name,
          expired: a.expired,
          created_at: a.created_at,
          archive_download_url: `${server.url}/repos/o/r/actions/artifacts/${a.id}/zip`,
          workflow_run: {
            id: a.id + 1,
            head_branch: a.branch,
            head_sha: a.headSha,
            repository_id: REPOSITORY_ID,
            head_repository_id: a.headRepositoryId ?? REPOSITORY_ID,
          },
        })),
      });
    }
    if ((m = /^\/repos\/o\/r\/actions\/artifacts\/(\d+)\/zip$/.exec(url.pathname))) {
      res.writeHead(302, { location: `${server.url}/storage/${m[1]}.zip` });
      res.end();
      return;
    }
    json(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
  });
  return Object.assign(server, { comments, calls, pulls, artifacts, commitPulls, releases, deployments });
}

/** A Deployment as the API shows it: its statuses are a separate endpoint. */
function withoutStatuses(d: FakeDeployment): Omit<FakeDeployment, 'statuses'> {
  return Object.fromEntries(Object.entries(d).filter(([k]) => k !== 'statuses')) as Omit<
    FakeDeployment,
    'statuses'
  >;
}
