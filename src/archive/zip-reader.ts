import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as Zlib from 'node:zlib';

// Loaded by the first entry read: coverage-gate imports this reader (a baseline from an artifact)
// but most runs never open a zip, and Node's zlib is about 2 ms of a start.
const zlib = (): typeof Zlib => process.getBuiltinModule('node:zlib');

/** One file in a zip archive; `read()` inflates and checks its CRC. */
export interface ZipEntry {
  name: string;
  size: number;
  read(): Buffer;
}

/**
 * A small reader for the zips Go module proxies serve (store and deflate, no zip64). Entry names are
 * checked here so no caller can be handed a path that escapes its destination.
 */
export function readZip(buf: Buffer, label = 'zip'): ZipEntry[] {
  const eocd = findEndOfCentralDirectory(buf, label);
  const count = buf.readUInt16LE(eocd + 10);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff)
    throw new Error(`${label}: zip64 archives are not supported`);
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50)
      throw new Error(`${label}: corrupt central directory (entry ${i})`);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const compressed = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/')) continue;
    assertSafeName(name, label);
    if (local + 30 > buf.length || buf.readUInt32LE(local) !== 0x04034b50)
      throw new Error(`${label}: corrupt local header for ${name}`);
    const dataStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    if (dataStart + compressed > buf.length)
      throw new Error(`${label}: ${name} runs past the end of the archive (truncated?)`);
    entries.push({
      name,
      size,
      read: () => {
        const raw = buf.subarray(dataStart, dataStart + compressed);
        const data = method === 0 ? Buffer.from(raw) : method === 8 ? zlib().inflateRawSync(raw) : undefined;
        if (!data) throw new Error(`${label}: ${name} uses unsupported compression method ${method}`);
        if (data.length !== size || zlib().crc32(data) !== crc)
          throw new Error(`${label}: ${name} is corrupt (size or CRC mismatch)`);
        return data;
      },
    });
  }
  return entries;
}

function findEndOfCentralDirectory(buf: Buffer, label: string): number {
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) return i;
  }
  throw new Error(`${label}: not a zip archive (no end-of-central-directory record; truncated?)`);
}

/** Rejects absolute paths, `..` segments, backslashes and NULs: nothing may land outside the target. */
function assertSafeName(name: string, label: string): void {
  if (
    name.startsWith('/') ||
    name.includes('\\') ||
    name.includes('\0') ||
    name.split('/').some((s) => s === '..' || s === '')
  ) {
    throw new Error(`${label}: refusing unsafe path ${JSON.stringify(name)}`);
  }
}

/**
 * Writes the entries under `prefix` into `dest` (prefix removed) and returns every entry's sha256,
 * keyed by its full name, for checking against a dirhash. `mode` decides each file's permissions.
 */
export function extractZip(
  entries: ZipEntry[],
  dest: string,
  opts: { prefix: string; mode?: (relative: string) => number; rename?: (relative: string) => string },
): { name: string; sha256: string }[] {
  const hashes: { name: string; sha256: string }[] = [];
  const made = new Set<string>();
  for (const entry of entries) {
    const data = entry.read();
    hashes.push({ name: entry.name, sha256: createHash('sha256').update(data).digest('hex') });
    if (!entry.name.startsWith(opts.prefix))
      throw new Error(`zip entry ${entry.name} is outside ${opts.prefix}`);
    const relative = opts.rename
      ? opts.rename(entry.name.slice(opts.prefix.length))
      : entry.name.slice(opts.prefix.length);
    const file = join(dest, relative);
    const parent = dirname(file);
    if (!made.has(parent)) {
      mkdirSync(parent, { recursive: true });
      made.add(parent);
    }
    writeFileSync(file, data, { mode: opts.mode ? opts.mode(relative) : 0o644 });
  }
  return hashes;
}
