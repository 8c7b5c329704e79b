import { createHash } from 'node:crypto';

/** The sha256 of some bytes, as lowercase hex: what checksums files, manifests and SBOMs record. */
export const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
