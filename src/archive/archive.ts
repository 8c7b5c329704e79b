import { spawn } from 'node:child_process';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { crc32, deflateRaw, gunzipSync } from 'node:zlib';
import { UserError } from '../runner/errors.js';

// zlib's threadpool versions: several targets compress at once, beside the Go builds.
const deflateRawAsync = promisify(deflateRaw);
// Output buffers of 1 MiB instead of zlib's 16 KiB: a 6 MB binary's gzip then comes back to Node's
// thread in 3 pieces, not 160 to copy and join. The bytes are the same (zlib's output does not depend
// on its buffer size); two binaries compressed at once took 199 ms instead of 269 ms here.
const CHUNK = 1 << 20;

/** A file to put in an archive: its name inside the archive, bytes and whether it is executable. */
export interface ArchiveEntry {
  name: string;
  data: Buffer;
  executable: boolean;
  /** A directory entry (image layers list their directories); `data` is then empty. */
  dir?: boolean;
  /** Owner of the entry (default 0:0); image layers give the app's files to a non-root user. */
  uid?: number;
  gid?: number;
}

/**
 * A tar that depends on nothing but its entries and one timestamp: entries sorted by name, modes
 * 0755/0644, owner 0:0 with no user or group names, every mtime = the commit time (gzipBytes adds a
 * header without a timestamp or file name). The same commit built anywhere gives the same bytes. An
 * image layer's diff_id is its sha256.
 */
export function tar(entries: ArchiveEntry[], mtime: number): Buffer {
  return Buffer.concat(tarParts(entries, mtime));
}

/**
 * The same tar as a list of its pieces (headers, the entries' own bytes, padding), for gzipBytes:
 * a 6 MB binary is then deflated where it lies instead of first being copied into one tar buffer.
 */
export function tarParts(entries: ArchiveEntry[], mtime: number): Buffer[] {
  const blocks: Buffer[] = [];
  for (const e of sorted(entries)) {
    blocks.push(tarHeader(e, mtime), e.data);
    const pad = (512 - (e.data.length % 512)) % 512;
    if (pad) blocks.push(Buffer.alloc(pad));
  }
  blocks.push(Buffer.alloc(1024)); // two zero blocks end the archive
  return blocks;
}

/**
 * Deflate (raw) in pieces of BLOCK bytes compressed at once on zlib's threadpool, as pigz does: each
 * piece but the last ends with a sync flush instead of the final block, and each piece after the
 * first starts with the 32 KiB before it as its dictionary, so matches still reach back across the
 * seam. A 6 MB Go binary compresses in about half the time on two cores (the last archive of a
 * build is otherwise one core's work while the other waits) for 350-1,400 bytes more (hello-svc's
 * binaries: 0.01-0.05%). The pieces are fixed, so the bytes depend only on the input and the level.
 */
export async function deflateBlocks(data: Buffer | Buffer[], level: number): Promise<Buffer[]> {
  const { Z_FINISH, Z_SYNC_FLUSH } = zlib.constants;
  const parts = Array.isArray(data) ? data : [data];
  const size = parts.reduce((n, p) => n + p.length, 0);
  const pieces: Promise<Buffer>[] = [];
  for (let at = 0; at === 0 || at < size; at += BLOCK) {
    const end = Math.min(at + BLOCK, size);
    pieces.push(
      deflateRawAsync(range(parts, at, end), {
        level,
        chunkSize: CHUNK,
        finishFlush: end === size ? Z_FINISH : Z_SYNC_FLUSH,
        ...(at ? { dictionary: range(parts, at - WINDOW, at) } : {}),
      }),
    );
  }
  return Promise.all(pieces);
}

/** Bytes [from, to) of the concatenation of `parts`: a view when they lie in one part, else a copy. */
function range(parts: Buffer[], from: number, to: number): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (const p of parts) {
    const start = Math.max(from - at, 0);
    const end = Math.min(to - at, p.length);
    if (end > start) out.push(p.subarray(start, end));
    at += p.length;
    if (at >= to) break;
  }
  return out.length === 1 ? out[0] : Buffer.concat(out);
}

const BLOCK = 1 << 20;
const WINDOW = 32 << 10;

/**
 * gzip (RFC 1952) around deflateBlocks: no time or name in the header, and the same header on every
 * OS (zlib writes its own OS code, so a Windows runner's archive differed by one byte). The extra
 * flags byte is zlib's for the level.
 */
async function gzipBlocks(data: Buffer | Buffer[], level: number): Promise<Buffer> {
  const parts = Array.isArray(data) ? data : [data];
  const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level === 9 ? 2 : level < 2 ? 4 : 0, 3]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(
    parts.reduce((crc, p) => crc32(p, crc), 0),
    0,
  );
  trailer.writeUInt32LE(parts.reduce((n, p) => n + p.length, 0) % 2 ** 32, 4);
  return Buffer.concat([header, ...(await deflateBlocks(parts, level)), trailer]);
}

/**
 * gzip without a time or name in its header, at zlib's default level (level 9 takes 3x longer for
 * 0.3% on Go binaries). `data` may come in parts (tarParts): the bytes are those of their concatenation.
 */
export function gzipBytes(data: Buffer | Buffer[]): Promise<Buffer> {
  return gzipBlocks(data, 6);
}

/**
 * An image layer's gzip: zlib's fastest level, as go-containerregistry (ko, crane) writes layers. A
 * layer is unpacked once per pull and stored unpacked; on a Go binary level 1 is 2-3x faster than 6
 * for about 8% more bytes. Still no time or name in the header, so the same tar gives the same digest.
 */
export function gzipLayer(data: Buffer): Promise<Buffer> {
  return gzipBlocks(data, 1);
}

/**
 * A tar compressed with xz or zstd (GoReleaser's tar.xz / tar.zst archives). zstd is Node's own zlib
 * (Node 22.15 and later, which runs actions); xz, which Node lacks, is the `xz` program every Linux
 * and macOS runner image has, run single-threaded so the bytes depend only on the input.
 */
export async function compressTar(data: Buffer, codec: 'xz' | 'zstd'): Promise<Buffer> {
  const zstd = (zlib as { zstdCompress?: typeof zlib.gzip }).zstdCompress;
  if (codec === 'zstd' && zstd) return promisify(zstd)(data);
  const [program, args] = codec === 'xz' ? ['xz', ['-6', '-T1', '-c']] : ['zstd', ['-3', '-q', '-c']];
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => (err += b));
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'ENOENT'
          ? new UserError(
              `A tar.${codec === 'xz' ? 'xz' : 'zst'} archive needs the \`${program}\` program, which is not on PATH. Install it (Debian/Ubuntu: apt-get install ${codec === 'xz' ? 'xz-utils' : 'zstd'}; macOS: brew install ${program}) or choose tar.gz.`,
            )
          : e,
      ),
    );
    child.on('close', (code) =>
      code === 0
        ? resolve(Buffer.concat(out))
        : reject(new Error(`${program} exited ${code}: ${err.trim()}`)),
    );
    child.stdin.end(data);
  });
}

function sorted(entries: ArchiveEntry[]): ArchiveEntry[] {
  return [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** A POSIX ustar header; names longer than 100 bytes use the 155-byte prefix field. */
function tarHeader(e: ArchiveEntry, mtime: number): Buffer {
  const h = Buffer.alloc(512);
  let name = e.name;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 1);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
    if (cut < 0 || Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155)
      throw new Error(`archive entry name too long for ustar: ${e.name}`);
  }
  h.write(name, 0, 100, 'utf8');
  h.write(octal(e.dir || e.executable ? 0o755 : 0o644, 8), 100, 'ascii');
  h.write(octal(e.uid ?? 0, 8), 108, 'ascii');
  h.write(octal(e.gid ?? 0, 8), 116, 'ascii');
  h.write(octal(e.data.length, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // checksum placeholder
  h.write(e.dir ? '5' : '0', 156, 'ascii'); // directory or regular file
  h.write('ustar\x0000', 257, 'binary');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** MS-DOS date and time fields for a Unix time (UTC; zip has no time zone). */
function dosTime(unix: number): { time: number; date: number } {
  const d = new Date(Math.max(unix, 315532800) * 1000); // zip cannot go before 1980
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

/** A zip (deflate) with the same rules as tar: sorted, fixed times, Unix modes in the external attributes. */
export async function zip(entries: ArchiveEntry[], mtime: number): Promise<Buffer> {
  const { time, date } = dosTime(mtime);
  const local: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const list = sorted(entries);
  const bodies = await Promise.all(list.map((e) => deflateBlocks(e.data, 6)));
  for (const [i, e] of list.entries()) {
    const name = Buffer.from(e.name, 'utf8');
    const body = bodies[i];
    const bodySize = body.reduce((n, b) => n + b.length, 0);
    const crc = crc32(e.data);
    // The local header and the central directory entry share these fields, 2 bytes apart.
    const common = (b: Buffer, at: number) => {
      b.writeUInt16LE(20, at); // version needed
      b.writeUInt16LE(0x0800, at + 2); // UTF-8 names
      b.writeUInt16LE(8, at + 4); // deflate
      b.writeUInt16LE(time, at + 6);
      b.writeUInt16LE(date, at + 8);
      b.writeUInt32LE(crc, at + 10);
      b.writeUInt32LE(bodySize, at + 14);
      b.writeUInt32LE(e.data.length, at + 18);
      b.writeUInt16LE(name.length, at + 22);
    };
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    common(lh, 4);
    local.push(lh, name, ...body);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, zip 2.0
    common(ch, 6);
    ch.writeUInt32LE(((0o100000 | (e.executable ? 0o755 : 0o644)) << 16) >>> 0, 38);
    ch.writeUInt32LE(offset, 42);
    central.push(ch, name);
    offset += lh.length + name.length + bodySize;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(central.length / 2, 8);
  end.writeUInt16LE(central.length / 2, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, cd, end]);
}

/** The regular files of an uncompressed (ustar) tar, such as `docker save` writes. */
export function readTar(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (let at = 0; at + 512 <= buf.length;) {
    const h = buf.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const field = (from: number, len: number) => h.toString('utf8', from, from + len).replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const prefix = field(345, 155);
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    if ((field(156, 1) || '0') === '0') out.set(name, Buffer.from(buf.subarray(at + 512, at + 512 + size)));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** The regular files of a .tar.gz, such as build-matrix's archives. */
export function readTarGz(data: Buffer): { name: string; data: Buffer }[] {
  return [...readTar(gunzipSync(data))].map(([name, bytes]) => ({ name, data: bytes }));
}
