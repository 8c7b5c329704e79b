import { UserError } from '../runner/errors.js';
import { httpGetText } from '../runner/http.js';

/** A release in the Go download listing (`<base>/?mode=json&include=all`). */
export interface GoRelease {
  version: string;
  stable: boolean;
  files: GoFile[];
}

export interface GoFile {
  filename: string;
  os: string;
  arch: string;
  version: string;
  sha256: string;
  size: number;
  kind: 'archive' | 'installer' | 'source';
}

export const DEFAULT_DOWNLOAD_BASE_URL = 'https://go.dev/dl';

export function listingUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/?mode=json&include=all`;
}

export async function fetchListing(baseUrl: string, timeoutMs = 30_000): Promise<GoRelease[]> {
  const url = listingUrl(baseUrl);
  const text = await httpGetText(url, { timeoutMs });
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UserError(
      `The Go download listing at ${url} is not JSON. Check go-download-base-url: it should serve the same listing as the official download page with ?mode=json.`,
    );
  }
  if (!Array.isArray(data) || data.some((r) => typeof r?.version !== 'string' || !Array.isArray(r?.files))) {
    throw new UserError(
      `The Go download listing at ${url} does not have the expected shape ([{version, stable, files}]).`,
    );
  }
  return data as GoRelease[];
}

/** The archive (not installer or source) for one platform. */
export function findArchive(release: GoRelease, goos: string, goarch: string): GoFile | undefined {
  return release.files.find((f) => f.kind === 'archive' && f.os === goos && f.arch === goarch);
}
