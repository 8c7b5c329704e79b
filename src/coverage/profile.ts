import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
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

/**
 * One file's blocks, sorted by start: six numbers each in one Float64Array, because a big module's
 * profile holds hundreds of thousands of blocks, and as objects they cost more in garbage collection
 * than everything else coverage-gate does. `at(i)` and `toArray()` give Block objects.
 */
export class Blocks {
  constructor(
    readonly data: Float64Array,
    readonly length: number,
  ) {}

  static of(list: Block[]): Blocks {
    const data = new Float64Array(list.length * 6);
    list.forEach((b, i) => data.set([b.startLine, b.startCol, b.endLine, b.endCol, b.numStmt, b.count], i * 6));
    return new Blocks(data, list.length);
  }

  startLine(i: number): number {
    return this.data[i * 6];
  }
  startCol(i: number): number {
    return this.data[i * 6 + 1];
  }
  endLine(i: number): number {
    return this.data[i * 6 + 2];
  }
  endCol(i: number): number {
    return this.data[i * 6 + 3];
  }
  numStmt(i: number): number {
    return this.data[i * 6 + 4];
  }
  count(i: number): number {
    return this.data[i * 6 + 5];
  }

  at(i: number): Block {
    const d = this.data;
    const k = i * 6;
    return { startLine: d[k], startCol: d[k + 1], endLine: d[k + 2], endCol: d[k + 3], numStmt: d[k + 4], count: d[k + 5] };
  }

  toArray(): Block[] {
    return Array.from({ length: this.length }, (_, i) => this.at(i));
  }
}

export interface Profile {
  mode: CoverMode;
  /** Blocks per file (import-path form, `example.com/m/pkg/file.go`), sorted by start, merged. */
  files: Map<string, Blocks>;
}

/** A profile: its bytes, or a file read in chunks (a big profile never sits whole in memory). */
export type ProfileSource = {
  /** Shown in errors: a path, or a description such as `GOCOVERDIR ./cov`. */
  name: string;
} & ({ text: string | Buffer } | { path: string });

const MODES = new Set(['set', 'count', 'atomic']);
// The bytes the parser looks for, by name.
const [NL, CR, SPACE, DOT, COMMA, COLON, ZERO] = Buffer.from('\n\r .,:0');
const MODE_PREFIX = Buffer.from('mode: ');
/**
 * Parses and merges profiles the way golang.org/x/tools/cover does: each line is read from the right
 * (`file:l0.c0,l1.c1 numStmt count`, so file names may hold ':'), blocks at the same position merge
 * (set: OR; count/atomic: add). Joined profiles repeat their `mode:` line; repeats are dropped.
 * Unlike x/tools, a NumStmt mismatch, a mode mismatch or overlapping-but-different blocks (the
 * source changed between runs) name the profile and line, because a silently wrong total is worse.
 *
 * Profiles of big test suites run to millions of lines, mostly repeats, so lines are read as bytes:
 * no string per line, the file name decoded only when it changes, no object per block. A
 * `-coverpkg` profile lists every block of every package once per test binary, and most binaries
 * never reach most files: a run of a file's lines that is byte for byte a run already read with
 * every count 0 adds nothing, and is stepped over with one comparison instead of read again.
 */
export function parseProfiles(sources: ProfileSource[]): Profile {
  let mode: CoverMode | undefined;
  let modeFrom = '';
  const raw = new Map<string, FileBlocks>();
  for (const src of sources) {
    let sawMode = false;
    let lineNo = 0;
    // The current file name's bytes (copied: chunks are reused) and its blocks.
    let name = Buffer.alloc(0);
    let fb: FileBlocks | undefined;
    // Whether sameFileRun may compare against this name (it has no NUL byte).
    let fast = false;
    // The current run of lines naming the same file: where it began in this chunk (-1: in an
    // earlier chunk, or a blank or mode line is among them), its first line, and whether every
    // count in it is 0. Such a run, once it ends, is the file's `zeroRun`.
    let runStart = -1;
    let runFirst = 0;
    let runZero = false;
    /** Parses the complete lines in buf[0, len). */
    const lines = (buf: Buffer, len: number): void => {
      runStart = -1;
      for (let at = 0; at < len; ) {
        // Nearly every line: the same file as the line before, then six numbers. Those runs are read
        // by a loop of their own, with nothing captured (closure variables cost on every access).
        if (fast) {
          at = sameFileRun(buf, at, len, name, fb!);
          lineNo += runLines;
          if (runCounted) runZero = false;
          if (at >= len) break;
        }
        const start = at;
        lineNo++;
        let nl = buf.indexOf(NL, at);
        if (nl < 0 || nl >= len) nl = len;
        let end = nl;
        at = nl + 1;
        if (end > start && buf[end - 1] === CR) end--;
        if (isBlank(buf, start, end)) {
          runStart = -1;
          continue;
        }
        if (sameBytes(buf, start, end, MODE_PREFIX, 0, MODE_PREFIX.length, true)) {
          runStart = -1;
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
        if (!fb || !sameBytes(buf, start, colon, name, 0, name.length, false)) {
          if (fb && runStart >= 0 && runZero && !fb.zeroRun) {
            fb.zeroRun = Buffer.from(buf.subarray(runStart, start));
            fb.zeroRunLines = lineNo - runFirst;
          }
          name = Buffer.from(buf.subarray(start, colon));
          fast = !name.includes(0);
          const file = name.toString('utf8');
          fb = raw.get(file);
          if (!fb) raw.set(file, (fb = { file, data: new Float64Array(6 * 16), n: 0, cursor: 0, zeroRunLines: 0 }));
          // Each test binary lists a file's blocks in the same order: expect the first one again.
          fb.cursor = 0;
          const z = fb.zeroRun;
          if (z && start + z.length <= len && buf.compare(z, 0, z.length, start, start + z.length) === 0) {
            at = start + z.length;
            lineNo += fb.zeroRunLines - 1;
            runStart = -1;
            continue;
          }
          runStart = start;
          runFirst = lineNo;
          runZero = true;
        }
        add(fb);
        if (scratch[5] !== 0) runZero = false;
      }
    };
    if ('path' in src) readLines(src.path, lines);
    else {
      const buf = typeof src.text === 'string' ? Buffer.from(src.text) : src.text;
      lines(buf, buf.length);
    }
    if (!sawMode) throw new UserError(`${src.name} is empty: no \`mode:\` line and no blocks.`);
  }
  if (!mode) throw new UserError('No coverage profile was given.');
  const files = new Map<string, Blocks>();
  for (const [file, fb] of raw) files.set(file, sortAndMerge(fb, mode === 'set', sources));
  return { mode, files };
}

const CHUNK = 1 << 20;

/**
 * Feeds a file's complete lines to `lines`, read a megabyte at a time into one reused buffer (a
 * partial last line moves to the front for the next read). A reused buffer stays in the CPU cache;
 * a 30 MB one read whole costs more in page faults than its bytes are worth.
 */
function readLines(path: string, lines: (buf: Buffer, len: number) => void): void {
  let buf: Buffer = Buffer.allocUnsafe(CHUNK);
  let have = 0;
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      if (have === buf.length) buf = grown(buf, have, buf.length * 2);
      const n = readSync(fd, buf, have, buf.length - have, null);
      const total = have + n;
      if (n === 0) {
        if (total === 0) return;
        // End the last line with a newline, so no line is read on into what an earlier chunk left.
        if (total === buf.length) buf = grown(buf, total, total + 1);
        buf[total] = NL;
        lines(buf, total + 1);
        return;
      }
      const lastNl = buf.lastIndexOf(NL, total - 1);
      if (lastNl < 0) {
        have = total;
        continue;
      }
      lines(buf, lastNl + 1);
      have = buf.copy(buf, 0, lastNl + 1, total);
    }
  } finally {
    closeSync(fd);
  }
}

/** A bigger buffer holding the first `used` bytes of `buf`. */
function grown(buf: Buffer, used: number, size: number): Buffer {
  const bigger = Buffer.allocUnsafe(size);
  buf.copy(bigger, 0, 0, used);
  return bigger;
}

let runLines = 0;
let runCounted = false;

/**
 * Reads lines from `at` while they name the file `name` and hold six numbers up to the newline,
 * adding each block; returns where it stopped (the careful path takes that line) and leaves the
 * number of lines read in `runLines`, and whether any count was not 0 in `runCounted`.
 */
function sameFileRun(buf: Buffer, at: number, len: number, name: Buffer, fb: FileBlocks): number {
  const nameLen = name.length;
  let n = 0;
  let counted = false;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const nameView = new DataView(name.buffer, name.byteOffset, name.byteLength);
  const words = nameLen & ~7;
  while (at < len && buf[at + nameLen] === COLON) {
    // Eight bytes at a time, as one float each: the name is compared again on every line. Equal
    // floats are equal bytes except NaN (never equal: the careful path takes the line) and 0/-0,
    // which need seven NUL bytes: a name holding a NUL never comes here (`fast` in parseProfiles).
    let k = 0;
    while (k < words && view.getFloat64(at + k, true) === nameView.getFloat64(k, true)) k += 8;
    if (k < words) break;
    while (k < nameLen && buf[at + k] === name[k]) k++;
    if (k < nameLen) break;
    const next = parseForward(buf, at + nameLen + 1, len);
    if (next < 0) break;
    add(fb);
    if (scratch[5] !== 0) counted = true;
    n++;
    at = next;
  }
  runLines = n;
  runCounted = counted;
  return at;
}

/** One file's blocks as read (six numbers each): distinct ones, plus any repeat out of the usual order. */
interface FileBlocks {
  file: string;
  data: Float64Array;
  n: number;
  /**
   * Where the next line of this file is expected: a -coverpkg profile repeats each file's blocks in
   * the same order once per test binary, so the guess nearly always holds and no lookup is needed. A
   * line that misses is appended and merged after sorting, as x/tools does.
   */
  cursor: number;
  /** A run of this file's lines, every count 0, as read (bytes): the same bytes again add nothing. */
  zeroRun?: Buffer;
  zeroRunLines: number;
}

/** Adds the block in `scratch` (its line just parsed) to the file's blocks. */
function add(fb: FileBlocks): void {
  const d = fb.data;
  const k = fb.cursor * 6;
  if (
    fb.cursor < fb.n &&
    d[k] === scratch[0] &&
    d[k + 1] === scratch[1] &&
    d[k + 2] === scratch[2] &&
    d[k + 3] === scratch[3] &&
    d[k + 4] === scratch[4]
  ) {
    d[k + 5] += scratch[5];
    fb.cursor++;
    return;
  }
  if (fb.n * 6 === d.length) {
    fb.data = new Float64Array(d.length * 2);
    fb.data.set(d);
  }
  fb.data.set(scratch, fb.n * 6);
  fb.cursor = ++fb.n;
}

/**
 * Sorts a file's blocks by start and merges repeats (counts add; set mode ORs). Repeats that differ
 * in end or statement count, and blocks that overlap, mean profiles of different sources: an error
 * that names the profile lines, found again by reading the profiles (only ever on this path).
 */
function sortAndMerge(fb: FileBlocks, set: boolean, sources: ProfileSource[]): Blocks {
  const d = fb.data;
  // go test lists a file's blocks in source order: usually nothing to sort and nothing to merge.
  let ordered = true;
  for (let k = 6; k < fb.n * 6 && ordered; k += 6)
    ordered = before(d[k - 6], d[k - 5], d[k], d[k + 1]) && !before(d[k], d[k + 1], d[k - 4], d[k - 3]);
  if (ordered) {
    if (set) for (let k = 5; k < fb.n * 6; k += 6) d[k] = d[k] ? 1 : 0;
    return new Blocks(d.subarray(0, fb.n * 6), fb.n);
  }
  const list = new Blocks(d, fb.n).toArray();
  list.sort((a, b) => a.startLine - b.startLine || a.startCol - b.startCol);
  const out: Block[] = [];
  for (const b of list) {
    const last = out[out.length - 1];
    if (last && last.startLine === b.startLine && last.startCol === b.startCol && last.endLine === b.endLine && last.endCol === b.endCol) {
      if (last.numStmt !== b.numStmt)
        throw new UserError(
          `${locate(fb.file, b, sources)}: block ${fb.file}:${pos(b)} has ${b.numStmt} statements, but ${locate(fb.file, last, sources)} says ${last.numStmt}: the profiles come from different versions of the source.`,
        );
      last.count += b.count;
      continue;
    }
    if (last && before(b.startLine, b.startCol, last.endLine, last.endCol)) {
      const verb = b.startLine === last.startLine && b.startCol === last.startCol ? 'starts where' : 'starts inside';
      const [first, second] = firstOf(fb.file, last, b, sources);
      throw new UserError(
        `${second.where}: block ${fb.file}:${pos(second.block)} ${verb} ${pos(first.block)} from ${first.where}${verb === 'starts where' ? ' does' : ''}: the profiles come from different versions of the source. Regenerate them from one commit.`,
      );
    }
    out.push(b);
  }
  if (set) for (const b of out) b.count = b.count ? 1 : 0;
  return Blocks.of(out);
}

const pos = (b: Block) => `${b.startLine}.${b.startCol},${b.endLine}.${b.endCol}`;

/** `profile:line` of the first line that holds this block of `file` (error messages only). */
function locate(file: string, b: Block, sources: ProfileSource[]): string {
  for (const src of sources) {
    const text = 'path' in src ? readFileSync(src.path, 'utf8') : src.text.toString();
    const lines = text.split('\n');
    for (const [i, line] of lines.entries()) {
      const at = line.replace(/\r$/, '');
      if (at.startsWith(`${file}:${pos(b)} ${b.numStmt} `)) return `${src.name}:${i + 1}`;
    }
  }
  return 'a profile';
}

/** Two conflicting blocks in the order the profiles list them, each with where it is. */
function firstOf(file: string, x: Block, y: Block, sources: ProfileSource[]) {
  const wx = locate(file, x, sources);
  const wy = locate(file, y, sources);
  const order = (w: string) => {
    const i = sources.findIndex((s) => w.startsWith(`${s.name}:`));
    return [i, Number(w.slice(w.lastIndexOf(':') + 1))];
  };
  const [ix, lx] = order(wx);
  const [iy, ly] = order(wy);
  const a = { block: x, where: wx };
  const b = { block: y, where: wy };
  return ix < iy || (ix === iy && lx <= ly) ? [a, b] : [b, a];
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
