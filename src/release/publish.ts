import { log } from '../runner/log.js';
import { type AttachResult, attachAssets } from './assets.js';
import { type SignSpec, signFiles } from './sign.js';
import { join } from 'node:path';

/**
 * What happens to a build's files after they are written, in GoReleaser's order: sign (the
 * checksums file, or every file), then attach everything, signatures included, to the tag's GitHub
 * Release and publish it. `files` and `checksums` are names in `dir`.
 */
export async function publishFiles(
  dir: string,
  files: string[],
  checksums: string | undefined,
  o: { sign: SignSpec; release?: string; githubToken: string; commit: string; prerelease: boolean },
): Promise<{ signatures: string[]; release?: AttachResult }> {
  const all = [...files, ...(checksums ? [checksums] : [])];
  const toSign = o.sign.what === 'all' ? all : o.sign.what === 'checksum' && checksums ? [checksums] : [];
  const signatures = toSign.length
    ? await log.group(`Sign ${toSign.length} file(s) with ${o.sign.cmd}`, () =>
        signFiles(dir, toSign, o.sign),
      )
    : [];
  if (!o.release) return { signatures };
  const assets = [...all.map((f) => join(dir, f)), ...signatures];
  const release = await log.group(`Attach ${assets.length} assets to the release ${o.release}`, () =>
    attachAssets(o.githubToken, o.release!, assets, { commit: o.commit, prerelease: o.prerelease }),
  );
  return { signatures, release };
}
