import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** docs/architecture.md's rules, read from the document itself. */
export interface Layout {
  /** Folder under src/ (`actions` for every src/actions/<action>/) → its floor. */
  floors: Record<string, number>;
  /** `from->to` imports allowed on one floor. */
  sideways: Set<string>;
  /** Folder → the npm packages it may import (Node's own `node:` modules are allowed everywhere). */
  packages: Record<string, Set<string>>;
}

const cells = (line: string) =>
  line
    .split('|')
    .slice(1, -1)
    .map((c) => c.trim());
const ticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

/** The rows of the Markdown table that follows `heading` (or the first table after it). */
function tableAfter(md: string, heading: string): string[][] {
  const at = md.indexOf(heading);
  if (at < 0) throw new Error(`docs/architecture.md has no "${heading}"`);
  const lines = md.slice(at).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const l of lines.slice(first + 2)) {
    if (!l.startsWith('|')) break;
    rows.push(cells(l));
  }
  return rows;
}

export function layoutFromDoc(md: string): Layout {
  const floors: Record<string, number> = {};
  for (const [floor, folders] of tableAfter(md, '## Floors'))
    for (const f of ticked(folders))
      floors[f.replace(/^src\//, '').split('/')[0]] = Number.parseInt(floor, 10);
  const sideways = new Set(
    tableAfter(md, '### Imports on the same floor').map(
      ([from, to]) => `${ticked(from)[0]}->${ticked(to)[0]}`,
    ),
  );
  const packages: Record<string, Set<string>> = {};
  for (const [folder, pkgs] of tableAfter(md, '### Packages each folder may import'))
    packages[ticked(folder)[0]] = new Set(ticked(pkgs));
  return { floors, sideways, packages };
}

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

/**
 * The folder a file belongs to, for actions which one, and for src/deploy/ whether it is a target
 * plugin (`targets/<name>/`), the targets' registry (`targets/*.ts`), or the engine's side.
 */
function unitOf(srcRoot: string, file: string): { folder: string; action?: string; target?: string } {
  const [folder, second, third, fourth] = relative(srcRoot, file).split(sep);
  if (folder === 'actions') return { folder, action: second };
  if (folder === 'deploy' && second === 'targets') return { folder, target: fourth ? third : '(registry)' };
  return { folder };
}

/**
 * Every way `srcRoot` breaks `layout`: imports up a floor, sideways where the table does not allow,
 * one action into another, packages a folder may not use, and cycles between files. Imports of every
 * kind are read with the TypeScript compiler's pre-processor (static, type-only, side-effect,
 * re-exports, dynamic `import()`), not with a regex over one syntax.
 */
export function layoutViolations(srcRoot: string, layout: Layout): string[] {
  const out: string[] = [];
  const graph = new Map<string, string[]>();
  const files = [...sources(srcRoot)];
  for (const file of files) {
    const name = relative(srcRoot, file);
    const from = unitOf(srcRoot, file);
    const deps: string[] = [];
    graph.set(file, deps);
    if (layout.floors[from.folder] === undefined) out.push(`${name}: src/${from.folder}/ is on no floor`);
    for (const { fileName: spec } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
      .importedFiles) {
      if (!spec.startsWith('.')) {
        if (spec.startsWith('node:')) continue;
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!layout.packages[from.folder]?.has(pkg))
          out.push(`${name}: imports package ${pkg}, not listed for ${from.folder}`);
        continue;
      }
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      if (!target.startsWith(srcRoot + sep) || !existsSync(target)) {
        out.push(`${name}: imports ${spec}, which is not a file under src/`);
        continue;
      }
      deps.push(target);
      const to = unitOf(srcRoot, target);
      const [f, t] = [layout.floors[from.folder], layout.floors[to.folder]];
      if (from.folder === to.folder) {
        if (from.action !== to.action) out.push(`${name}: one action imports another (${spec})`);
        // The engine sees only the Target port; a target is its own folder, built by the registry.
        else if (to.target && !from.target)
          out.push(`${name}: the deploy engine's side imports a target (${spec}); it sees only target.ts`);
        else if (
          from.target &&
          to.target &&
          from.target !== to.target &&
          to.target !== '(registry)' &&
          from.target !== '(registry)'
        )
          out.push(`${name}: one deploy target imports another (${spec})`);
        else if (
          from.target &&
          from.target !== '(registry)' &&
          to.target === '(registry)' &&
          !/plugin\.ts$/.test(target)
        )
          out.push(`${name}: a deploy target imports the registry of targets (${spec})`);
      } else if (t > f)
        out.push(`${name}: ${from.folder} (floor ${f}) imports ${to.folder} (floor ${t}) above it (${spec})`);
      else if (t === f && !layout.sideways.has(`${from.folder}->${to.folder}`))
        out.push(`${name}: ${from.folder} -> ${to.folder} on one floor is not in the table (${spec})`);
    }
  }
  // Cycles between files (Tarjan's strongly connected components).
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v))
        out.push(
          `a cycle: ${scc
            .map((x) => relative(srcRoot, x))
            .sort()
            .join(' <-> ')}`,
        );
    }
  };
  for (const f of files) if (!idx.has(f)) visit(f);
  return out;
}
