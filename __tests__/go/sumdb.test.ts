import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { runCommand } from '../../src/runner/command.js';
import {
  leafHash,
  parseLookup,
  parseVerifierKey,
  proveInclusion,
  SUM_GOLANG_ORG_KEY,
  tilePath,
  verifyTreeNote,
} from '../../src/go/sumdb.js';
import { describeWith, hasCommand } from '../helpers/components.js';

const sha = (...b: Buffer[]) => createHash('sha256').update(Buffer.concat(b)).digest();
const node = (l: Buffer, r: Buffer) => sha(Buffer.from([1]), l, r);

/** RFC 6962 root straight from the leaves: the reference the tile-based proof must agree with. */
function referenceRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0];
  const k = 2 ** Math.floor(Math.log2(leaves.length - 1));
  return node(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

/** A checksum database of our own: key, signed notes, and tiles of height 8 as the real one serves. */
function makeLog(size: number) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.concat([
    Buffer.from([1]),
    publicKey.export({ format: 'der', type: 'spki' }).subarray(12),
  ]);
  const name = 'test.sumdb.example';
  const hash = sha(Buffer.from(`${name}\n`), raw).subarray(0, 4);
  const vkey = `${name}+${hash.toString('hex')}+${raw.toString('base64')}`;
  const records = Array.from({ length: size }, (_, i) => `example.com/m${i} v1.0.0 h1:${'A'.repeat(43)}=\n`);
  const leaves = records.map((r) => leafHash(Buffer.from(r)));
  // Level 8 stored hashes: roots of each complete group of 256 leaves.
  const level8 = Array.from({ length: Math.floor(size / 256) }, (_, i) =>
    referenceRoot(leaves.slice(i * 256, i * 256 + 256)),
  );
  const tiles = new Map<string, Buffer>();
  for (const [level, row] of [
    [0, leaves],
    [1, level8],
  ] as const) {
    for (let t = 0; t * 256 < row.length; t++) {
      const part = row.slice(t * 256, t * 256 + 256);
      tiles.set(tilePath(level, t, part.length), Buffer.concat(part));
    }
  }
  const signNote = (treeSize: number, root: Buffer) => {
    const text = `go.sum database tree\n${treeSize}\n${root.toString('base64')}\n`;
    const sig = Buffer.concat([hash, sign(null, Buffer.from(text), privateKey)]);
    return `${text}\n\u2014 ${name} ${sig.toString('base64')}\n`;
  };
  return { vkey, records, leaves, tiles, signNote, root: referenceRoot(leaves) };
}

describe('checksum database proofs', () => {
  test('the built-in key for sum.golang.org parses, and its hash checks out', () => {
    expect(parseVerifierKey(SUM_GOLANG_ORG_KEY).name).toBe('sum.golang.org');
    expect(() => parseVerifierKey(SUM_GOLANG_ORG_KEY.replace('033de0ae', '033de0af'))).toThrow(
      'its hash 033de0af does not match its key (033de0ae)',
    );
    expect(() => parseVerifierKey('sum.golang.org')).toThrow('is not a checksum-database verifier key');
  });

  test.each([
    [0, 5, 256, 'tile/8/0/005'],
    [0, 1234067, 256, 'tile/8/0/x001/x234/067'],
    [1, 1000, 17, 'tile/8/1/x001/000.p/17'],
    [2, 0, 3, 'tile/8/2/000.p/3'],
  ])('tile path level %i index %i width %i', (level, index, width, path) => {
    expect(tilePath(level, index, width)).toBe(path);
  });

  test.each([1, 2, 3, 7, 255, 256, 257, 600, 1000])(
    'inclusion proofs from tiles agree with the RFC 6962 root for every record of a %i-record log',
    async (size) => {
      const log = makeLog(size);
      const tree = verifyTreeNote(log.signNote(size, log.root), parseVerifierKey(log.vkey));
      const fetchTile = async (p: string) => {
        const t = log.tiles.get(p);
        if (!t) throw new Error(`no tile ${p}`);
        return t;
      };
      const ids =
        size <= 10 ? [...Array(size).keys()] : [0, 1, 255, 256, size - 2, size - 1].filter((i) => i < size);
      for (const id of ids) await proveInclusion(tree, id, log.leaves[id], fetchTile);
      // A changed record, or a record placed at another index, fails.
      await expect(proveInclusion(tree, 0, leafHash(Buffer.from('forged\n')), fetchTile)).rejects.toThrow(
        'is not in the signed tree',
      );
      if (size > 1)
        await expect(proveInclusion(tree, 1, log.leaves[0], fetchTile)).rejects.toThrow(
          'is not in the signed tree',
        );
    },
  );

  test('a note signed by another key, or edited after signing, is refused', () => {
    const a = makeLog(4);
    const b = makeLog(4);
    expect(() => verifyTreeNote(a.signNote(4, a.root), parseVerifierKey(b.vkey))).toThrow(/not signed by/);
    const edited = a.signNote(4, a.root).replace('\n4\n', '\n5\n');
    expect(() => verifyTreeNote(edited, parseVerifierKey(a.vkey))).toThrow(/not signed by/);
  });
});

describeWith(
  'the Go module proxy',
  hasCommand('go', ['version']),
  'the real checksum database through GOPROXY',
  () => {
    test('a toolchain record verifies: signed tree head and an inclusion proof from real tiles', async () => {
      const proxy = (await runCommand('go', ['env', 'GOPROXY'])).stdout.trim().split(/[,|]/)[0];
      const base = `${proxy}/sumdb/sum.golang.org`;
      const body = await (
        await fetch(`${base}/lookup/golang.org/toolchain@v0.0.1-go1.22.12.linux-amd64`)
      ).text();
      const answer = parseLookup(body);
      expect(answer.record).toMatch(/^golang\.org\/toolchain v0\.0\.1-go1\.22\.12\.linux-amd64 h1:\S+=\n/);
      const tree = verifyTreeNote(answer.note, parseVerifierKey(SUM_GOLANG_ORG_KEY));
      expect(tree.size).toBeGreaterThan(answer.id);
      const fetched: string[] = [];
      const fetchTile = async (p: string) => {
        fetched.push(p);
        const r = await fetch(`${base}/${p}`);
        if (!r.ok) throw new Error(`${p}: ${r.status}`);
        return Buffer.from(await r.arrayBuffer());
      };
      await proveInclusion(tree, answer.id, leafHash(Buffer.from(answer.record)), fetchTile);
      expect(fetched.length).toBeGreaterThan(0);
      const forged = answer.record.replace(/h1:./, (m) => (m.endsWith('A') ? 'h1:B' : 'h1:A'));
      await expect(proveInclusion(tree, answer.id, leafHash(Buffer.from(forged)), fetchTile)).rejects.toThrow(
        'is not in the signed tree',
      );
    }, 120_000);
  },
);
