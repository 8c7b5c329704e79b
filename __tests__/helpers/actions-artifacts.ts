import { startAzurite, type BlobStorage } from './azurite.js';
import { readBody, startServer, type LoopbackServer } from './server.js';

export interface StoredArtifact {
  name: string;
  run: string;
  job: string;
  blob?: Buffer;
  size?: string;
  hash?: string;
  finalized: boolean;
}

/** A runtime token shaped like the runner's: a JWT whose `scp` claim names the run and job. */
export function runtimeToken(run = 'run-123', job = 'job-456'): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ scp: `Actions.GenericRead:abc Actions.Results:${run}:${job}` })}.sig`;
}

/**
 * A loopback stand-in for the Actions artifact service (v4) as @actions/artifact calls it: Twirp JSON
 * under /twirp/github.actions.results.api.v1.ArtifactService/<Method> with proto field names, and
 * signed URLs into a real blob store (azurite), where GitHub's client uploads the zip with the Azure SDK.
 */
export async function startArtifactService(): Promise<
  LoopbackServer & {
    artifacts: StoredArtifact[];
    calls: { method: string; body: Record<string, unknown> }[];
    storage: BlobStorage;
  }
> {
  const artifacts: StoredArtifact[] = [];
  const calls: { method: string; body: Record<string, unknown> }[] = [];
  const storage = await startAzurite(['artifacts']);
  const server = await startServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const body = await readBody(req);
    const m = /^\/twirp\/github\.actions\.results\.api\.v1\.ArtifactService\/(\w+)$/.exec(path);
    const json = (status: number, o: object): void =>
      void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(o));
    if (!m) return json(404, { code: 'bad_route', msg: path });
    const req_ = JSON.parse(body.toString('utf8')) as Record<string, string>;
    calls.push({ method: m[1], body: req_ });
    if (m[1] === 'CreateArtifact') {
      if (artifacts.some((a) => a.name === req_.name && a.finalized))
        return json(409, { code: 'already_exists', msg: 'artifact exists' });
      artifacts.push({
        name: req_.name,
        run: req_.workflow_run_backend_id,
        job: req_.workflow_job_run_backend_id,
        finalized: false,
      });
      const blob = `${artifacts.length - 1}.zip`;
      return json(200, { ok: true, signed_upload_url: storage.signedUrl('artifacts', blob, 'cw') });
    }
    if (m[1] === 'FinalizeArtifact') {
      const a = artifacts.find((x) => x.name === req_.name && !x.finalized);
      const stored = a && (await storage.read('artifacts', `${artifacts.indexOf(a)}.zip`));
      if (!a || !stored) return json(404, { code: 'not_found', msg: 'no upload' });
      Object.assign(a, { blob: stored, size: req_.size, hash: req_.hash, finalized: true });
      return json(200, { ok: true, artifact_id: String(artifacts.indexOf(a) + 1) });
    }
    if (m[1] === 'ListArtifacts') {
      // This run's finalized artifacts; id_filter is an Int64Value, which proto JSON writes as a string.
      const list = artifacts
        .map((a, i) => ({ a, id: i + 1 }))
        .filter(
          ({ a, id }) =>
            a.finalized &&
            a.run === req_.workflow_run_backend_id &&
            (!req_.id_filter || String(req_.id_filter) === String(id)),
        );
      return json(200, {
        artifacts: list.map(({ a, id }) => ({
          workflow_run_backend_id: a.run,
          workflow_job_run_backend_id: a.job,
          database_id: String(id),
          name: a.name,
          size: a.size,
          created_at: new Date(1_700_000_000_000 + id * 1000).toISOString(),
          digest: a.hash,
        })),
      });
    }
    if (m[1] === 'GetSignedArtifactURL') {
      const i = artifacts.findIndex(
        (x) => x.finalized && x.name === req_.name && x.run === req_.workflow_run_backend_id,
      );
      if (i < 0) return json(404, { code: 'not_found', msg: 'no such artifact' });
      return json(200, { signed_url: storage.signedUrl('artifacts', `${i}.zip`, 'r') });
    }
    return json(404, { code: 'bad_route', msg: m[1] });
  });
  const close = server.close;
  return Object.assign(server, {
    artifacts,
    calls,
    storage,
    close: async () => {
      await close();
      await storage.stop();
    },
  });
}
