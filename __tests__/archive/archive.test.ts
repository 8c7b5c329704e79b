import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync, gunzipSync, inflateRawSync } from 'node:zlib';
import { deflateBlocks, gzipBytes, gzipLayer, tar, tarParts, zip } from '../../src/archive/archive.js';
import { tempDir } from '../helpers/cli.js';

// Archives are deflated in 1 MiB pieces at once (pigz's way). What comes out must be plain gzip and
// zip to the tools people open them with, byte for byte the input, and the same bytes every time.

const MiB = 1 << 20;

/** Bytes that compress somewhat, like a binary: runs, text and noise, so matches cross the seams. */
function binaryLike(size: number): Buffer {
  const b = Buffer.alloc(size);
  const noise = randomBytes(4096);
  for (let at = 0; at < size; at += 4096) {
    const kind = (at / 4096) % 3;
    if (kind === 0) noise.copy(b, at, 0, Math.min(4096, size - at));
    else if (kind === 1)
      b.write(`func main() { println("${at}") }\n`.repeat(120), at, Math.min(4096, size - at));
  }
  return b;
}

describe('deflate in pieces', () => {
  test.each([0, 1, 32 << 10, MiB - 1, MiB, MiB + 1, 3 * MiB + 5])(
    'gzip of %i bytes: gzip -d gives them back, gzip -t passes, no time or name in the header',
    async (size) => {
      const data = binaryLike(size);
      const gz = await gzipBytes(data);
      const file = join(tempDir('gzip-pieces'), 'x.gz');
      writeFileSync(file, gz);
      execFileSync('gzip', ['-t', file]);
      expect(execFileSync('gzip', ['-dc', file], { maxBuffer: 64 * MiB }).equals(data)).toBe(true);
      // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 (level 6) OS=3, on every runner OS
      expect([...gz.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
      expect((await gzipBytes(data)).equals(gz)).toBe(true);
    },
  );

  test('a piece after the first reaches back into the one before (its dictionary)', async () => {
    // 16 KiB of noise over and over for 2 MiB: each repeat is a match 16 KiB back, in the window.
    // The second piece's first 16 KiB match into the first piece only through the dictionary;
    // without it they would be stored as they are: 16 KiB more than one stream of the whole.
    const noise = randomBytes(16 << 10);
    const data = Buffer.concat(Array.from({ length: 128 }, () => noise));
    const raw = Buffer.concat(await deflateBlocks(data, 6));
    expect(inflateRawSync(raw).equals(data)).toBe(true);
    expect(raw.length).toBeLessThan(deflateRawSync(data, { level: 6 }).length + (4 << 10));
  });

  test('data in parts gzips to the same bytes as the parts joined, wherever the parts split', async () => {
    // Splits inside a piece, on a piece's edge, inside the 32 KiB dictionary before an edge, and
    // empty parts: every 1 MiB piece and its dictionary are cut out of several parts.
    const data = binaryLike(3 * MiB + 100);
    const cuts = [0, 7, 7, MiB - 100, MiB, MiB + 1, 2 * MiB - 1000, 2 * MiB - 10, 3 * MiB + 99, data.length];
    const parts = cuts.slice(1).map((to, i) => data.subarray(cuts[i], to));
    expect(parts.some((p) => p.length === 0)).toBe(true);
    const whole = await gzipBytes(data);
    expect((await gzipBytes(parts)).equals(whole)).toBe(true);
    expect(gunzipSync(whole).equals(data)).toBe(true);
  });

  test('a tar.gz from tarParts unpacks to tar() of the same entries', async () => {
    const entries = [
      { name: 'app', data: binaryLike(MiB + 333), executable: true },
      { name: 'LICENSE', data: Buffer.from('MIT\n'), executable: false },
    ];
    const gz = await gzipBytes(tarParts(entries, 1_700_000_000));
    expect(gunzipSync(gz).equals(tar(entries, 1_700_000_000))).toBe(true);
  });

  test('an image layer (level 1) reads back the same, with zlib’s flags byte for level 1', async () => {
    const data = binaryLike(2 * MiB + 17);
    const gz = await gzipLayer(data);
    expect(gunzipSync(gz).equals(data)).toBe(true);
    expect(gz[8]).toBe(4);
  });

  test('zip entries larger than a piece: unzip tests and extracts them as they were', async () => {
    const big = binaryLike(2 * MiB + 3);
    const small = Buffer.from('hello\n');
    const archive = await zip(
      [
        { name: 'app.exe', data: big, executable: true },
        { name: 'README.md', data: small, executable: false },
      ],
      1_700_000_000,
    );
    const dir = tempDir('zip-pieces');
    const file = join(dir, 'a.zip');
    writeFileSync(file, archive);
    expect(execFileSync('unzip', ['-t', file], { encoding: 'utf8' })).toContain('No errors detected');
    execFileSync('unzip', ['-q', file, '-d', join(dir, 'out')]);
    expect(readFileSync(join(dir, 'out', 'app.exe')).equals(big)).toBe(true);
    expect(readFileSync(join(dir, 'out', 'README.md')).equals(small)).toBe(true);
  });
});
