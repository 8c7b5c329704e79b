import { runCommand } from '../runner/command.js';
import { inputError, UserError } from '../runner/errors.js';
import { suggest } from '../runner/suggest.js';

/** One line of `go tool dist list -json`. */
export interface DistTarget {
  GOOS: string;
  GOARCH: string;
  CgoSupported: boolean;
  FirstClass: boolean;
}

/** A build target: GOOS/GOARCH plus an optional microarchitecture variant (GOARM, GOAMD64, ...). */
export interface Target {
  /** `linux/arm/7`, `linux/amd64/v3`, `darwin/arm64`. */
  name: string;
  /** File-name-safe form, as GoReleaser spells it: `linux_arm_7`. */
  id: string;
  goos: string;
  goarch: string;
  variant?: string;
  /** The variables that select this target for `go build`. */
  env: Record<string, string>;
  firstClass: boolean;
  cgoSupported: boolean;
}

/** Which variable a variant sets, per GOARCH, and the values Go documents for it. */
const VARIANTS: Record<string, { env: string; values: string[] }> = {
  arm: { env: 'GOARM', values: ['5', '6', '7'] },
  amd64: { env: 'GOAMD64', values: ['v1', 'v2', 'v3', 'v4'] },
  '386': { env: 'GO386', values: ['sse2', 'softfloat'] },
  arm64: {
    env: 'GOARM64',
    values: [
      ...Array.from({ length: 10 }, (_, i) => `v8.${i}`),
      ...Array.from({ length: 6 }, (_, i) => `v9.${i}`),
    ],
  },
  mips: { env: 'GOMIPS', values: ['hardfloat', 'softfloat'] },
  mipsle: { env: 'GOMIPS', values: ['hardfloat', 'softfloat'] },
  mips64: { env: 'GOMIPS64', values: ['hardfloat', 'softfloat'] },
  mips64le: { env: 'GOMIPS64', values: ['hardfloat', 'softfloat'] },
  ppc64: { env: 'GOPPC64', values: ['power8', 'power9', 'power10'] },
  ppc64le: { env: 'GOPPC64', values: ['power8', 'power9', 'power10'] },
  riscv64: { env: 'GORISCV64', values: ['rva20u64', 'rva22u64', 'rva23u64'] },
  wasm: { env: 'GOWASM', values: ['satconv', 'signext'] },
};

/** The toolchain's own list of targets; go-ship never keeps a copy of its own. */
export async function distList(goBinary = 'go'): Promise<DistTarget[]> {
  const r = await runCommand(goBinary, ['tool', 'dist', 'list', '-json'], { timeoutMs: 60_000 });
  return JSON.parse(r.stdout) as DistTarget[];
}

/**
 * Validates target names against `go tool dist list`. Accepts `os/arch`, `os/arch/variant`,
 * GoReleaser's `os_arch_variant`, and `first-class` (every first-class port).
 */
export function parseTargets(items: string[], dist: DistTarget[], input = 'targets'): Target[] {
  const byName = new Map(dist.map((d) => [`${d.GOOS}/${d.GOARCH}`, d]));
  const out = new Map<string, Target>();
  // Every bad entry is named at once: fixing one at a time, one failed run each, wastes an afternoon.
  const bad: { raw: string; accepts: string; fix: string }[] = [];
  const add = (t: Target) => out.set(t.name, t);
  for (const raw of items) {
    if (raw === 'first-class') {
      for (const d of dist.filter((x) => x.FirstClass)) add(makeTarget(d));
      continue;
    }
    const parts = raw.includes('/') ? raw.split('/') : raw.split('_');
    const [goos, goarch, variant, ...rest] = parts;
    const d = byName.get(`${goos}/${goarch}`);
    if (!d || rest.length) {
      const near = suggest(`${goos}/${goarch}`, [...byName.keys()]);
      bad.push({
        raw,
        accepts: `GOOS/GOARCH pairs from \`go tool dist list\`, optionally with a variant (\`linux/arm/7\`, \`linux/amd64/v3\`), or \`first-class\``,
        fix: near.length
          ? `Did you mean ${near.map((n) => `\`${n}\``).join(', ')}?`
          : 'Run `go tool dist list` to see every target.',
      });
      continue;
    }
    if (variant !== undefined) {
      const v = VARIANTS[goarch];
      if (!v || !v.values.includes(variant)) {
        bad.push({
          raw,
          accepts: v
            ? `for ${goarch} one of the ${v.env} values ${v.values.map((x) => `\`${x}\``).join(', ')}`
            : `no variant for ${goarch}`,
          fix: v
            ? `For example \`${goos}/${goarch}/${v.values[v.values.length > 2 ? 2 : 0]}\`.`
            : `Use \`${goos}/${goarch}\`.`,
        });
        continue;
      }
    }
    add(makeTarget(d, variant));
  }
  if (bad.length === 1) throw inputError(input, bad[0].raw, bad[0].accepts, bad[0].fix);
  if (bad.length)
    throw new UserError(
      `Input \`${input}\` has ${bad.length} invalid targets:\n${bad
        .map((b) => `  - \`${b.raw}\`: it accepts ${b.accepts}. ${b.fix}`)
        .join('\n')}`,
    );
  if (out.size === 0)
    throw new UserError(`Input \`${input}\` lists no targets. Give at least one, such as \`linux/amd64\`.`);
  return [...out.values()];
}

function makeTarget(d: DistTarget, variant?: string): Target {
  const name = [d.GOOS, d.GOARCH, variant].filter(Boolean).join('/');
  const env: Record<string, string> = { GOOS: d.GOOS, GOARCH: d.GOARCH };
  if (variant) env[VARIANTS[d.GOARCH].env] = variant;
  return {
    name,
    id: name.replace(/\//g, '_'),
    goos: d.GOOS,
    goarch: d.GOARCH,
    ...(variant ? { variant } : {}),
    env,
    firstClass: d.FirstClass,
    cgoSupported: d.CgoSupported,
  };
}

/** The targets a build gets when none are named: build-matrix's default and what `go-ship init` writes. */
export const DEFAULT_TARGETS = [
  'linux/amd64',
  'linux/arm64',
  'darwin/amd64',
  'darwin/arm64',
  'windows/amd64',
];
