import { changedLines, gitLocation } from '../runner/git.js';
import { inputError } from '../runner/errors.js';
import { tokenize } from './funcs.js';
import type { Block, Profile } from './profile.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ratio } from './report.js';

export type LineState = 'covered' | 'uncovered' | 'partial';

/**
 * Coverage of the given lines of one file. A line counts only where code that belongs to a block
 * with statements sits on it: blank lines, comments, lone braces and declarations outside blocks do
 * not. A line whose code is in covered and uncovered blocks at once is partial.
 */
function lineCoverage(src: Buffer, blocks: Block[], lines: number[]): Map<number, LineState> {
  const wanted = new Set(lines);
  const states = new Map<number, { hit: boolean; miss: boolean }>();
  const inside = (b: Block, l: number, c: number) =>
    (l > b.startLine || (l === b.startLine && c >= b.startCol)) && (l < b.endLine || (l === b.endLine && c < b.endCol));
  for (const t of tokenize(src)) {
    if (!wanted.has(t.line) || t.text === ';' || t.text === '{' || t.text === '}') continue;
    for (const b of blocks) {
      if (b.startLine > t.line) break;
      if (b.numStmt === 0 || !inside(b, t.line, t.col)) continue;
      const s = states.get(t.line) ?? { hit: false, miss: false };
      if (b.count > 0) s.hit = true;
      else s.miss = true;
      states.set(t.line, s);
    }
  }
  const out = new Map<number, LineState>();
  for (const [line, s] of [...states].sort((a, b) => a[0] - b[0]))
    out.set(line, s.hit && s.miss ? 'partial' : s.hit ? 'covered' : 'uncovered');
  return out;
}

/** Patch coverage: the changed lines a profile measured, per file. */
export interface PatchResult {
  base: string;
  ratio: Ratio;
  partial: number;
  files: { file: string; lines: Map<number, LineState> }[];
  notInProfile: string[];
}

/** Consecutive line numbers as ranges: [3,4,5,9] → [[3,5],[9,9]]. */
function ranges(lines: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const l of lines) {
    const last = out.at(-1);
    if (last && l === last[1] + 1) last[1] = l;
    else out.push([l, l]);
  }
  return out;
}

/** The uncovered changed lines as ranges (`12-14`), for annotations and the summary. */
export function uncoveredRanges(lines: Map<number, LineState>): [number, number][] {
  return ranges([...lines].filter(([, s]) => s !== 'covered').map(([l]) => l));
}

/**
 * Patch coverage: the lines changed since the merge base with `baseRef`, each judged by the kept
 * profile's blocks (`paths` maps a profile file to its path in the module). Changed Go files the
 * profile does not name are listed; excluded files and tests do not count.
 */
export async function patchCoverage(
  workspace: string,
  baseRef: string,
  profile: Profile,
  paths: Map<string, string | undefined>,
): Promise<PatchResult> {
  // git's own view of the checkout: it resolves symlinks, so a linked workspace maps to its place.
  const where = await gitLocation(workspace);
  if (!where)
    throw inputError(
      'base-ref',
      baseRef,
      'a git revision, in a git checkout',
      `${workspace} is not inside a git checkout, so patch coverage has no changed lines: run actions/checkout (fetch-depth: 0) first, or leave base-ref empty.`,
    );
  const { top, prefix } = where;
  const { lines, base } = await changedLines(top, baseRef, 'patch coverage');
  const byRepoPath = new Map<string, string>();
  for (const [file, p] of paths) if (p) byRepoPath.set(prefix ? `${prefix}/${p}` : p, file);
  const result: PatchResult = { base, ratio: { covered: 0, total: 0 }, partial: 0, files: [], notInProfile: [] };
  for (const [path, changed] of lines) {
    if (!path.endsWith('.go') || path.endsWith('_test.go') || !changed.length) continue;
    const file = byRepoPath.get(path);
    if (!file) {
      result.notInProfile.push(path);
      continue;
    }
    const blocks = profile.files.get(file);
    if (!blocks) continue; // excluded
    const states = lineCoverage(readFileSync(join(top, path)), blocks.toArray(), changed);
    if (!states.size) continue;
    result.files.push({ file: path, lines: states });
    for (const s of states.values()) {
      result.ratio.total++;
      if (s === 'covered') result.ratio.covered++;
      if (s === 'partial') result.partial++;
    }
  }
  return result;
}
