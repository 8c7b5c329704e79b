import { inputError, UserError } from '../runner/errors.js';

/** The machine a toolchain runs on, in Node's names (tool-cache folders) and Go's (archives). */
export interface HostPlatform {
  /** Folder name in the tool cache, as actions/setup-go uses it: x64, arm64, x86, armv6l, ... */
  cacheArch: string;
  goos: string;
  goarch: string;
}

/** Each architecture once: [tool-cache folder, goarch of the archives, names it is accepted by]. */
const ARCHES: [cacheArch: string, goarch: string, names: string[]][] = [
  ['x64', 'amd64', ['x64', 'amd64']],
  ['arm64', 'arm64', ['arm64', 'aarch64']],
  ['x86', '386', ['ia32', 'x86', '386']],
  ['armv6l', 'armv6l', ['arm', 'armv6l']],
  ['ppc64le', 'ppc64le', ['ppc64', 'ppc64le']],
  ['s390x', 's390x', ['s390x']],
  ['riscv64', 'riscv64', ['riscv64']],
  ['loong64', 'loong64', ['loong64']],
];
const ARCH: Record<string, { cacheArch: string; goarch: string }> = Object.fromEntries(
  ARCHES.flatMap(([cacheArch, goarch, names]) => names.map((n) => [n, { cacheArch, goarch }])),
);

const OS: Record<string, string> = { linux: 'linux', darwin: 'darwin', win32: 'windows', freebsd: 'freebsd' };

export function hostPlatform(architecture?: string): HostPlatform {
  const arch = architecture ?? process.arch;
  const a = Object.hasOwn(ARCH, arch) ? ARCH[arch] : undefined;
  if (!a) throw inputError('architecture', arch, Object.keys(ARCH).join(', '));
  const goos = OS[process.platform];
  if (!goos)
    throw new UserError(
      `This runner's operating system is \`${process.platform}\`; go-ship runs on ${Object.keys(OS).join(', ')} runners. Use a Linux, macOS or Windows runner (runs-on: ubuntu-latest).`,
    );
  return { cacheArch: a.cacheArch, goos, goarch: a.goarch };
}

/** The toolchain module's GOARCH: the proxy names 32-bit ARM `arm`, the download site `armv6l`. */
export function proxyGoarch(p: HostPlatform): string {
  return p.goarch === 'armv6l' ? 'arm' : p.goarch;
}
