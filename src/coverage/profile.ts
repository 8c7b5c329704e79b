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

/** A merged block and where it was first read (for errors; the text is made only when needed). */
interface Seen extends Block {
  src: string;
  line: number;
  /** Its place in the file's first-seen order. */
  index: number;
}

const whereOf = (s: Seen) => `${s.src}:${s.line}`;

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
  const raw = new Map<string, FileBlocks>();
  for (const src of sources) {
    const buf = typeof src.text === 'string' ? Buffer.from(src.text) : src.text;
    const len = buf.length;
    let sawMode = false;
    let lineNo = 0;
    let lastStart = 0;
    let lastEnd = 0;
    let fb: FileBlocks | undefined;
    let file = '';
    for (let at = 0; at < len; ) {
      const start = at;
      lineNo++;
      // Fast path, nearly every line: the same file as the line before, then six numbers read
      // left to right up to the newline. Anything else takes the careful path below.
      const nameLen = lastEnd - lastStart;
      if (fb && buf[start + nameLen] === COLON && sameBytes(buf, start, start + nameLen, buf, lastStart, lastEnd, false)) {
        const next = parseForward(buf, start + nameLen + 1, len);
        if (next > 0) {
          at = next;
          merge(fb, start + nameLen, src.name, lineNo, file);
          continue;
        }
      }
      let nl = buf.indexOf(NL, at);
      if (nl < 0) nl = len;
      let end = nl;
      at = nl + 1;
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
      if (!fb || !sameBytes(buf, start, colon, buf, lastStart, lastEnd, false)) {
        lastStart = start;
        lastEnd = colon;
        file = buf.toString('utf8', start, colon);
        fb = raw.get(file);
        if (!fb) raw.set(file, (fb = { byStart: new Map(), order: [], cursor: 0 }));
      }
      merge(fb, colon, src.name, lineNo, file);
    }
    if (!sawMode) throw new UserError(`${src.name} is empty: no \`mode:\` line and no blocks.`);
  }
  if (!mode) throw new UserError('No coverage profile was given.');
  const set = mode === 'set';
  const files = new Map<string, Block[]>();
  for (const [file, fb] of raw) {
    if (set) for (const seen of fb.order) seen.count = seen.count ? 1 : 0;
    files.set(file, sortAndCheck(file, fb.order));
  }
  return { mode, files };
}

/** One file's blocks: by start position, and in the order first seen (profiles repeat that order). */
interface FileBlocks {
  byStart: Map<number | string, Seen>;
  order: Seen[];
  /** Where the next line of this file is expected in `order`: a -coverpkg profile repeats the file's blocks in the same order once per test binary, so a guess saves the map lookup. */
  cursor: number;
}

/** Merges the block in `scratch` (its line parsed) into the file's blocks; counts add, set mode ORs at the end. */
function merge(fb: FileBlocks, colon: number, name: string, lineNo: number, file: string): void {
  const startLine = scratch[0];
  const startCol = scratch[1];
  const endLine = scratch[2];
  const endCol = scratch[3];
  const numStmt = scratch[4];
  const count = scratch[5];
  let seen: Seen | undefined = fb.order[fb.cursor];
  if (!seen || seen.startLine !== startLine || seen.startCol !== startCol) {
    const key = startCol < COL_LIMIT && startLine < LINE_LIMIT ? (startLine * COL_LIMIT + startCol) | 0 : `${startLine}.${startCol}`;
    seen = fb.byStart.get(key);
    if (!seen) {
      const fresh = { startLine, startCol, endLine, endCol, numStmt, count, src: name, line: lineNo, index: fb.order.length };
      fb.byStart.set(key, fresh);
      fb.order.push(fresh);
      fb.cursor = fb.order.length;
      return;
    }
  }
  fb.cursor = seen.index + 1;
  const had = seen;
  if (had.endLine !== endLine || had.endCol !== endCol || had.numStmt !== numStmt) {
    const pos = `${startLine}.${startCol},${endLine}.${endCol}`;
    if (had.endLine !== endLine || had.endCol !== endCol)
      throw new UserError(
        `${name}:${lineNo}: block ${file}:${pos} starts where ${had.startLine}.${had.startCol},${had.endLine}.${had.endCol} from ${whereOf(seen)} does: the profiles come from different versions of the source. Regenerate them from one commit.`,
      );
    throw new UserError(
      `${name}:${lineNo}: block ${file}:${pos} has ${numStmt} statements, but ${whereOf(seen)} says ${had.numStmt}: the profiles come from different versions of the source.`,
    );
  }
  // Set mode ORs: any non-zero count is 1 at the end, so adding is the same and needs no branch.
  had.count += count;
  void colon;
}

/**
 * Reads `l0.c0,l1.c1 numStmt count` from `at` (just after the file name's colon) into `scratch`,
 * left to right, up to the end of the line. Returns the next line's start, or -1 when the rest is not
 * exactly that (the careful path then reads the line as x/tools does, from the right).
 */
function parseForward(buf: Buffer, at: number, len: number): number {
  let i = at;
  for (let field = 0; field < 6; field++) {
    let value = 0;
    const first = i;
    for (let c = buf[i]; c >= ZERO && c <= ZERO + 9; c = buf[++i]) value = value * 10 + (c - ZERO);
    if (i === first) return -1;
    scratch[field] = value;
    if (field < 5) {
      if (buf[i] !== SEPARATORS[field + 1]) return -1;
      i++;
    }
  }
  if (i === len) return len;
  if (buf[i] === NL) return i + 1;
  if (buf[i] === CR && buf[i + 1] === NL) return i + 2;
  return -1;
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
function sortAndCheck(file: string, list: Seen[]): Block[] {
  list.sort((a, b) => a.startLine - b.startLine || a.startCol - b.startCol);
  for (let i = 1; i < list.length; i++) {
    const last = list[i - 1];
    const b = list[i];
    if (before(b.startLine, b.startCol, last.endLine, last.endCol)) {
      const verb = b.startLine === last.startLine && b.startCol === last.startCol ? 'starts where' : 'starts inside';
      throw new UserError(
        `${whereOf(b)}: block ${file}:${b.startLine}.${b.startCol},${b.endLine}.${b.endCol} ${verb} ${last.startLine}.${last.startCol},${last.endLine}.${last.endCol} from ${whereOf(last)}: the profiles come from different versions of the source. Regenerate them from one commit.`,
      );
    }
  }
  return list.map(({ startLine, startCol, endLine, endCol, numStmt, count }) => ({
    startLine,
    startCol,
    endLine,
    endCol,
    numStmt,
    count,
  }));
}
