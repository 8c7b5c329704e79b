import { zip } from '../build/archive.js';
import { sha256 } from '../build/manifest.js';
import { UserError } from '../runner/errors.js';
import { maskSignedUrl } from '../runner/http.js';
import { putBlob, ResultsService } from '../runner/results-service.js';

const SERVICE = 'github.actions.results.api.v1.ArtifactService';

/**
 * The run and job the runtime token belongs to: its `scp` claim holds
 * `Actions.Results:<workflow run backend id>:<job run backend id>`, as @actions/artifact reads it.
 */
export function backendIds(token: string): { run: string; job: string } {
  const payload = token.split('.')[1];
  let scp = '';
  try {
    scp = String(
      (JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as { scp?: string }).scp ?? '',
    );
  } catch {
    // not a JWT: handled below
  }
  const scope = scp.split(' ').find((s) => s.startsWith('Actions.Results:'));
  const [, run, job] = scope?.split(':') ?? [];
  if (!run || !job)
    throw new UserError(
      'ACTIONS_RUNTIME_TOKEN has no Actions.Results scope; artifacts can only be uploaded from a GitHub Actions job.',
    );
  return { run, job };
}

export interface UploadedArtifact {
  id: string;
  size: number;
  sha256: string;
}

/**
 * Uploads files as one artifact (v4: a zip, like actions/upload-artifact@v4 makes), through
 * CreateArtifact, a block-blob PUT and FinalizeArtifact. Needs ACTIONS_RESULTS_URL and
 * ACTIONS_RUNTIME_TOKEN, which the runner gives JavaScript actions.
 */
export async function uploadArtifact(
  name: string,
  files: { name: string; data: Buffer }[],
  mtime: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<UploadedArtifact> {
  const url = env.ACTIONS_RESULTS_URL;
  const token = env.ACTIONS_RUNTIME_TOKEN;
  if (!url || !token)
    throw new UserError(
      'Artifacts can only be uploaded on a GitHub Actions runner (ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN are not set).',
    );
  const ids = backendIds(token);
  const service = new ResultsService(url, token);
  const body = await zip(
    files.map((f) => ({ ...f, executable: false })),
    mtime,
  );
  const created = await service.call(SERVICE, 'CreateArtifact', {
    workflow_run_backend_id: ids.run,
    workflow_job_run_backend_id: ids.job,
    name,
    version: 4,
  });
  const signed = created.signed_upload_url as string | undefined;
  if (!created.ok || !signed) throw new Error(`the artifact service did not accept artifact ${name}`);
  maskSignedUrl(signed);
  await putBlob(signed, body, `artifact ${name}`);
  const hash = sha256(body);
  const done = await service.call(SERVICE, 'FinalizeArtifact', {
    workflow_run_backend_id: ids.run,
    workflow_job_run_backend_id: ids.job,
    name,
    size: String(body.length),
    hash: `sha256:${hash}`,
  });
  if (!done.ok) throw new Error(`the artifact service did not finalize artifact ${name}`);
  return { id: String(done.artifact_id ?? ''), size: body.length, sha256: hash };
}
