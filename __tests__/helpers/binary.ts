import { readFileSync } from 'node:fs';

/** Reads an executable's header: ELF, Mach-O or PE, and its machine, independent of Go's tools. */
export function binaryFormat(file: string): { format: 'elf' | 'macho' | 'pe' | 'unknown'; machine: string } {
  const b = readFileSync(file);
  if (b.readUInt32BE(0) === 0x7f454c46) {
    const m = b.readUInt16LE(18);
    return {
      format: 'elf',
      machine:
        ({ 0x3e: 'amd64', 0xb7: 'arm64', 0x28: 'arm', 0x03: '386' } as Record<number, string>)[m] ??
        `0x${m.toString(16)}`,
    };
  }
  if (b.readUInt32LE(0) === 0xfeedfacf) {
    const m = b.readUInt32LE(4);
    return {
      format: 'macho',
      machine:
        ({ 0x01000007: 'amd64', 0x0100000c: 'arm64' } as Record<number, string>)[m] ?? `0x${m.toString(16)}`,
    };
  }
  if (b.toString('latin1', 0, 2) === 'MZ') {
    const pe = b.readUInt32LE(0x3c);
    const m = b.readUInt16LE(pe + 4);
    return {
      format: 'pe',
      machine:
        ({ 0x8664: 'amd64', 0xaa64: 'arm64', 0x14c: '386' } as Record<number, string>)[m] ??
        `0x${m.toString(16)}`,
    };
  }
  return { format: 'unknown', machine: '' };
}
