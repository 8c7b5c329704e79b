import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { findFiles } from '../runner/glob.js';
import { findFuncs, type FuncExtent } from './funcs.js';

/** A module found in the checkout: its path (from go.mod) and its directory relative to the root. */
export interface LocalModule {
  path: string;
  dir: string;
}

/** Every go.mod under the root, longest module path first (so nested modules win). */
export function localModules(root: string): LocalModule[] {
  return findFiles(root, ['**/go.mod'])
    .filter((f) => !f.split('/').includes('vendor') && !f.split('/').includes('testdata'))
    .flatMap((f) => {
      const m = /^module\s+("?)([^"\s]+)\1/m.exec(readFileSync(join(root, f), 'utf8'));
      return m ? [{ path: m[2], dir: f === 'go.mod' ? '' : f.slice(0, -'/go.mod'.length) }] : [];
    })
    .sort((a, b) => b.path.length - a.path.length);
}

/** What coverage-gate needs to know of one source file. */
export interface SourceFacts {
  /** `// Code generated ... DO NOT EDIT.` before the package clause (go help generate). */
  generated: boolean;
  /** Its function declarations, as `go tool cover -func` finds them. */
  funcs: FuncExtent[];
}

const GENERATED = /^\/\/ Code generated .* DO NOT EDIT\.$/m;
const PACKAGE = Buffer.from('\npackage ');

function isGenerated(src: Buffer): boolean {
  // Only the head before the package clause is decoded; most files have none worth the regex.
  const at = src.indexOf(PACKAGE);
  const head = src.toString('latin1', 0, at < 0 ? src.length : at + 1);
  if (!head.includes('Code generated')) return false;
  const pkg = head.search(/^package\s/m);
  return GENERATED.test(pkg < 0 ? head : head.slice(0, pkg));
}

/**
 * The facts of the checkout's source files, each file read once into one reused buffer with one
 * open, read and close (a big module has thousands of files; a new buffer per file costs more in
 * garbage collection than the reading). Undefined for a file that cannot be read.
 */
export function sourceFacts(root: string): (path: string) => SourceFacts | undefined {
  const cache = new Map<string, SourceFacts | undefined>();
  let buf = Buffer.allocUnsafe(1 << 16);
  return (path) => {
    if (cache.has(path)) return cache.get(path);
    let facts: SourceFacts | undefined;
    let fd: number | undefined;
    try {
      fd = openSync(join(root, path), 'r');
      let n = readSync(fd, buf, 0, buf.length, null);
      // A short read of a regular file is its end; a full buffer may have more to come.
      while (n === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
        n += readSync(fd, buf, n, buf.length - n, null);
      }
      const src = buf.subarray(0, n);
      facts = { generated: isGenerated(src), funcs: findFuncs(src) };
    } catch {
      facts = undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    cache.set(path, facts);
    return facts;
  };
}

/**
 * Maps a profile's file name (`example.com/m/pkg/file.go`) to a path relative to the checkout
 * (`pkg/file.go`), as `go tool cover` finds it through the module; undefined when no local module
 * holds it. Relative and absolute names (from `go test` outside a module) are taken as they are.
 */
export function repoPath(
  file: string,
  modules: LocalModule[],
  root: string,
  exists: (path: string) => boolean = (p) => existsSync(join(root, p)),
): string | undefined {
  if (file.startsWith('/') || file.startsWith('.')) return exists(file) ? file : undefined;
  for (const m of modules) {
    if (file === m.path || file.startsWith(`${m.path}/`)) {
      const rel = file.slice(m.path.length + 1);
      const p = m.dir ? `${m.dir}/${rel}` : rel;
      return exists(p) ? p : undefined;
    }
  }
  return undefined;
}
