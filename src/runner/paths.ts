import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
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
  const realBase = existsSync(base) ? realpathSync(base) : resolve(base);
  let probe = joined;
  while (!existsSync(probe) && probe !== dirname(probe)) probe = dirname(probe);
  if (existsSync(probe) && !isWithin(realBase, realpathSync(probe)))
    throw refuse('leads out of that folder through a link');
  return joined;
}

/** A plain file name from data: one path element, no separators, not `.` or `..`. */
export function fileNameOf(name: unknown, what: string): string {
  if (typeof name !== 'string' || !name || name === '.' || name === '..' || /[/\\\0]/.test(name))
    throw new UserError(
      `${what} is ${JSON.stringify(name)?.slice(0, 200)}; it must be a file name (no folders, no \`..\`).`,
    );
  return name;
}

function isWithin(base: string, p: string): boolean {
  const rel = relative(base, p);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}
