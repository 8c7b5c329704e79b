import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { runCommand } from '../runner/command.js';
import { UserError } from '../runner/errors.js';
import { resolveWithin } from '../runner/paths.js';

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

function compressFlags(c: Compression, mode: 'write' | 'read'): string[] {
  // tar splits the program string on blanks itself; no shell is involved. GNU tar adds `-d` to the
  // program when reading, bsdtar (macOS's tar) does not: say it, a second `-d` is harmless to zstd.
  if (c === 'gzip') return ['-z'];
  return ['--use-compress-program', mode === 'write' ? 'zstd -T0' : 'zstd -d'];
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
    ...compressFlags(opts.compression, 'write'),
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
 * Extracts into `dir`, all or nothing. Member names are checked first (no absolute path, no `..`);
 * the archive is extracted into a fresh staging directory beside `dir`, where every link is checked
 * (a symlink must point inside, no hard links, nothing but files, directories and links); only then
 * does it move into place: renamed whole when `dir` is empty, else merged entry by entry with the
 * files already there kept (restoring over a warm cache never fails with `File exists`, setup-go#403,
 * and no GNU-only tar flag is needed). Any failure removes the staging directory: no half cache.
 */
export async function extractArchive(dir: string, file: string, c: Compression): Promise<void> {
  const names = (await runCommand('tar', [...compressFlags(c, 'read'), '-t', '-f', file])).stdout
    .split('\n')
    .filter(Boolean);
  const bad = names.find((n) => n.startsWith('/') || n.split('/').includes('..'));
  if (bad)
    throw new UserError(`The cache archive ${file} holds an unsafe path \`${bad}\`; it was not restored.`);
  mkdirSync(dirname(dir), { recursive: true });
  const staging = mkdtempSync(join(dirname(dir), `.${basename(dir)}.go-ship-restore-`));
  try {
    await runCommand('tar', [
      ...compressFlags(c, 'read'),
      '-x',
      '-f',
      file,
      '-C',
      staging,
      '--no-same-owner',
    ]);
    const unsafe = unsafeEntry(staging);
    if (unsafe)
      throw new UserError(
        `The cache archive ${file} holds ${unsafe}; it was not restored, and nothing of it was kept.`,
      );
    if (!existsSync(dir) || readdirSync(dir).length === 0) {
      rmSync(dir, { recursive: true, force: true });
      renameSync(staging, dir);
    } else mergeInto(staging, dir);
  } finally {
    removeTree(staging);
  }
}

/** The first entry that could reach outside `root` once in place, described; undefined if none. */
function unsafeEntry(staging: string): string | undefined {
  const root = realpathSync(staging);
  const walk = (d: string): string | undefined => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const rel = relative(root, p);
      if (e.isSymbolicLink()) {
        const target = readlinkSync(p);
        // Followed as the kernel will once in place: through the entry's other links, not as text.
        const from = relative(root, dirname(p));
        if (isAbsolute(target) || resolveWithin(root, from ? `${from}/${target}` : target) === undefined)
          return `a link \`${rel}\` -> \`${target}\` that points outside the cache`;
      } else if (e.isDirectory()) {
        const inner = walk(p);
        if (inner) return inner;
      } else if (e.isFile()) {
        if (lstatSync(p).nlink > 1) return `a hard link \`${rel}\``;
      } else return `\`${rel}\`, which is neither a file, a directory nor a link`;
    }
    return undefined;
  };
  return walk(root);
}

/** Moves what `from` has and `to` lacks into `to`; what `to` already has is kept. */
function mergeInto(from: string, to: string): void {
  // The module cache makes its directories read-only; the staging copy is ours to open up.
  chmodSync(from, 0o755);
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, e.name);
    const dst = join(to, e.name);
    const there = lstatSync(dst, { throwIfNoEntry: false });
    if (!there) renameSync(src, dst);
    else if (e.isDirectory() && there.isDirectory() && isWritable(dst)) mergeInto(src, dst);
  }
}

function isWritable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** rm -rf that also works on the read-only directories a Go module cache is made of. */
function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  const open = (d: string): void => {
    chmodSync(d, 0o755);
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) open(join(d, e.name));
  };
  open(dir);
  rmSync(dir, { recursive: true, force: true });
}
