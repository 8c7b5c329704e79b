import { runCommand } from '../runner/command.js';
import { UserError } from '../runner/errors.js';
import { createHash } from 'node:crypto';
import { basename } from 'node:path';

/** A module as `go version -m -json` reports it (`debug/buildinfo.Module`). */
export interface BuildModule {
  Path: string;
  Version: string;
  Sum?: string;
  Replace?: BuildModule;
}

/** What a Go binary records about its own build: `go version -m -json`, i.e. `debug/buildinfo.BuildInfo`. */
export interface BuildInfo {
  GoVersion: string;
  Path: string;
  Main: BuildModule;
  Deps?: BuildModule[];
  Settings?: { Key: string; Value?: string }[];
}

/** The binary's build information, read by the Go toolchain itself (`go version -m -json`). */
export async function readBuildInfo(file: string): Promise<BuildInfo> {
  const r = await runCommand('go', ['version', '-m', '-json', file], { check: false });
  if (r.code !== 0)
    throw new UserError(
      `go version -m -json ${basename(file)} failed: ${(r.stderr || r.stdout).trim()}. The SBOM needs Go 1.23 or later on PATH (setup-go-cross).`,
    );
  return JSON.parse(r.stdout) as BuildInfo;
}

/** A package URL for a Go module (purl spec, type golang): each path segment percent-encoded. */
function goPurl(path: string, version: string): string {
  return `pkg:golang/${path.split('/').map(encodeURIComponent).join('/')}@${encodeURIComponent(version)}`;
}

/** go.sum's `h1:` is a base64 SHA-256 (of the module's dirhash); CycloneDX wants it as hex. */
function h1Hex(sum: string | undefined): string | undefined {
  return sum?.startsWith('h1:') ? Buffer.from(sum.slice(3), 'base64').toString('hex') : undefined;
}

/** A UUID made from a digest, so the same artifact always gets the same serial number (RFC 9562, v8). */
function uuidFrom(hex: string): string {
  const b = Buffer.from(hex.slice(0, 32), 'hex');
  b[6] = (b[6] & 0x0f) | 0x80;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export interface SbomSubject {
  /** The file the SBOM describes: an archive, or a bare binary. */
  file: { name: string; sha256: string };
  binaries: { name: string; sha256: string; info: BuildInfo }[];
}

/**
 * A CycloneDX 1.6 JSON SBOM of one release file and the Go binaries in it, from the binaries' own
 * build information: each binary an application (its Go version and build settings as properties),
 * every module it was built from a library with its version, purl and go.sum hash (a replaced
 * module is listed as its replacement, the original named in a property), and the dependencies of
 * each binary. Byte-identical for identical inputs: the time is the commit's, the serial number
 * comes from the file's digest, components are sorted.
 */
export function cycloneDx(
  subject: SbomSubject,
  meta: { project: string; version: string; commitTime: number },
): Buffer {
  const modules = new Map<string, Record<string, unknown>>();
  const dependencies: { ref: string; dependsOn: string[] }[] = [];
  const binaries = subject.binaries.map((b) => {
    const ref = `binary:${b.name}`;
    const deps: string[] = [];
    const addModule = (m: BuildModule, kind: 'dep' | 'std') => {
      const used = m.Replace ?? m;
      const version = used.Version;
      const moduleRef = `${used.Path}@${version}`;
      deps.push(moduleRef);
      if (modules.has(moduleRef)) return;
      const hex = h1Hex(used.Sum);
      modules.set(moduleRef, {
        type: 'library',
        'bom-ref': moduleRef,
        name: used.Path,
        version,
        purl: kind === 'std' ? `pkg:golang/std@${encodeURIComponent(version)}` : goPurl(used.Path, version),
        ...(hex ? { hashes: [{ alg: 'SHA-256', content: hex }] } : {}),
        ...(m.Replace ? { properties: [{ name: 'go:replaces', value: `${m.Path}@${m.Version}` }] } : {}),
      });
    };
    addModule({ Path: 'std', Version: b.info.GoVersion }, 'std');
    for (const d of b.info.Deps ?? []) addModule(d, 'dep');
    dependencies.push({ ref, dependsOn: [...new Set(deps)].sort() });
    const mainVersion =
      b.info.Main.Version === '(devel)' || !b.info.Main.Version ? `v${meta.version}` : b.info.Main.Version;
    return {
      type: 'application',
      'bom-ref': ref,
      name: b.name,
      version: mainVersion,
      purl: goPurl(b.info.Path, mainVersion),
      hashes: [{ alg: 'SHA-256', content: b.sha256 }],
      properties: [
        { name: 'go:version', value: b.info.GoVersion },
        { name: 'go:main', value: b.info.Main.Path },
        ...(b.info.Settings ?? []).map((s) => ({ name: `go:build:${s.Key}`, value: s.Value ?? '' })),
      ],
    };
  });
  const root = `file:${subject.file.name}`;
  dependencies.unshift({ ref: root, dependsOn: binaries.map((b) => b['bom-ref']).sort() });
  const bom = {
    $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: `urn:uuid:${uuidFrom(createHash('sha256').update(`go-ship sbom ${subject.file.sha256}`).digest('hex'))}`,
    version: 1,
    metadata: {
      timestamp: new Date(meta.commitTime * 1000).toISOString().replace('.000Z', 'Z'),
      tools: { components: [{ type: 'application', name: 'go-ship' }] },
      component: {
        type: 'file',
        'bom-ref': root,
        name: subject.file.name,
        version: meta.version,
        hashes: [{ alg: 'SHA-256', content: subject.file.sha256 }],
        properties: [{ name: 'go-ship:project', value: meta.project }],
      },
    },
    components: [
      ...binaries,
      ...[...modules.values()].sort((a, b) => String(a['bom-ref']).localeCompare(String(b['bom-ref']))),
    ],
    dependencies: [
      ...dependencies,
      ...[...modules.keys()].sort().map((ref) => ({ ref, dependsOn: [] as string[] })),
    ],
  };
  return Buffer.from(`${JSON.stringify(bom, null, 2)}\n`);
}

/** GoReleaser's default SBOM name for an archive: `{{ .ArtifactName }}.sbom.json`. */
export const sbomName = (artifactPath: string) => `${artifactPath}.sbom.json`;
