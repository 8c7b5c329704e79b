import { runCommand } from '../runner/command.js';
import { UserError } from '../runner/errors.js';
import { createHash } from 'node:crypto';
import { basename } from 'node:path';

/** A module as `go version -m` reports it (`debug/buildinfo.Module`, the names of its `-json` form). */
export interface BuildModule {
  Path: string;
  Version: string;
  Sum?: string;
  Replace?: BuildModule;
}

/** What a Go binary records about its own build: `go version -m`, i.e. `debug/buildinfo.BuildInfo`. */
export interface BuildInfo {
  GoVersion: string;
  Path: string;
  Main: BuildModule;
  Deps?: BuildModule[];
  Settings?: { Key: string; Value?: string }[];
}

/**
 * The binary's build information, read by the Go toolchain itself. `go version -m` prints it as text
 * in every Go a module may pin (the `-json` form needs Go 1.23, and the pipeline installs the Go that
 * go.mod names, 1.19 included), so the text form is read: the same fields `-json` gives.
 */
export async function readBuildInfo(file: string): Promise<BuildInfo> {
  const r = await runCommand('go', ['version', '-m', file], { check: false });
  if (r.code !== 0)
    throw new UserError(
      `go version -m ${basename(file)} failed: ${(r.stderr || r.stdout).trim()}. It needs a Go toolchain on PATH (setup-go-cross).`,
    );
  return parseBuildInfo(r.stdout, file);
}

/**
 * `go version -m`'s text (debug/buildinfo's String, after the `file: goX` line): tab-separated
 * `path`, `mod`, `dep` lines, `=>` for the replacement of the line before, and `build key=value` with
 * keys and values in Go quoted form when they hold spaces, quotes or `=`.
 */
export function parseBuildInfo(text: string, file: string): BuildInfo {
  const lines = text.split('\n');
  const head = /^.*?: (go\S+|devel .*)$/.exec(lines[0] ?? '');
  if (!head)
    throw new UserError(
      `${basename(file)} has no Go build information (go version -m printed \`${(lines[0] ?? '').slice(0, 120)}\`).`,
    );
  const info: BuildInfo = { GoVersion: head[1], Path: '', Main: { Path: '', Version: '' } };
  let last: BuildModule | undefined;
  const mod = (f: string[]): BuildModule => ({
    Path: f[1],
    Version: f[2] ?? '',
    ...(f[3] ? { Sum: f[3] } : {}),
  });
  for (const line of lines.slice(1)) {
    if (!line.startsWith('\t')) continue;
    const f = line.slice(1).split('\t');
    switch (f[0]) {
      case 'path':
        info.Path = f[1] ?? '';
        break;
      case 'mod':
        info.Main = last = mod(f);
        break;
      case 'dep':
        last = mod(f);
        (info.Deps ??= []).push(last);
        break;
      case '=>':
        if (last) last.Replace = mod(f);
        break;
      case 'build': {
        const setting = f.slice(1).join('\t');
        const [key, rest] = goUnquotePrefix(setting, '=');
        const value = goUnquotePrefix(rest.slice(1), '')[0];
        // As -json: an empty value is left out (`CGO_CFLAGS=`).
        (info.Settings ??= []).push(value ? { Key: key, Value: value } : { Key: key });
        break;
      }
    }
  }
  return info;
}

/** Reads a Go-quoted string (strconv.Quote) or plain text up to `stop`; returns it and the rest. */
function goUnquotePrefix(s: string, stop: string): [string, string] {
  if (!s.startsWith('"')) {
    const at = stop ? s.indexOf(stop) : -1;
    return at < 0 ? [s, ''] : [s.slice(0, at), s.slice(at)];
  }
  let out = '';
  let i = 1;
  for (; i < s.length && s[i] !== '"'; i++) {
    if (s[i] !== '\\') {
      out += s[i];
      continue;
    }
    const c = s[++i];
    const simple: Record<string, string> = {
      n: '\n',
      t: '\t',
      r: '\r',
      '"': '"',
      '\\': '\\',
      a: '\x07',
      b: '\b',
      f: '\f',
      v: '\v',
    };
    if (c in simple) out += simple[c];
    else if (c === 'x') {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === 'u' || c === 'U') {
      const n = c === 'u' ? 4 : 8;
      out += String.fromCodePoint(parseInt(s.slice(i + 1, i + 1 + n), 16));
      i += n;
    } else out += c;
  }
  return [out, s.slice(i + 1)];
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
