import { existsSync, readFileSync } from 'node:fs';
import { posix, join } from 'node:path';
import { UserError } from '../runner/errors.js';

export interface GoModule {
  /** The module path from go.mod (`example.com/lib/v2`). */
  path: string;
  /** Its directory relative to the repository root, '.' for the root. */
  dir: string;
  /** Tags are `<prefix>vX.Y.Z`: '' at the root, `sub/dir/` for a nested module (Go's rule). */
  tagPrefix: string;
  /** The `/vN` suffix of the module path, when it has one (N >= 2). */
  pathMajor?: number;
  /** Directories of modules nested below this one: their commits are not this module's. */
  nested: string[];
  /**
   * False for a repository with no go.mod anywhere (an actions repository, a Node tool): it is
   * versioned as a whole, tags vX.Y.Z at the root, and Go's /vN path rule does not apply.
   */
  isGo: boolean;
}

/** `module example.com/x` from go.mod's text (quoted or not, comments ignored). */
export function modulePathOf(gomod: string): string | undefined {
  for (const raw of gomod.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    const m = /^module\s+("?)([^\s"]+)\1$/.exec(line);
    if (m) return m[2];
  }
  return undefined;
}

/**
 * The module in `dir` (relative to the repository root) and the modules nested below it. The tag
 * prefix follows cmd/go: the module's directory, minus a trailing major-version subdirectory
 * (`v2/`) when the module path ends in the same `/v2`.
 */
export function findModule(
  root: string,
  dir: string,
  allGoMods: string[],
  repository = posix.basename(root.replace(/\\/g, '/')),
): GoModule {
  const rel = posix.normalize(dir.replace(/\\/g, '/')).replace(/\/$/, '') || '.';
  const gomod = join(root, rel, 'go.mod');
  if (!existsSync(gomod) && rel === '.' && allGoMods.length === 0)
    return { path: repository, dir: '.', tagPrefix: '', nested: [], isGo: false };
  if (!existsSync(gomod))
    throw new UserError(
      `Input \`working-directory\` is \`${dir}\`, which has no go.mod. It accepts the directory of a Go module in the repository; modules here: ${allGoMods.map((f) => posix.dirname(f)).join(', ') || 'none'}.`,
    );
  const path = modulePathOf(readFileSync(gomod, 'utf8'));
  if (!path) throw new UserError(`${posix.join(rel, 'go.mod')} has no \`module\` line.`);
  const major = /\/v([2-9]|[1-9]\d+)$/.exec(path);
  let prefixDir = rel === '.' ? '' : rel;
  if (major && (prefixDir === `v${major[1]}` || prefixDir.endsWith(`/v${major[1]}`)))
    prefixDir = prefixDir.slice(0, -`v${major[1]}`.length).replace(/\/$/, '');
  const nested = allGoMods
    .map((f) => posix.dirname(f))
    .filter((d) => d !== rel && (rel === '.' || d.startsWith(`${rel}/`)));
  return {
    path,
    dir: rel,
    tagPrefix: prefixDir ? `${prefixDir}/` : '',
    pathMajor: major ? Number(major[1]) : undefined,
    nested,
    isGo: true,
  };
}

/**
 * Go's rule for majors: v0 and v1 live at the plain module path, vN (N >= 2) only at a path ending
 * in `/vN`. A version the module path cannot carry is an error that shows the fix.
 */
export function checkMajor(mod: GoModule, major: number, tag: string): void {
  const want = major >= 2 ? major : undefined;
  if (!mod.isGo || want === mod.pathMajor) return;
  if (want === undefined)
    throw new UserError(
      `The module path ${mod.path} ends in /v${mod.pathMajor}, so its tags must be v${mod.pathMajor}.x.y, but the next version would be ${tag}. Set \`initial-version\` to v${mod.pathMajor}.0.0, or drop the suffix if this is not a v${mod.pathMajor} module.`,
    );
  const base = mod.pathMajor ? mod.path.replace(/\/v\d+$/, '') : mod.path;
  throw new UserError(
    `The next version is ${tag}, but ${mod.path} cannot be tagged v${major}: Go installs v${major} only from a module path ending in /v${major}, so \`go get ${base}@${tag.slice(mod.tagPrefix.length)}\` would fail. Either change the module path first:\n  go mod edit -module ${base}/v${major}${mod.dir === '.' ? '' : ` (in ${mod.dir})`}\n  and update its imports (e.g. with gofmt -r or gopls), or keep v${mod.pathMajor ?? 1} with a PR label \`release:minor\` instead of the breaking-change marker.`,
  );
}
