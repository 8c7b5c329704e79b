import { gitLocation } from '../runner/git.js';
import { runCommand } from '../runner/command.js';
import { UserError, inputError } from '../runner/errors.js';
import { log } from '../runner/log.js';
import { tokenize } from './funcs.js';
import type { Block, Profile } from './profile.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ratio } from './report.js';

/** Lines added or changed on this branch, per repository path, from a zero-context diff. */
function parseDiff(diff: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  let file: string | undefined;
  for (const line of diff.split('\n')) {
    if (line.startsWith('+++ ')) {
      const name = line.slice(4).replace(/\t.*$/, '');
      file = name === '/dev/null' ? undefined : name.replace(/^b\//, '');
      if (file && !out.has(file)) out.set(file, []);
    } else if (line.startsWith('@@') && file) {
      const m = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/.exec(line);
      if (!m) continue;
      const start = Number(m[1]);
      const count = m[2] === undefined ? 1 : Number(m[2]);
      for (let l = start; l < start + count; l++) out.get(file)!.push(l);
    }
  }
  return out;
}

/**
 * The diff between the merge base of `baseRef` and HEAD. A shallow clone is deepened (bounded)
 * until the merge base is there, so workflows need no `fetch-depth: 0`.
 */
async function changedLines(repo: string, baseRef: string): Promise<{ lines: Map<string, number[]>; base: string }> {
  const git = (args: string[], check = true) => runCommand('git', args, { cwd: repo, check });
  if ((await git(['rev-parse', '--verify', '--quiet', `${baseRef}^{commit}`], false)).code !== 0) {
    const fetched = await git(['fetch', '--no-tags', '--depth=1', 'origin', baseRef.replace(/^origin\//, '')], false);
    if (fetched.code !== 0 || (await git(['rev-parse', '--verify', '--quiet', `${baseRef}^{commit}`], false)).code !== 0) {
      throw new UserError(
        `Input \`base-ref\` got \`${baseRef}\`, which is not a commit in ${repo} and could not be fetched from origin. Give a branch, tag or SHA that exists (on pull requests the default is origin/<base branch>).`,
      );
    }
  }
  for (let attempt = 0; ; attempt++) {
    const mb = await git(['merge-base', baseRef, 'HEAD'], false);
    if (mb.code === 0) {
      const base = mb.stdout.trim();
      const diff = await git(['diff', '--no-color', '--no-ext-diff', '--unified=0', '--no-renames', base, 'HEAD', '--', '*.go']);
      return { lines: parseDiff(diff.stdout), base };
    }
    const shallow = (await git(['rev-parse', '--is-shallow-repository'])).stdout.trim() === 'true';
    if (!shallow || attempt >= 6) {
      throw new UserError(
        `No merge base between \`${baseRef}\` and HEAD${shallow ? ' even after deepening the shallow clone' : ''}; patch coverage needs one. Check base-ref.`,
      );
    }
    log.info(`Shallow clone: deepening by 100 commits to find the merge base with ${baseRef}`);
    await git(['fetch', '--no-tags', '--deepen=100', 'origin'], false);
    await git(['fetch', '--no-tags', '--deepen=100', 'origin', baseRef.replace(/^origin\//, '')], false);
  }
}

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
  const { lines, base } = await changedLines(top, baseRef);
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
