/** A release version as Go modules accept it: `vMAJOR.MINOR.PATCH[-prerelease]`, no build metadata. */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  /** Dot-separated identifiers after `-` (`rc.1` → ['rc', '1']); empty for a stable version. */
  pre: string[];
}

export type Bump = 'major' | 'minor' | 'patch' | 'none';
export const BUMPS: readonly Bump[] = ['major', 'minor', 'patch', 'none'];
const RANK: Record<Bump, number> = { none: 0, patch: 1, minor: 2, major: 3 };

export function maxBump(a: Bump, b: Bump): Bump {
  return RANK[a] >= RANK[b] ? a : b;
}

const NUM = '0|[1-9]\\d*';
const IDENT = '[0-9A-Za-z-]+';
const SEMVER = new RegExp(`^v(${NUM})\\.(${NUM})\\.(${NUM})(?:-(${IDENT}(?:\\.${IDENT})*))?$`);

/** A version Go accepts whose major, minor or patch number is past 2^53 - 1, what go-ship counts exactly. */
export function isOutOfRange(text: string): boolean {
  const m = SEMVER.exec(text);
  return !!m && [m[1], m[2], m[3]].some((n) => !Number.isSafeInteger(Number(n)));
}

/**
 * Parses `vX.Y.Z[-pre]` as semver.org and golang.org/x/mod/semver do: numeric identifiers without
 * leading zeros. Build metadata (`+...`, including `+incompatible`) is refused: a module tag never
 * carries it. Returns undefined for anything else, and for numbers past 2^53 - 1 (see isOutOfRange).
 */
export function parseVersion(text: string): SemVer | undefined {
  const m = SEMVER.exec(text);
  if (!m) return undefined;
  // Past 2^53 a JS number is not exact (v1.9007199254740993.0 + a fix gave a lower version).
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!Number.isSafeInteger(major) || !Number.isSafeInteger(minor) || !Number.isSafeInteger(patch))
    return undefined;
  if (!m[4]) return { major, minor, patch, pre: [] };
  const pre = m[4].split('.');
  if (pre.some((p) => /^\d+$/.test(p) && p.length > 1 && p.startsWith('0'))) return undefined;
  return { major, minor, patch, pre };
}

export function formatVersion(v: SemVer): string {
  return `v${v.major}.${v.minor}.${v.patch}${v.pre.length ? `-${v.pre.join('.')}` : ''}`;
}

/** semver precedence: numbers, then a pre-release sorts before its release, identifiers compared in turn. */
export function compareVersions(a: SemVer, b: SemVer): number {
  if (a.major !== b.major) return a.major - b.major;
  if (a.minor !== b.minor) return a.minor - b.minor;
  if (a.patch !== b.patch) return a.patch - b.patch;
  if (!a.pre.length || !b.pre.length) return b.pre.length - a.pre.length;
  for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === y) continue;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) return BigInt(x) < BigInt(y) ? -1 : 1;
    if (xn !== yn) return xn ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return a.pre.length - b.pre.length;
}

/**
 * The next stable version. While the major version is 0 a breaking change bumps the minor version
 * unless `majorZeroBreaking` is 'major' (semver leaves 0.x unstable; Go's tooling agrees).
 */
export function bumpVersion(v: SemVer, bump: Bump, majorZeroBreaking: 'minor' | 'major' = 'minor'): SemVer {
  // A pre-release of X.Y.Z is released as X.Y.Z when the bump does not go past it.
  const base = { ...v, pre: [] };
  if (bump === 'none') return base;
  if (bump === 'major' && v.major === 0 && majorZeroBreaking === 'minor') bump = 'minor';
  if (v.pre.length) {
    const onlyPatchPast = v.patch > 0;
    const onlyMinorPast = v.patch === 0 && v.minor > 0;
    if (
      bump === 'patch' ||
      (bump === 'minor' && !onlyPatchPast) ||
      (bump === 'major' && !onlyPatchPast && !onlyMinorPast)
    )
      return base;
  }
  if (bump === 'major') return { major: v.major + 1, minor: 0, patch: 0, pre: [] };
  if (bump === 'minor') return { major: v.major, minor: v.minor + 1, patch: 0, pre: [] };
  return { major: v.major, minor: v.minor, patch: v.patch + 1, pre: [] };
}
