import { inputError } from '../runner/errors.js';

/** The machine a toolchain runs on, in Node's names (tool-cache folders) and Go's (archives). */
export interface HostPlatform {
  /** Folder name in the tool cache, as actions/setup-go uses it: x64, arm64, x86, armv6l, ... */
  cacheArch: string;
  goos: string;
  goarch: string;
}

const ARCH: Record<string, { cacheArch: string; goarch: string }> = {
  x64: { cacheArch: 'x64', goarch: 'amd64' },
  amd64: { cacheArch: 'x64', goarch: 'amd64' },
  arm64: { cacheArch: 'arm64', goarch: 'arm64' },
  aarch64: { cacheArch: 'arm64', goarch: 'arm64' },
  ia32: { cacheArch: 'x86', goarch: '386' },
  x86: { cacheArch: 'x86', goarch: '386' },
  '386': { cacheArch: 'x86', goarch: '386' },
  arm: { cacheArch: 'armv6l', goarch: 'armv6l' },
  armv6l: { cacheArch: 'armv6l', goarch: 'armv6l' },
  ppc64: { cacheArch: 'ppc64le', goarch: 'ppc64le' },
  ppc64le: { cacheArch: 'ppc64le', goarch: 'ppc64le' },
  s390x: { cacheArch: 's390x', goarch: 's390x' },
  riscv64: { cacheArch: 'riscv64', goarch: 'riscv64' },
  loong64: { cacheArch: 'loong64', goarch: 'loong64' },
};

const OS: Record<string, string> = { linux: 'linux', darwin: 'darwin', win32: 'windows', freebsd: 'freebsd' };

export function hostPlatform(architecture?: string): HostPlatform {
  const arch = architecture ?? process.arch;
  const a = ARCH[arch];
  if (!a) throw inputError('architecture', arch, Object.keys(ARCH).join(', '));
  const goos = OS[process.platform];
  if (!goos) throw new Error(`Unsupported runner OS ${process.platform}`);
  return { cacheArch: a.cacheArch, goos, goarch: a.goarch };
}

/** The toolchain module's GOARCH: the proxy names 32-bit ARM `arm`, the download site `armv6l`. */
export function proxyGoarch(p: HostPlatform): string {
  return p.goarch === 'armv6l' ? 'arm' : p.goarch;
}
