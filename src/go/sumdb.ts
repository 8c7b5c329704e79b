import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { UserError } from '../runner/errors.js';

/**
 * Checksum-database proofs, as the go command checks them (golang.org/x/mod/sumdb): the lookup
 * answer's tree head must carry a valid Ed25519 signature of the database's key, and the record must
 * be provably inside that tree (a Merkle inclusion proof built from the database's tiles). Without
 * both, a proxy could serve any hash it liked.
 */

/** The go command's built-in verifier key for the default database. */
export const SUM_GOLANG_ORG_KEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';

export interface VerifierKey {
  name: string;
  hash: Buffer;
  key: KeyObject;
}

/** Parses `name+hash+base64(alg || key)`; algorithm 1 is Ed25519. */
export function parseVerifierKey(vkey: string): VerifierKey {
  // The base64 key itself may contain '+': only the first two separate fields.
  const [name, hashHex] = vkey.split('+', 2);
  const keyB64 = vkey.split('+').slice(2).join('+');
  const raw = keyB64 ? Buffer.from(keyB64, 'base64') : Buffer.alloc(0);
  if (!name || !/^[0-9a-f]{8}$/.test(hashHex ?? '') || raw.length !== 33 || raw[0] !== 1) {
    throw new UserError(
      `GOSUMDB key \`${vkey}\` is not a checksum-database verifier key (name+hash+key, Ed25519). Set GOSUMDB to \`sum.golang.org\` or to the \`name+key [url]\` your database publishes.`,
    );
  }
  const expected = createHash('sha256')
    .update(Buffer.concat([Buffer.from(`${name}\n`), raw]))
    .digest()
    .subarray(0, 4);
  if (expected.toString('hex') !== hashHex) {
    throw new UserError(
      `GOSUMDB key \`${vkey}\`: its hash ${hashHex} does not match its key (${expected.toString('hex')}).`,
    );
  }
  // Ed25519 public key as SPKI DER: fixed 12-byte prefix, then the 32 key bytes.
  const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw.subarray(1)]);
  return { name, hash: expected, key: createPublicKey({ key: der, format: 'der', type: 'spki' }) };
}

export interface TreeHead {
  size: number;
  root: Buffer;
}

/** Verifies a signed note `go.sum database tree\n<size>\n<root>\n\n— <name> <sig>` and returns the tree. */
export function verifyTreeNote(note: string, vk: VerifierKey): TreeHead {
  const split = note.indexOf('\n\n');
  if (split < 0) throw new Error('the tree note has no signature block');
  const text = note.slice(0, split + 1);
  const sigs = note
    .slice(split + 2)
    .split('\n')
    .filter(Boolean);
  const ok = sigs.some((line) => {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m || m[1] !== vk.name) return false;
    const sig = Buffer.from(m[2], 'base64');
    return (
      sig.length === 68 &&
      sig.subarray(0, 4).equals(vk.hash) &&
      verify(null, Buffer.from(text), vk.key, sig.subarray(4))
    );
  });
  if (!ok) throw new Error(`the tree head is not signed by ${vk.name}'s key`);
  const [origin, size, root] = text.trimEnd().split('\n');
  if (origin !== 'go.sum database tree' || !/^\d+$/.test(size ?? '') || !root)
    throw new Error('the tree note is not a go.sum database tree');
  return { size: Number(size), root: Buffer.from(root, 'base64') };
}

export interface LookupAnswer {
  id: number;
  /** The record's lines, each ending in a newline: what the leaf hash covers. */
  record: string;
  note: string;
}

/** A `/lookup/` answer: the record id, the record, a blank line, then the signed tree note. */
export function parseLookup(body: string): LookupAnswer {
  const [idLine, ...rest] = body.split('\n');
  const joined = rest.join('\n');
  const gap = joined.indexOf('\n\n');
  if (!/^\d+$/.test(idLine) || gap < 0)
    throw new Error('the lookup answer is not in the checksum database format');
  return { id: Number(idLine), record: joined.slice(0, gap + 1), note: joined.slice(gap + 2) };
}

const sha256 = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();
export const leafHash = (data: Buffer): Buffer => sha256(Buffer.from([0]), data);
const nodeHash = (l: Buffer, r: Buffer): Buffer => sha256(Buffer.from([1]), l, r);

const TILE_HEIGHT = 8;
const TILE_WIDTH = 1 << TILE_HEIGHT;

/** A tile's path as the database serves it: `tile/8/<level>/x001/x234/067[.p/<width>]`. */
export function tilePath(level: number, index: number, width: number): string {
  let n = String(index % 1000).padStart(3, '0');
  for (let rest = Math.floor(index / 1000); rest > 0; rest = Math.floor(rest / 1000)) {
    n = `x${String(rest % 1000).padStart(3, '0')}/${n}`;
  }
  return `tile/${TILE_HEIGHT}/${level}/${n}${width < TILE_WIDTH ? `.p/${width}` : ''}`;
}

/**
 * Proves that the record with this id and leaf hash is in the tree: recomputes the root from the
 * leaf and the sibling subtree hashes read from tiles, and compares it with the signed root.
 */
export async function proveInclusion(
  tree: TreeHead,
  id: number,
  leaf: Buffer,
  fetchTile: (path: string) => Promise<Buffer>,
): Promise<void> {
  if (id >= tree.size) throw new Error(`record ${id} is outside the signed tree of size ${tree.size}`);
  const tiles = new Map<string, Promise<Buffer>>();

  // Hash of the complete, aligned subtree of 2^level leaves starting at leaf index*2^level.
  const stored = async (level: number, index: number): Promise<Buffer> => {
    const tileLevel = Math.floor(level / TILE_HEIGHT);
    const r = level - tileLevel * TILE_HEIGHT;
    const first = index * 2 ** r; // first bottom-row hash, at level tileLevel*8
    const tileIndex = Math.floor(first / TILE_WIDTH);
    const count = Math.floor(tree.size / 2 ** (tileLevel * TILE_HEIGHT));
    const width = Math.min(TILE_WIDTH, count - tileIndex * TILE_WIDTH);
    const path = tilePath(tileLevel, tileIndex, width);
    if (!tiles.has(path)) tiles.set(path, fetchTile(path));
    const data = await tiles.get(path)!;
    if (data.length < width * 32) throw new Error(`tile ${path} is short (${data.length} bytes)`);
    let row: Buffer[] = [];
    for (let i = 0; i < 1 << r; i++) {
      const at = (first - tileIndex * TILE_WIDTH + i) * 32;
      row.push(data.subarray(at, at + 32));
    }
    while (row.length > 1) row = row.flatMap((h, i) => (i % 2 ? [] : [nodeHash(h, row[i + 1])]));
    return row[0];
  };

  const largestPow2Below = (n: number): number => 2 ** Math.floor(Math.log2(n - 1));

  // RFC 6962 tree hash of leaves [lo, hi), from stored hashes.
  const treeHash = async (lo: number, hi: number): Promise<Buffer> => {
    const n = hi - lo;
    if ((n & (n - 1)) === 0 && lo % n === 0) return stored(Math.log2(n), lo / n);
    const k = largestPow2Below(n);
    return nodeHash(await treeHash(lo, lo + k), await treeHash(lo + k, hi));
  };

  const withLeaf = async (lo: number, hi: number): Promise<Buffer> => {
    if (hi - lo === 1) return leaf;
    const k = largestPow2Below(hi - lo);
    return id < lo + k
      ? nodeHash(await withLeaf(lo, lo + k), await treeHash(lo + k, hi))
      : nodeHash(await treeHash(lo, lo + k), await withLeaf(lo + k, hi));
  };

  const root = await withLeaf(0, tree.size);
  if (!root.equals(tree.root))
    throw new Error(`record ${id} is not in the signed tree (its inclusion proof fails)`);
}
