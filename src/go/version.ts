import semver from 'semver';
import { inputError } from '../runner/errors.js';

/** A Go release, in Go's own spelling (`go1.22.5`, `go1.20`, `go1.23rc1`) and as semver. */
export interface GoVersion {
  name: string;
  semver: string;
}

/** What the user asked for. `range` covers `1.22`, `1.22.x`, `^1.22`, `>=1.21 <1.23`. */
export type VersionSpec =
  | { kind: 'exact'; version: GoVersion; text: string }
  | { kind: 'range'; range: string; text: string }
  | { kind: 'stable' | 'oldstable'; text: string };

// At most 9 digits a number: a listing entry such as go1.99999999999999999999.0 is not a release
// (semver refuses numbers past 2^53, and would throw where a comparison is made).
const GO_NAME = /^(?:go)?(\d{1,9})\.(\d{1,9})(?:\.(\d{1,9}))?(?:(rc|beta)(\d{1,9}))?$/;

/** Parses `go1.22.5`, `1.22.5`, `go1.20`, `1.23rc1` into a GoVersion; undefined if it is not one. */
export function parseGoVersion(text: string): GoVersion | undefined {
  const m = GO_NAME.exec(text.trim());
  if (!m) return undefined;
  const [, major, minor, patch, pre, preN] = m;
  const base = `${major}.${minor}.${patch ?? 0}`;
  const sv = pre ? `${base}-${pre}.${preN}` : base;
  // Go names its x.y.0 release `go1.N` before Go 1.21 and `go1.N.0` from 1.21 on.
  const goPatch = patch ?? (pre || (Number(major) === 1 && Number(minor) < 21) ? '' : '.0');
  const name = `go${major}.${minor}${patch !== undefined ? `.${patch}` : goPatch}${pre ? `${pre}${preN}` : ''}`;
  return { name, semver: sv };
}

export function parseVersionSpec(text: string, input = 'go-version'): VersionSpec {
  const t = text.trim();
  if (t === 'stable' || t === 'oldstable') return { kind: t, text: t };
  // `1.22` means "the newest 1.22.x", as actions/setup-go reads it.
  const short = /^(?:go)?(\d+)\.(\d+)$/.exec(t);
  if (short) return { kind: 'range', range: `~${short[1]}.${short[2]}.0`, text: t };
  const exact = parseGoVersion(t);
  if (exact && /\d+\.\d+\.\d+|rc|beta/.test(t)) return { kind: 'exact', version: exact, text: t };
  const range = semver.validRange(t.replace(/^go/, ''));
  if (range && /\d/.test(t)) return { kind: 'range', range, text: t };
  throw inputError(
    input,
    t,
    'an exact version (`1.22.5`, `go1.22.5`, `1.23rc1`), a range (`1.22`, `1.22.x`, `^1.22`, `>=1.21 <1.23`), `stable` or `oldstable`',
  );
}

function compareGo(a: GoVersion, b: GoVersion): number {
  return semver.compare(a.semver, b.semver);
}

/**
 * Picks the version a spec means from what is available (newest first wins). `stableNames` says
 * which releases the source calls stable; without it, every non-prerelease counts as stable.
 */
export function selectVersion(
  spec: VersionSpec,
  available: GoVersion[],
  stableNames?: Set<string>,
): GoVersion | undefined {
  const sorted = [...available].sort((a, b) => compareGo(b, a));
  const isStable = (v: GoVersion) =>
    stableNames ? stableNames.has(v.name) : semver.prerelease(v.semver) === null;
  switch (spec.kind) {
    case 'exact':
      return sorted.find((v) => v.semver === spec.version.semver);
    case 'range': {
      const pre = /-(rc|beta)/.test(spec.range) || /rc|beta/.test(spec.text);
      return sorted.find(
        (v) => semver.satisfies(v.semver, spec.range, { includePrerelease: pre }) && (pre || isStable(v)),
      );
    }
    case 'stable':
      return sorted.find(isStable);
    case 'oldstable': {
      const newest = sorted.find(isStable);
      if (!newest) return undefined;
      const line = `${semver.major(newest.semver)}.${semver.minor(newest.semver)}`;
      return sorted.find(
        (v) =>
          isStable(v) &&
          `${semver.major(v.semver)}.${semver.minor(v.semver)}` !== line &&
          semver.lt(v.semver, newest.semver),
      );
    }
  }
}

export function describeSpec(spec: VersionSpec): string {
  return spec.kind === 'exact'
    ? spec.version.name
    : spec.kind === 'range'
      ? `${spec.text} (${spec.range})`
      : spec.kind;
}
