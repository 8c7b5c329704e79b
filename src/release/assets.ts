import {
  type GitHubRelease,
  type ReleaseAsset,
  assetBytes,
  deleteAsset,
  ensureRelease,
  isGoShipDraft,
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
 * on re-runs: a file whose name and bytes are there already is kept (nothing uploaded); other bytes
 * replace it in a draft, with a warning, and are refused on a published release (as GoReleaser does
 * without replace_existing_artifacts). A release that does not exist yet is created as a draft at
 * `commit`; go-ship's draft is published only after every asset is there, so nobody downloads a
 * half-release, and someone else's draft is left a draft.
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
    // A draft go-ship made (now or in an earlier run of this release) is go-ship's to publish; one a
    // person or another tool made (release notes being written) is theirs, and stays a draft.
    const ours = isGoShipDraft(release);
    const planned = [];
    for (const file of files) {
      const name = basename(file);
      const data = readFileSync(file);
      const sha = createHash('sha256').update(data).digest('hex');
      const there = release.assets.find((a) => a.name === name);
      const same = there ? await sameBytes(client, repo, there, data, sha) : false;
      planned.push({ name, data, sha, there, same });
    }
    // Files people may have downloaded are not swapped: checked for every file before any change.
    const differing = planned.filter((p) => p.there && !p.same);
    if (!release.draft && differing.length)
      throw new UserError(
        `Release ${tag} is published and already has ${differing.map((p) => `${p.name} (${p.there!.digest ?? `${p.there!.size} bytes`}; this build: sha256:${p.sha})`).join(', ')} with other bytes. People may have downloaded those files, so go-ship does not replace them, and nothing was changed. go-ship's builds are reproducible: other bytes mean another commit, toolchain or flags. Release a new version, or delete those assets on GitHub and re-run if the published ones are wrong.`,
      );
    const assets: AttachedAsset[] = [];
    for (const { name, data, sha, there, same } of planned) {
      if (there && same) {
        assets.push({ name, url: there.browser_download_url, size: there.size, state: 'kept' });
        continue;
      }
      if (there) {
        // Only ever in a draft, which nobody downloads from.
        workflow.warning(
          `Release ${tag} (a draft) already has ${name} with other bytes (${there.digest ?? `${there.size} bytes`}); replacing it with this run's (sha256:${sha}).`,
        );
        await deleteAsset(client, repo, there.id);
      }
      const state: AttachedAsset['state'] = there ? 'replaced' : 'uploaded';
      const asset = await uploadAsset(client, release, name, data);
      log.info(`  ${state} ${name} (${formatBytes(data.length)})`);
      assets.push({ name, url: asset.browser_download_url, size: asset.size, state });
    }
    const publishedNow = ours;
    if (ours) release = await publishDraft(client, repo, release);
    else if (release.draft)
      workflow.notice(
        `Release ${tag} is a draft that go-ship did not make; its assets are attached and it stays a draft for whoever made it to publish.`,
      );
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
