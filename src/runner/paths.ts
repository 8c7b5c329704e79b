import { existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UserError } from './errors.js';

/**
 * The one way to join a path that comes from data (a shard manifest, a cache entry, a config file,
 * an archive) onto the folder it must stay in: absolute paths, NUL bytes and paths that leave `base`
 * are refused, after resolving the links of every part that exists (a link planted inside the
 * folder cannot lead out of it). `what` names the data in the error.
 */
export function joinInside(base: string, path: string, what: string): string {
  const refuse = (why: string) =>
    new UserError(`${what} is \`${path.slice(0, 200)}\`, which ${why}; it must be a path inside ${base}.`);
  if (typeof path !== 'string' || path === '') throw refuse('is empty');
  if (path.includes('\0')) throw refuse('holds a NUL byte');
  if (isAbsolute(path) || /^[A-Za-z]:|^\\\\/.test(path)) throw refuse('is absolute');
  const joined = resolve(base, path);
  if (!isWithin(resolve(base), joined)) throw refuse('leaves that folder');
  // Both the route as written and the normalised route opened below must stay inside.
  if (
    resolveWithin(base, path) === undefined ||
    resolveWithin(base, relative(resolve(base), joined)) === undefined
  )
    throw refuse('leads out of that folder through a link');
  return joined;
}

/**
 * Follows `path` from `base` the way the kernel does, one component at a time: a link is replaced
 * by its target (read as text and followed again, so a chain of links is followed as a whole), `..`
 * steps up from where the links led, and parts that do not exist yet are taken as written. Returns
 * the real path reached, or undefined if any step is outside `base`'s real path. Resolving a target
 * as text instead lets `up -> ..` then `up/../etc` through: the text says inside, the kernel goes out.
 */
export function resolveWithin(base: string, path: string): string | undefined {
  const root = existsSync(base) ? realpathSync(base) : resolve(base);
  const follow = (from: string, rel: string, depth: number): string | undefined => {
    let at = from;
    for (const part of rel.split('/')) {
      if (part === '' || part === '.') continue;
      const next = part === '..' ? dirname(at) : join(at, part);
      if (!isWithin(root, next)) return undefined;
      const st = part === '..' ? undefined : lstatOf(next);
      if (st?.isSymbolicLink()) {
        // 40 links deep is where the kernel gives up too (ELOOP).
        if (depth >= 40) return undefined;
        const target = readlinkSync(next);
        // An absolute target is judged by where the kernel takes it (the folders above `base` may
        // be links themselves); one that leads nowhere cannot be judged, and is refused.
        const reached = isAbsolute(target)
          ? existsSync(next)
            ? realpathSync(next)
            : undefined
          : follow(at, target, depth + 1);
        if (reached === undefined || !isWithin(root, reached)) return undefined;
        at = reached;
      } else at = next;
    }
    return isWithin(root, at) ? at : undefined;
  };
  return follow(root, path, 0);
}

/** A plain file name from data: one path element, no separators, not `.` or `..`. */
export function fileNameOf(name: unknown, what: string): string {
  if (typeof name !== 'string' || !name || name === '.' || name === '..' || /[/\\\0]/.test(name))
    throw new UserError(
      `${what} is ${JSON.stringify(name)?.slice(0, 200)}; it must be a file name (no folders, no \`..\`).`,
    );
  return name;
}

/** lstat, or undefined for what cannot be there (absent, under a file, a name too long to exist). */
function lstatOf(path: string) {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENAMETOOLONG') return undefined;
    throw e;
  }
}

function isWithin(base: string, p: string): boolean {
  const rel = relative(base, p);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}
