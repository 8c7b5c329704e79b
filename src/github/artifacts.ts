import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../runner/errors.js';
import { GlobSet } from '../runner/glob.js';

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

export interface DownloadedArtifact {
  name: string;
  id: number;
  dir: string;
}

/**
 * Downloads this run's artifacts whose names match `patterns` (the newest of each name) through
 * @actions/artifact, each into its own folder under `into`, checked against the digest the artifact
 * service recorded at upload. Folder names are made from the index and the name's safe characters,
 * never the name alone (an artifact called `..` must not land beside `into`).
 */
export async function downloadArtifacts(patterns: string[], into: string): Promise<DownloadedArtifact[]> {
  const { DefaultArtifactClient } = await import('@actions/artifact');
  const client = new DefaultArtifactClient();
  const match = new GlobSet(patterns, 'merge-artifacts');
  const { artifacts } = await client.listArtifacts({ latest: true });
  const wanted = artifacts.filter((a) => match.matches(a.name)).sort((a, b) => a.name.localeCompare(b.name));
  const out: DownloadedArtifact[] = [];
  for (const [i, a] of wanted.entries()) {
    const dir = join(into, `${i + 1}-${a.name.replace(/[^\w.-]/g, '_').replace(/^\.+/, '')}`);
    mkdirSync(dir, { recursive: true });
    const r = await client
      .downloadArtifact(a.id, {
        path: dir,
        // The service records `sha256:<hex>`; the client compares its own digest in that form.
        ...(a.digest
          ? { expectedHash: a.digest.startsWith('sha256:') ? a.digest : `sha256:${a.digest}` }
          : {}),
      })
      .catch((e: Error) => {
        throw new UserError(
          `Downloading artifact ${a.name} (id ${a.id}) failed: ${e.message}. If it keeps failing, the artifact is damaged: re-run the shard that uploaded it.`,
        );
      });
    if (r.digestMismatch)
      throw new UserError(
        `Artifact ${a.name} (id ${a.id}) does not match the digest recorded when it was uploaded (${a.digest}); it was changed or damaged on the way. Re-run the shard that uploaded it.`,
      );
    out.push({ name: a.name, id: a.id, dir });
  }
  return out;
}
