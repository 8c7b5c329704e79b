import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findFiles } from '../runner/glob.js';

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

/**
 * Maps a profile's file name (`example.com/m/pkg/file.go`) to a path relative to the checkout
 * (`pkg/file.go`), as `go tool cover` finds it through the module; undefined when no local module
 * holds it. Relative and absolute names (from `go test` outside a module) are taken as they are.
 */
export function repoPath(file: string, modules: LocalModule[], root: string): string | undefined {
  if (file.startsWith('/') || file.startsWith('.')) return existsSync(join(root, file)) ? file : undefined;
  for (const m of modules) {
    if (file === m.path || file.startsWith(`${m.path}/`)) {
      const rel = file.slice(m.path.length + 1);
      const p = m.dir ? `${m.dir}/${rel}` : rel;
      return existsSync(join(root, p)) ? p : undefined;
    }
  }
  return undefined;
}
