import { statSync } from 'node:fs';
import { runCommand } from '../runner/command.js';
import { UserError } from '../runner/errors.js';

/**
 * Cache archives are tar files made by the system tar, compressed with zstd when it is on PATH
 * (setup-go#372: gzip saves took twice as long) and gzip otherwise. The compression is part of the
 * cache version, so a runner without zstd never restores an entry it cannot read.
 */
export type Compression = 'zstd' | 'gzip';

let detected: Compression | undefined;

export async function compression(): Promise<Compression> {
  if (!detected) {
    const r = await runCommand('zstd', ['--version'], { check: false }).catch(() => undefined);
    detected = r?.code === 0 ? 'zstd' : 'gzip';
  }
  return detected;
}

function compressFlags(c: Compression): string[] {
  // tar splits the program string on blanks itself; no shell is involved.
  return c === 'zstd' ? ['--use-compress-program', 'zstd -T0'] : ['-z'];
}

/**
 * Archives the contents of `dir` (paths stored relative to it, `./`-prefixed), leaving out the
 * given relative paths. Returns the archive's size.
 */
export async function createArchive(
  dir: string,
  file: string,
  opts: { exclude?: string[]; compression: Compression },
): Promise<number> {
  await runCommand('tar', [
    ...compressFlags(opts.compression),
    '-c',
    '-f',
    file,
    ...(opts.exclude ?? []).map((e) => `--exclude=./${e}`),
    '-C',
    dir,
    '.',
  ]);
  return statSync(file).size;
}

/**
 * Extracts into `dir`. Members are listed first and the archive is refused when any name is
 * absolute or climbs out with `..` (GNU tar already defers symlinks that point outside). Files that
 * exist are kept, so restoring over a warm cache never fails with `File exists` (setup-go#403).
 */
export async function extractArchive(dir: string, file: string, c: Compression): Promise<void> {
  const names = (await runCommand('tar', [...compressFlags(c), '-t', '-f', file])).stdout
    .split('\n')
    .filter(Boolean);
  const bad = names.find((n) => n.startsWith('/') || n.split('/').includes('..'));
  if (bad)
    throw new UserError(`The cache archive ${file} holds an unsafe path \`${bad}\`; it was not restored.`);
  await runCommand('tar', [
    ...compressFlags(c),
    '-x',
    '-f',
    file,
    '-C',
    dir,
    '--skip-old-files',
    '--no-same-owner',
  ]);
}
