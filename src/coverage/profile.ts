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
  /** The profile's bytes; read as a Buffer it is parsed without decoding every line. */
  text: string | Buffer;
}

const MODES = new Set(['set', 'count', 'atomic']);
const NL = 10;
const CR = 13;
const SPACE = 32;
const DOT = 46;
const COMMA = 44;
const COLON = 58;
const ZERO = 48;
const MODE_PREFIX = Buffer.from('mode: ');
/**
 * A block's start becomes one small integer (line × 1024 + column) when it fits, which V8 hashes
 * fastest; other starts use a string key.
 */
const COL_LIMIT = 1024;
const LINE_LIMIT = 1 << 20;

interface Seen {
  block: Block;
  where: string;
}

/**
 * Parses and merges profiles the way golang.org/x/tools/cover does: each line is read from the right
 * (`file:l0.c0,l1.c1 numStmt count`, so file names may hold ':'), blocks at the same position merge
 * (set: OR; count/atomic: add). Joined profiles repeat their `mode:` line; repeats are dropped.
 * Unlike x/tools, a NumStmt mismatch, a mode mismatch or overlapping-but-different blocks (the
 * source changed between runs) name the profile and line, because a silently wrong total is worse.
 *
 * Profiles of big test suites run to millions of lines, mostly repeats, so lines are read as bytes:
 * no string per line, and the file name is decoded only when it changes.
 */
export function parseProfiles(sources: ProfileSource[]): Profile {
  let mode: CoverMode | undefined;
  let modeFrom = '';
  // Identical positions merge as they are read, so memory follows the unique blocks, not the lines.
  const raw = new Map<string, Map<number | string, Seen>>();
  for (const src of sources) {
    const buf = typeof src.text === 'string' ? Buffer.from(src.text) : src.text;
    let sawMode = false;
    let lineNo = 0;
    let lastStart = 0;
    let lastEnd = 0;
    let blocks: Map<number | string, Seen> | undefined;
    let file = '';
    for (let at = 0; at < buf.length; ) {
      let nl = buf.indexOf(NL, at);
      if (nl < 0) nl = buf.length;
      let end = nl;
      const start = at;
      at = nl + 1;
      lineNo++;
      if (end > start && buf[end - 1] === CR) end--;
      if (isBlank(buf, start, end)) continue;
      if (sameBytes(buf, start, end, MODE_PREFIX, 0, MODE_PREFIX.length, true)) {
        const where = `${src.name}:${lineNo}`;
        const m = buf.toString('utf8', start + MODE_PREFIX.length, end).trim();
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
      const colon = parseLine(buf, start, end);
      if (colon < 0) throw badLine(buf, start, end, src.name, lineNo);
      const startLine = scratch[0];
      const startCol = scratch[1];
      const endLine = scratch[2];
      const endCol = scratch[3];
      const numStmt = scratch[4];
      const count = scratch[5];
      // Consecutive lines nearly always name the same file: compare bytes before decoding.
      if (!blocks || !sameBytes(buf, start, colon, buf, lastStart, lastEnd, false)) {
        lastStart = start;
        lastEnd = colon;
        file = buf.toString('utf8', start, colon);
        blocks = raw.get(file);
        if (!blocks) raw.set(file, (blocks = new Map()));
      }
      const key =
        startCol < COL_LIMIT && startLine < LINE_LIMIT ? (startLine * COL_LIMIT + startCol) | 0 : `${startLine}.${startCol}`;
      const seen = blocks!.get(key);
      if (!seen) {
        const block = { startLine, startCol, endLine, endCol, numStmt, count };
        blocks!.set(key, { block, where: `${src.name}:${lineNo}` });
        continue;
      }
      const pos = `${startLine}.${startCol},${endLine}.${endCol}`;
      const had = seen.block;
      if (had.endLine !== endLine || had.endCol !== endCol)
        throw new UserError(
          `${src.name}:${lineNo}: block ${file}:${pos} starts where ${had.startLine}.${had.startCol},${had.endLine}.${had.endCol} from ${seen.where} does: the profiles come from different versions of the source. Regenerate them from one commit.`,
        );
      if (had.numStmt !== numStmt)
        throw new UserError(
          `${src.name}:${lineNo}: block ${file}:${pos} has ${numStmt} statements, but ${seen.where} says ${had.numStmt}: the profiles come from different versions of the source.`,
        );
      had.count = mode === 'set' ? (had.count || count ? 1 : 0) : had.count + count;
    }
    if (!sawMode) throw new UserError(`${src.name} is empty: no \`mode:\` line and no blocks.`);
  }
  if (!mode) throw new UserError('No coverage profile was given.');
  const files = new Map<string, Block[]>();
  for (const [file, blocks] of raw) files.set(file, sortAndCheck(file, [...blocks.values()]));
  return { mode, files };
}

/**
 * Whether buf[start, end) equals other[from, to), or (prefix) starts with it. A plain loop: the
 * names are short, and Buffer.compare's argument checks cost more than the comparison.
 */
function sameBytes(buf: Buffer, start: number, end: number, other: Buffer, from: number, to: number, prefix: boolean): boolean {
  const n = to - from;
  if (prefix ? end - start < n : end - start !== n) return false;
  for (let i = 0; i < n; i++) if (buf[start + i] !== other[from + i]) return false;
  return true;
}

function isBlank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c !== SPACE && c !== 9 && c !== CR) return false;
  }
  return true;
}

/** The error for a line the fast parser refused, worked out on its text (only ever once). */
function badLine(buf: Buffer, start: number, end: number, name: string, lineNo: number): UserError {
  const line = buf.toString('utf8', start, end);
  const sp2 = line.lastIndexOf(' ');
  const sp1 = line.lastIndexOf(' ', sp2 - 1);
  const count = line.slice(sp2 + 1);
  const numStmt = line.slice(sp1 + 1, sp2);
  const why =
    sp1 < 0
      ? 'missing fields'
      : !/^\d+$/.test(count)
        ? `count \`${count}\` is not a number`
        : !/^\d+$/.test(numStmt)
          ? `statement count \`${numStmt}\` is not a number`
          : 'no `file:line.col,line.col` position';
  return new UserError(
    `${name}:${lineNo}: ${why} in \`${line.length > 120 ? `${line.slice(0, 120)}…` : line}\`; a profile line reads \`file.go:line.col,line.col statements count\`.`,
  );
}

/** parseLine's result: startLine, startCol, endLine, endCol, numStmt, count (no object per line). */
const scratch = new Float64Array(6);
/** The byte before each field: `file:startLine.startCol,endLine.endCol numStmt count`. */
const SEPARATORS = [COLON, DOT, COMMA, DOT, SPACE, SPACE];

/**
 * Reads `file:l0.c0,l1.c1 numStmt count` from the right, as x/tools/cover does, into `scratch`.
 * Returns the index of the colon that ends the file name, or -1 when the line is malformed.
 */
function parseLine(buf: Buffer, start: number, end: number): number {
  let i = end;
  for (let field = 5; field >= 0; field--) {
    let value = 0;
    let scale = 1;
    const last = i;
    for (let c = buf[i - 1]; i > start && c >= ZERO && c <= ZERO + 9; c = buf[--i - 1]) {
      value += (c - ZERO) * scale;
      scale *= 10;
    }
    if (i === last || i <= start || buf[i - 1] !== SEPARATORS[field]) return -1;
    i--;
    scratch[field] = value;
  }
  return i > start ? i : -1;
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
