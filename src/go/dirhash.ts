import { createHash } from 'node:crypto';

/**
 * Go's dirhash "h1:" hash (golang.org/x/mod/sumdb/dirhash Hash1): sha256 over the lines
 * "<sha256 hex of file>  <file name>\n" in sorted name order, base64-encoded. It is what go.sum and
 * the checksum database record for a module zip.
 */
export function hash1(files: { name: string; sha256: string }[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (f.name.includes('\n')) throw new Error(`dirhash: file name with newline: ${JSON.stringify(f.name)}`);
    h.update(`${f.sha256}  ${f.name}\n`);
  }
  return `h1:${h.digest('base64')}`;
}
