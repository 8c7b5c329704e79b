import { join } from 'node:path';

export interface UploadedArtifact {
  id: string;
  size: number;
  /** `sha256:<hex>` of the zip as uploaded, as the artifact service records it. */
  digest: string;
}

/**
 * Uploads files of one folder as one artifact through @actions/artifact (the client
 * actions/upload-artifact@v4 and later use: the artifact service's current protocol, the zip streamed
 * to blob storage with retries, behind the runner's proxy). Loaded only here, so the actions that
 * never upload do not pay its start-up time. Needs ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN,
 * which the runner gives JavaScript actions (callers check first, to say so in their own words).
 */
export async function uploadArtifact(name: string, dir: string, files: string[]): Promise<UploadedArtifact> {
  const { DefaultArtifactClient } = await import('@actions/artifact');
  const r = await new DefaultArtifactClient().uploadArtifact(
    name,
    files.map((f) => join(dir, f)),
    dir,
  );
  return { id: String(r.id ?? ''), size: r.size ?? 0, digest: r.digest ?? '' };
}
