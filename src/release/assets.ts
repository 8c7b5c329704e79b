import {
  type GitHubRelease,
  type ReleaseAsset,
  assetBytes,
  deleteAsset,
  ensureRelease,
  publishDraft,
  uploadAsset,
} from '../github/releases.js';
import { GitHubApiError, GitHubClient } from '../github/rest.js';
import { UserError } from '../runner/errors.js';
import { formatBytes, log } from '../runner/log.js';
import * as workflow from '../runner/workflow.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/** What happened to one file: uploaded new, kept (same name and bytes there), or replaced (other bytes). */
export interface AttachedAsset {
  name: string;
  url: string;
  size: number;
  state: 'uploaded' | 'kept' | 'replaced';
}

export interface AttachResult {
  tag: string;
  url: string;
  assets: AttachedAsset[];
  /** go-ship created the release (as a draft) because the tag had none. */
  created: boolean;
  /** It was a draft and this run published it; false when it was public before (no draft to hold back). */
  publishedNow: boolean;
}

/**
 * Attaches files to the GitHub Release of `tag` the way GoReleaser's release pipe does, and safely
 * on re-runs: a file whose name and bytes are there already is kept (nothing uploaded), other bytes
 * replace it with a warning. A release that does not exist yet is created as a draft at `commit`;
 * a draft is published only after every asset is there, so nobody downloads a half-release.
 */
export async function attachAssets(
  token: string,
  tag: string,
  files: string[],
  o: { commit: string; prerelease: boolean },
): Promise<AttachResult> {
  if (!token)
    throw new UserError(
      'Input `release` needs `github-token` with `contents: write` (the default, `${{ github.token }}`, has it when the job grants `permissions: contents: write`).',
    );
  const { client, repo } = GitHubClient.fromEnv(token);
  try {
    const found = await ensureRelease(client, repo, {
      tag,
      body: `Release ${tag}`,
      prerelease: o.prerelease,
      draft: true,
      commit: o.commit || undefined,
    });
    let release: GitHubRelease = found.release;
    const assets: AttachedAsset[] = [];
    for (const file of files) {
      const name = basename(file);
      const data = readFileSync(file);
      const sha = createHash('sha256').update(data).digest('hex');
      const there = release.assets.find((a) => a.name === name);
      let state: AttachedAsset['state'] = 'uploaded';
      if (there) {
        if (await sameBytes(client, repo, there, data, sha)) {
          assets.push({ name, url: there.browser_download_url, size: there.size, state: 'kept' });
          continue;
        }
        workflow.warning(
          `Release ${tag} already has ${name} with other bytes (${there.digest ?? `${there.size} bytes`}); replacing it with this run's (sha256:${sha}).`,
        );
        await deleteAsset(client, repo, there.id);
        state = 'replaced';
      }
      const asset = await uploadAsset(client, release, name, data);
      log.info(`  ${state === 'replaced' ? 'replaced' : 'uploaded'} ${name} (${formatBytes(data.length)})`);
      assets.push({ name, url: asset.browser_download_url, size: asset.size, state });
    }
    const publishedNow = release.draft;
    if (release.draft) release = await publishDraft(client, repo, release);
    const count = (state: string) => assets.filter((a) => a.state === state).length;
    log.info(
      `Release ${tag}: ${count('uploaded')} uploaded, ${count('replaced')} replaced, ${count('kept')} already there${publishedNow ? '; published' : ''}: ${release.html_url}`,
    );
    return { tag, url: release.html_url, assets, created: found.action === 'created', publishedNow };
  } catch (e) {
    if (!(e instanceof GitHubApiError)) throw e;
    throw new UserError(
      `Attaching the release assets of ${tag} failed: ${e.message}.${e.status === 403 || e.status === 401 ? ' The token needs `contents: write` (permissions in the workflow).' : ''} The release stays a draft if go-ship made it; re-running the job uploads only what is missing.`,
    );
  }
}

/** Same bytes as the asset there: by GitHub's digest, or by downloading it where there is none. */
async function sameBytes(
  client: GitHubClient,
  repo: { owner: string; repo: string },
  asset: ReleaseAsset,
  data: Buffer,
  sha: string,
): Promise<boolean> {
  if (asset.size !== data.length) return false;
  if (asset.digest) return asset.digest === `sha256:${sha}`;
  const there = await assetBytes(client, repo, asset.id);
  return there.equals(data);
}
