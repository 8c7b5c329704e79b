import { UserError } from '../runner/errors.js';

/** One coverage block: byte columns, 1-based, as `go test -coverprofile` writes them. */
export interface Block {
  startLine: number;
  startCol: number;
  endLine: number;
  endCol: number;
  numStmt: number;
  count: number;
}

export type CoverMode = 'set' | 'count' | 'atomic';

export interface Profile {
  mode: CoverMode;
  /** Blocks per file (import-path form, `example.com/m/pkg/file.go`), sorted by start, merged. */
  files: Map<string, Block[]>;
}

export interface ProfileSource {
  /** Shown in errors: a path, or a description such as `GOCOVERDIR ./cov`. */
  name: string;
  text: string;
}

const MODES = new Set(['set', 'count', 'atomic']);

/**
 * Parses and merges profiles the way golang.org/x/tools/cover does: each line is read from the right
 * (`file:l0.c0,l1.c1 numStmt count`, so file names may hold ':'), blocks at the same position merge
 * (set: OR; count/atomic: add). Joined profiles repeat their `mode:` line; repeats are dropped.
 * Unlike x/tools, a NumStmt mismatch, a mode mismatch or overlapping-but-different blocks (the
 * source changed between runs) name the profile and line, because a silently wrong total is worse.
 */
export function parseProfiles(sources: ProfileSource[]): Profile {
  let mode: CoverMode | undefined;
  let modeFrom = '';
  // Identical positions merge as they are read, so memory follows the unique blocks, not the lines.
  const raw = new Map<string, Map<string, { block: Block; where: string }>>();
  for (const src of sources) {
    const text = src.text;
    let sawMode = false;
    let lineNo = 0;
    for (let at = 0; at < text.length; ) {
      let nl = text.indexOf('\n', at);
      if (nl < 0) nl = text.length;
      let line = text.slice(at, nl);
      at = nl + 1;
      lineNo++;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.trim() === '') continue;
      if (line.startsWith('mode: ')) {
        const where = `${src.name}:${lineNo}`;
        const m = line.slice(6).trim();
        if (!MODES.has(m))
          throw new UserError(`${where}: unknown coverage mode \`${m}\`; Go writes set, count or atomic.`);
        if (mode && m !== mode)
          throw new UserError(
            `${where}: mode \`${m}\` differs from \`${mode}\` in ${modeFrom}. Profiles can only be merged when every run used the same -covermode.`,
          );
        mode = m as CoverMode;
        modeFrom ||= where;
        sawMode = true;
        continue;
      }
      if (!sawMode)
        throw new UserError(
          `${src.name}:${lineNo}: expected the \`mode: set|count|atomic\` line first; is ${src.name} a Go coverage profile (go test -coverprofile)?`,
        );
      const { file, pos, block } = parseLine(line, src.name, lineNo);
      let blocks = raw.get(file);
      if (!blocks) raw.set(file, (blocks = new Map()));
      const seen = blocks.get(pos);
      if (!seen) {
        blocks.set(pos, { block, where: `${src.name}:${lineNo}` });
        continue;
      }
      if (seen.block.numStmt !== block.numStmt) {
        throw new UserError(
          `${src.name}:${lineNo}: block ${file}:${pos} has ${block.numStmt} statements, but ${seen.where} says ${seen.block.numStmt}: the profiles come from different versions of the source.`,
        );
      }
      seen.block.count = mode === 'set' ? (seen.block.count || block.count ? 1 : 0) : seen.block.count + block.count;
    }
    if (!sawMode) throw new UserError(`${src.name} is empty: no \`mode:\` line and no blocks.`);
  }
  if (!mode) throw new UserError('No coverage profile was given.');
  const files = new Map<string, Block[]>();
  for (const [file, blocks] of raw) files.set(file, sortAndCheck(file, [...blocks.values()]));
  return { mode, files };
}

function parseLine(line: string, name: string, lineNo: number): { file: string; pos: string; block: Block } {
  const bad = (why: string) =>
    new UserError(
      `${name}:${lineNo}: ${why} in \`${line.length > 120 ? `${line.slice(0, 120)}…` : line}\`; a profile line reads \`file.go:line.col,line.col statements count\`.`,
    );
  const sp2 = line.lastIndexOf(' ');
  const sp1 = line.lastIndexOf(' ', sp2 - 1);
  if (sp1 < 0) throw bad('missing fields');
  const count = line.slice(sp2 + 1);
  const numStmt = line.slice(sp1 + 1, sp2);
  if (!/^\d+$/.test(count)) throw bad(`count \`${count}\` is not a number`);
  if (!/^\d+$/.test(numStmt)) throw bad(`statement count \`${numStmt}\` is not a number`);
  const head = line.slice(0, sp1);
  const colon = head.lastIndexOf(':');
  const pos = /^(\d+)\.(\d+),(\d+)\.(\d+)$/.exec(head.slice(colon + 1));
  if (colon <= 0 || !pos) throw bad('no `file:line.col,line.col` position');
  return {
    file: head.slice(0, colon),
    pos: head.slice(colon + 1),
    block: {
      startLine: Number(pos[1]),
      startCol: Number(pos[2]),
      endLine: Number(pos[3]),
      endCol: Number(pos[4]),
      numStmt: Number(numStmt),
      count: Number(count),
    },
  };
}

const before = (l1: number, c1: number, l2: number, c2: number) => l1 < l2 || (l1 === l2 && c1 < c2);

/** Sorts a file's merged blocks and refuses blocks that overlap (profiles of different sources). */
function sortAndCheck(file: string, list: { block: Block; where: string }[]): Block[] {
  list.sort((a, b) => a.block.startLine - b.block.startLine || a.block.startCol - b.block.startCol);
  for (let i = 1; i < list.length; i++) {
    const last = list[i - 1].block;
    const b = list[i].block;
    if (before(b.startLine, b.startCol, last.endLine, last.endCol)) {
      const verb = b.startLine === last.startLine && b.startCol === last.startCol ? 'starts where' : 'starts inside';
      throw new UserError(
        `${list[i].where}: block ${file}:${b.startLine}.${b.startCol},${b.endLine}.${b.endCol} ${verb} ${last.startLine}.${last.startCol},${last.endLine}.${last.endCol} from ${list[i - 1].where}: the profiles come from different versions of the source. Regenerate them from one commit.`,
      );
    }
  }
  return list.map((x) => x.block);
}
