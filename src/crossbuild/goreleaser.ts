import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { findFiles } from '../runner/glob.js';
import { parse } from 'yaml';
import { childEnv } from '../runner/child-env.js';
import { inBackground, runCommand, splitCommandLine } from '../runner/command.js';
import { UserError } from '../runner/errors.js';
import { log } from '../runner/log.js';
import * as workflow from '../runner/workflow.js';
import type { DistTarget, Target } from '../go/targets.js';
import { type BuildSpec, type MainPackage, resolvePackages, templateFields } from './build.js';
import { ARCHIVE_FORMATS, type ArchiveFormat, type ArchiveNaming, type ChecksumSpec } from './manifest.js';
import { DEFAULT_VARIANTS, renderTemplate } from './template.js';

/**
 * `.goreleaser.yaml` (version 2) read as build-matrix's settings, for the subset a build uses:
 * builds (main, binary, ldflags, flags, tags, env, goos/goarch/goarm/goamd64 with ignore,
 * mod_timestamp), archives (formats and overrides, name_template, files), checksum (name_template,
 * algorithm, disable), before.hooks and snapshot.version_template. Every other key is listed in
 * `unused`, so one warning says exactly what go-ship did not do. Defaults are GoReleaser's own
 * (internal/pipe/archive, internal/builders/golang): a user switching sees the same names.
 */
export interface GoReleaserSettings {
  file: string;
  projectName?: string;
  /**
   * One per build: the main package, its binary name (a template, which may name the target) and
   * the targets it builds for (builds that differ only in goos/goarch are built for their own, as
   * GoReleaser builds each; the run's targets are their union).
   */
  builds: { main: string; binary: string; targets: string[] }[];
  ldflags: string;
  /** `go build` flags other than -trimpath and -tags, passed as they are. */
  flags: string[];
  trimpath: boolean;
  tags: string[];
  env: Record<string, string>;
  /** CGO_ENABLED from the build's env; undefined when the file does not set it (Go decides, as in GoReleaser). */
  cgo?: boolean;
  /** goos/goarch[/variant] in GoReleaser's order, before `go tool dist list` drops what Go lacks. */
  targets: string[];
  archive: {
    format: ArchiveFormat;
    overrides: Record<string, ArchiveFormat>;
    nameTemplate: string;
    files: ArchiveFile[];
    /** A top directory inside each archive (a template; `{{ .ArchiveName }}` for `true`), '' for none. */
    wrapInDirectory: string;
  };
  checksum: { nameTemplate: string; algorithm: ChecksumAlgorithm; disable: boolean };
  /** before.hooks, templates still to render (GoReleaser splits them like a shell, runs no shell). */
  hooks: string[];
  snapshotVersionTemplate: string;
  /** Keys of the file go-ship does not act on, as paths (`brews`, `builds[0].hooks`). */
  unused: string[];
}

/** An `archives[].files` entry: a glob, and where its matches go (`dst`, `strip_parent`). */
export interface ArchiveFile {
  src: string;
  dst?: string;
  stripParent?: boolean;
}

/** The checksum algorithms GoReleaser offers that Node's crypto has (blake3 and crc32 it lacks or differ). */
const CHECKSUM_ALGORITHMS = {
  sha256: 'sha256',
  sha512: 'sha512',
  sha1: 'sha1',
  sha224: 'sha224',
  sha384: 'sha384',
  md5: 'md5',
  'sha3-256': 'sha3-256',
  'sha3-512': 'sha3-512',
  'sha3-224': 'sha3-224',
  'sha3-384': 'sha3-384',
  blake2b: 'blake2b512',
  blake2s: 'blake2s256',
} as const;
export type ChecksumAlgorithm = keyof typeof CHECKSUM_ALGORITHMS;

const NAME_SUFFIX =
  '{{ .Version }}_{{ .Os }}_{{ .Arch }}{{ with .Arm }}v{{ . }}{{ end }}{{ with .Mips }}_{{ . }}{{ end }}{{ if not (eq .Amd64 "v1") }}{{ .Amd64 }}{{ end }}';
const DEFAULT_FILES = ['license*', 'LICENSE*', 'readme*', 'README*', 'changelog*', 'CHANGELOG*'];
const DEFAULT_LDFLAGS =
  '-s -w -X main.version={{.Version}} -X main.commit={{.Commit}} -X main.date={{.Date}} -X main.builtBy=goreleaser';
const VARIANT_KEYS: Record<string, string> = {
  amd64: 'goamd64',
  '386': 'go386',
  arm: 'goarm',
  arm64: 'goarm64',
  mips: 'gomips',
  mipsle: 'gomips',
  mips64: 'gomips',
  mips64le: 'gomips',
  ppc64: 'goppc64',
  ppc64le: 'goppc64',
  riscv64: 'goriscv64',
};

type Yaml = Record<string, unknown>;

/** Tracks which keys were read, to list the others. */
class Reader {
  private readonly read = new Set<string>();
  constructor(
    readonly file: string,
    readonly doc: Yaml,
  ) {}

  /** The value at `path` (dotted, `[i]` for list items), marked as used with everything under it. */
  take(path: string): unknown {
    this.read.add(path);
    let v: unknown = this.doc;
    for (const part of path.split(/\.|(?=\[)/)) {
      const i = /^\[(\d+)\]$/.exec(part);
      if (v === null || v === undefined) return undefined;
      v = i ? (v as unknown[])[Number(i[1])] : (v as Yaml)[part];
    }
    return v;
  }

  /** Marks a container as visited (so its unread keys are reported) without using it whole. */
  visit(path: string): unknown {
    const v = this.take(path);
    this.read.delete(path);
    return v;
  }

  str(path: string, fallback = ''): string {
    const v = this.take(path);
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
    return this.bad(path, v, 'a string');
  }

  list(path: string): string[] {
    const v = this.take(path);
    if (v === undefined || v === null) return [];
    if (typeof v === 'string') return [v];
    if (Array.isArray(v) && v.every((x) => ['string', 'number'].includes(typeof x))) return v.map(String);
    return this.bad(path, v, 'a list of strings');
  }

  /** A list (of mappings or strings) visited item by item; anything else is refused by name. */
  items(path: string): unknown[] | undefined {
    const v = this.visit(path);
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) return this.bad(path, v, 'a list');
    return v;
  }

  bad(path: string, v: unknown, wants: string): never {
    throw new UserError(
      `${this.file}: \`${path}\` is ${JSON.stringify(v)}; go-ship reads it as ${wants}, as GoReleaser does.`,
    );
  }

  /** Paths present in the file that were never taken: the topmost unread key of each branch. */
  unused(): string[] {
    const out: string[] = [];
    const walk = (v: unknown, path: string) => {
      if (path && this.read.has(path)) return;
      const touched =
        !path || [...this.read].some((r) => r.startsWith(`${path}.`) || r.startsWith(`${path}[`));
      if (!touched) {
        out.push(path);
        return;
      }
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
      else if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v as Yaml)) walk(x, path ? `${path}.${k}` : k);
      else out.push(path);
    };
    walk(this.doc, '');
    return out;
  }
}

export function readGoReleaserConfig(path: string, label = path): GoReleaserSettings {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`${label} could not be read as YAML: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw new UserError(`${label} is not a GoReleaser configuration (a YAML mapping at the top).`);
  return fromYaml(new Reader(label, doc as Yaml));
}

function fromYaml(r: Reader): GoReleaserSettings {
  const version = r.str('version', '1');
  if (version !== '1' && version !== '2')
    r.bad('version', version, 'GoReleaser configuration version 2 (or 1, the same keys here)');
  const projectName = r.str('project_name') || undefined;
  r.str('dist'); // GoReleaser's own output directory: go-ship writes to output-dir
  // A key that changes what is built is applied or refused, never skipped with a warning.
  if (r.take('includes') !== undefined)
    throw new UserError(
      `${r.file}: \`includes\` pulls settings from other files, which go-ship does not follow; what they hold (builds, archives) would be silently left out. Copy the included sections into ${r.file}, or run build-matrix without goreleaser-config.`,
    );
  // Top-level env applies to every build and hook; a build's own env wins (GoReleaser appends it after).
  const globalEnv = envOf(r, 'env');
  const builds = (r.items('builds') ?? [{}])
    .map((_, i) => `builds[${i}]`)
    .filter((b) => r.str(`${b}.skip`) !== 'true');
  if (!builds.length)
    throw new UserError(`${r.file}: every build has \`skip: true\`; there is nothing to build.`);
  const shared = builds.map((b) => buildOf(r, b, globalEnv));
  // go-ship builds every package with one set of flags, as most configs do; targets may differ.
  for (const key of ['ldflags', 'flags', 'tags', 'env'] as const)
    for (const [i, b] of shared.entries())
      if (JSON.stringify(b[key]) !== JSON.stringify(shared[0][key]))
        throw new UserError(
          `${r.file}: \`${builds[i]}\` has other ${key} than \`${builds[0]}\`; go-ship builds every binary with the same ${key}. Give them the same ${key}, or run build-matrix once per build.`,
        );
  const flags = shared[0].flags;
  const tags = [
    ...shared[0].tags,
    ...flags.filter((f) => f.startsWith('-tags=')).flatMap((f) => f.slice(6).split(',')),
  ];
  const env = { ...shared[0].env };
  const cgo = env.CGO_ENABLED === undefined ? undefined : env.CGO_ENABLED === '1';
  delete env.CGO_ENABLED;
  // Builds of one main package and binary for different OSes (one build per OS) are one build
  // over the union of their targets.
  const merged: { main: string; binary: string; targets: string[] }[] = [];
  for (const b of shared) {
    const same = merged.find((m) => m.main === b.main && m.binary === b.binary);
    if (same) same.targets.push(...b.targets.filter((t) => !same.targets.includes(t)));
    else merged.push({ main: b.main, binary: b.binary, targets: [...b.targets] });
  }
  const targets = [...new Set(merged.flatMap((b) => b.targets))];

  const archives = r.items('archives') ?? [{}];
  if (archives.length > 1)
    throw new UserError(
      `${r.file}: \`archives\` has ${archives.length} entries; go-ship writes one archive per target. Keep one (per-OS formats go in format_overrides).`,
    );
  const a = 'archives[0]';
  const formatOf = (path: string): ArchiveFormat | undefined => {
    const list = [...r.list(`${path}.formats`), ...r.list(`${path}.format`)];
    if (!list.length) return undefined;
    if (list.length > 1) r.bad(`${path}.formats`, list, 'one format (go-ship writes one archive per target)');
    const f = list[0] === 'binary' ? 'none' : list[0];
    if (!(ARCHIVE_FORMATS as readonly string[]).includes(f) || (f === 'none' && list[0] !== 'binary'))
      r.bad(
        `${path}.formats`,
        list[0],
        `one of ${ARCHIVE_FORMATS.filter((x) => x !== 'none').join(', ')}, binary`,
      );
    return f as ArchiveFormat;
  };
  const format = formatOf(a) ?? 'tar.gz';
  const overrides: Record<string, ArchiveFormat> = {};
  (r.items(`${a}.format_overrides`) ?? []).forEach((_, i) => {
    const o = `${a}.format_overrides[${i}]`;
    overrides[r.str(`${o}.goos`)] = formatOf(o) ?? format;
  });
  const files = (r.items(`${a}.files`) ?? []).map((f, i): ArchiveFile => {
    if (typeof f === 'string') return { src: r.str(`${a}.files[${i}]`) };
    const at = `${a}.files[${i}]`;
    if (r.take(`${at}.info`) !== undefined)
      r.bad(
        `${at}.info`,
        r.take(`${at}.info`),
        'nothing: go-ship stamps every file with the commit time and its own mode',
      );
    return {
      src: r.str(`${at}.src`),
      dst: r.str(`${at}.dst`) || undefined,
      stripParent: r.str(`${at}.strip_parent`) === 'true',
    };
  });
  const wrap = r.str(`${a}.wrap_in_directory`);
  // `ids` (or the older `builds`) that name every build select nothing out: the archive holds them all.
  const ids = builds.map((b, i) => r.str(`${b}.id`) || (builds.length === 1 ? projectName || '' : `#${i}`));
  for (const key of ['ids', 'builds']) {
    const picked = r.list(`${a}.${key}`);
    if (picked.length && !ids.every((id) => picked.includes(id)))
      throw new UserError(
        `${r.file}: \`${a}.${key}\` (${picked.join(', ')}) leaves builds out of the archive (${ids.filter((id) => !picked.includes(id)).join(', ')}); go-ship puts every build in each archive. Remove ${key}, or keep releasing this project with GoReleaser.`,
      );
  }
  const algorithm = r.str('checksum.algorithm', 'sha256');
  if (!(algorithm in CHECKSUM_ALGORITHMS))
    r.bad('checksum.algorithm', algorithm, `one of ${Object.keys(CHECKSUM_ALGORITHMS).join(', ')}`);
  return {
    file: r.file,
    projectName,
    builds: merged,
    ldflags: shared[0].ldflags,
    flags: flags.filter((f) => f !== '-trimpath' && !f.startsWith('-tags=')),
    trimpath: flags.includes('-trimpath'),
    tags,
    env,
    cgo,
    targets,
    archive: {
      format,
      overrides,
      nameTemplate:
        r.str(`${a}.name_template`) ||
        `{{ ${format === 'none' ? '.Binary' : '.ProjectName'} }}_${NAME_SUFFIX}`,
      files: files.length ? files : DEFAULT_FILES.map((src) => ({ src })),
      // true: a directory named like the archive; a string: that name (a template); '' or false: none.
      wrapInDirectory: wrap === 'true' ? '{{ .ArchiveName }}' : wrap === 'false' ? '' : wrap,
    },
    checksum: {
      nameTemplate: r.str('checksum.name_template', '{{ .ProjectName }}_{{ .Version }}_checksums.txt'),
      algorithm: algorithm as ChecksumAlgorithm,
      disable: r.str('checksum.disable') === 'true',
    },
    hooks: r.list('before.hooks'),
    snapshotVersionTemplate: r.str('snapshot.version_template', '{{ .Version }}-SNAPSHOT-{{ .ShortCommit }}'),
    unused: outputNeutral(r),
  };
}

/** `KEY=value` items of an env list. */
function envOf(r: Reader, path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of r.list(path)) {
    const eq = line.indexOf('=');
    if (eq < 1) r.bad(path, line, '`KEY=value` items');
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

/**
 * Keys that change the binaries or archives GoReleaser writes, which go-ship does not apply: refused
 * by name (a release that silently differs from GoReleaser's is worse than one that does not start).
 */
const CHANGES_OUTPUT: [RegExp, string][] = [
  [/^builds\[\d+\]\.hooks/, 'build hooks (a post hook such as upx or codesign changes the binary)'],
  [/^builds\[\d+\]\.overrides/, 'per-target overrides'],
  [/^builds\[\d+\]\.(buildmode|command|tool|gobinary)$/, 'another go command or build mode'],
  [/^archives\[\d+\]\.(strip_binary_directory|builds_info|meta)$/, 'a different archive content'],
  [/^(upx|universal_binaries)$/, 'binaries go-ship does not make'],
];

/** The unread keys, once none of them changes what is built. */
function outputNeutral(r: Reader): string[] {
  const unused = r.unused();
  for (const key of unused) {
    const hit = CHANGES_OUTPUT.find(([re]) => re.test(key));
    if (hit)
      throw new UserError(
        `${r.file}: \`${key}\` changes what is built (${hit[1]}), and go-ship does not apply it. Remove it to build with go-ship, or keep releasing this project with GoReleaser.`,
      );
  }
  return unused;
}

function buildOf(r: Reader, b: string, globalEnv: Record<string, string>) {
  const builder = r.str(`${b}.builder`, 'go');
  if (builder !== 'go') r.bad(`${b}.builder`, builder, '`go` (go-ship builds Go)');
  r.str(`${b}.id`); // names the build for other sections; go-ship has one build per package
  const dir = r.str(`${b}.dir`, '.');
  if (dir !== '.' && dir !== './')
    r.bad(
      `${b}.dir`,
      dir,
      '`.`: go-ship builds from working-directory; point working-directory there instead',
    );
  const modTimestamp = r.str(`${b}.mod_timestamp`);
  if (modTimestamp && !/^\{\{\s*\.CommitTimestamp\s*\}\}$/.test(modTimestamp))
    r.bad(
      `${b}.mod_timestamp`,
      modTimestamp,
      '`{{ .CommitTimestamp }}` (go-ship always stamps the commit time, for reproducible archives)',
    );
  const env = { ...globalEnv, ...envOf(r, `${b}.env`) };
  const ldflags = r.list(`${b}.ldflags`);
  return {
    // `main` may be a file (`./cmd/x/main.go`, as GoReleaser documents): built as that file list.
    main: r.str(`${b}.main`, '.'),
    binary: r.str(`${b}.binary`, '{{ .ProjectName }}'),
    ldflags: ldflags.length ? ldflags.join(' ') : DEFAULT_LDFLAGS,
    flags: [
      ...r.list(`${b}.flags`),
      ...['gcflags', 'asmflags']
        .map((k) => [k, r.list(`${b}.${k}`)] as const)
        .filter(([, v]) => v.length)
        .map(([k, v]) => `-${k}=${v.join(' ')}`),
    ],
    tags: r.list(`${b}.tags`),
    env,
    targets: targetsOf(r, b),
  };
}

/** GoReleaser's cross product of goos × goarch × the variant lists, minus `ignore`, in its order. */
function targetsOf(r: Reader, b: string): string[] {
  const explicit = r.list(`${b}.targets`);
  const list = (key: string, fallback: string[]) => {
    const v = r.list(`${b}.${key}`);
    return v.length ? v : fallback;
  };
  const goos = list('goos', ['linux', 'darwin', 'windows']);
  const goarch = list('goarch', ['amd64', 'arm64', '386']);
  const ignore = (r.items(`${b}.ignore`) ?? []).map((_, i) => {
    const p = `${b}.ignore[${i}]`;
    return {
      goos: r.str(`${p}.goos`),
      goarch: r.str(`${p}.goarch`),
      variant: [...new Set(Object.values(VARIANT_KEYS))].map((k) => r.str(`${p}.${k}`)).find(Boolean) ?? '',
    };
  });
  if (explicit.length)
    return explicit.map((t) => {
      const [os, arch, variant] = t.split('_');
      return [os, arch, variant ?? DEFAULT_VARIANTS[arch]].filter(Boolean).join('/');
    });
  const out: string[] = [];
  for (const os of goos)
    for (const arch of goarch) {
      const key = VARIANT_KEYS[arch];
      for (const variant of key ? list(key, [DEFAULT_VARIANTS[arch]]) : ['']) {
        const hit = ignore.some(
          (i) =>
            (!i.goos || i.goos === os) &&
            (!i.goarch || i.goarch === arch) &&
            (!i.variant || i.variant === variant),
        );
        if (!hit) out.push([os, arch, variant].filter(Boolean).join('/'));
      }
    }
  return out;
}

/** The targets the toolchain has (GoReleaser skips darwin/386 and the like without a word, too). */
export function supportedTargets(targets: string[], dist: DistTarget[]): string[] {
  const have = new Set(dist.map((d) => `${d.GOOS}/${d.GOARCH}`));
  return targets.filter((t) => have.has(t.split('/').slice(0, 2).join('/')));
}

/**
 * The version GoReleaser would stamp: the tag's on a tag, else `snapshot.version_template` with
 * `.Version`/`.Tag` from the newest tag (0.0.0 without one).
 */
function goreleaserVersion(settings: GoReleaserSettings, spec: BuildSpec): string {
  if (!spec.snapshot && spec.tag) return spec.tag.replace(/^v/, '');
  const tag = spec.tag || 'v0.0.0';
  const fields = templateFields({ ...spec, version: tag.replace(/^v/, ''), tag, snapshot: true });
  return renderTemplate(
    `${settings.file} snapshot.version_template`,
    settings.snapshotVersionTemplate,
    fields,
  );
}

/**
 * Fills `spec` from the config once the source is known: the version (unless given), each build's
 * main package and binary name; warns once about the keys go-ship does not act on.
 */
export async function goreleaserBuild(
  settings: GoReleaserSettings,
  spec: BuildSpec,
  setVersion: boolean,
  targets: Target[],
  // Each build's `main` as `go list` sees it: the caller may have asked already (see goreleaserMains).
  mains: Promise<MainPackage[]>[] = goreleaserMains(settings, spec.dir),
) {
  if (setVersion) spec.version = goreleaserVersion(settings, spec);
  for (const [i, b] of settings.builds.entries()) {
    const naming = goreleaserBinary(settings, spec, i, targets);
    const listed = await mains[i];
    if (listed.length !== 1)
      throw new UserError(
        `${settings.file}: builds[${i}].main is \`${b.main}\`, which \`go list\` reads as ${listed.length} packages (${listed.map((p) => p.importPath).join(', ')}); a GoReleaser build names one main package (\`main: ./cmd/server\`).`,
      );
    const pkg = { ...listed[0], binary: naming.name || listed[0].binary };
    const own = targets.filter(
      (t) => b.targets.includes(t.name) || b.targets.includes(withDefaultVariant(t.name)),
    );
    spec.packages.push({
      ...pkg,
      ...(naming.perTarget ? { binaryFor: naming.perTarget } : {}),
      ...(own.length < targets.length ? { targets: own.map((t) => t.name) } : {}),
    });
  }
  if (settings.cgo === undefined)
    workflow.notice(
      `${settings.file} sets no CGO_ENABLED, so, as with GoReleaser, Go decides: cgo is on for a build on the runner's own OS and architecture when a C compiler is there (a binary that links libc), off for cross builds. Add \`CGO_ENABLED=0\` to env for static binaries everywhere.`,
    );
  if (settings.unused.length)
    workflow.warning(
      `${settings.file}: go-ship does not act on ${settings.unused.map((k) => `\`${k}\``).join(', ')}. They do not change the binaries or archives; everything that does is applied as GoReleaser would.`,
    );
}

/**
 * Asks `go list` for each build's `main` package, all at once: the answers do not depend on the
 * version or the targets, so build-matrix asks alongside git and `go tool dist list`.
 */
export function goreleaserMains(settings: GoReleaserSettings, dir: string): Promise<MainPackage[]>[] {
  return settings.builds.map((b) => inBackground(resolvePackages(dir, [b.main])));
}

/**
 * The `targets` input beside a config: a subset of the config's targets (a shard of the release
 * fan-out gets `targets: ${{ matrix.targets }}`). A target the config does not build is refused by name.
 */
export function targetsFromConfig(settings: GoReleaserSettings, given: string[]): string[] {
  const known = new Map(settings.targets.map((t) => [withDefaultVariant(t), t]));
  const picked = given
    .flatMap((g) => g.split(','))
    .map((g) => g.trim())
    .filter(Boolean);
  const missing = picked.filter((g) => !known.has(withDefaultVariant(g)));
  if (missing.length)
    throw new UserError(
      `Input \`targets\` got ${missing.map((m) => `\`${m}\``).join(', ')}, which ${settings.file} does not build; with goreleaser-config it accepts some of the file's targets (${settings.targets.join(', ')}), e.g. a shard's \`\${{ matrix.targets }}\`. Leave it empty to build them all.`,
    );
  return picked.map((g) => known.get(withDefaultVariant(g))!);
}

const withDefaultVariant = (name: string) => {
  const [os, arch, variant] = name.split('/');
  return variant || !DEFAULT_VARIANTS[arch] ? name : `${os}/${arch}/${DEFAULT_VARIANTS[arch]}`;
};

/**
 * A build's binary name (GoReleaser's `binary`, default the project name). A template that names the
 * target (`hello-{{ .Os }}-{{ .Arch }}`) is rendered per target, as GoReleaser renders it per build.
 */
function goreleaserBinary(
  settings: GoReleaserSettings,
  spec: BuildSpec,
  i: number,
  targets: Target[],
): { name: string; perTarget?: (t: Target) => string } {
  const render = (t?: Target) => {
    const name = renderTemplate(
      `${settings.file} builds[${i}].binary`,
      settings.builds[i].binary,
      templateFields(spec, t),
    );
    if (!name || /[/\\]/.test(name))
      throw new UserError(
        `${settings.file}: builds[${i}].binary renders to \`${name}\`${t ? ` for ${t.name}` : ''}; go-ship needs a file name without a directory.`,
      );
    return name;
  };
  const names = new Map(targets.map((t) => [t.name, render(t)]));
  if (new Set(names.values()).size <= 1) return { name: names.values().next().value ?? render() };
  return { name: names.get(targets[0].name)!, perTarget: (t) => names.get(t.name) ?? render(t) };
}

/**
 * The files `archives[].files` puts beside the binaries: each glob's matches at their own path, or
 * under `dst` (without their directories with `strip_parent`), as GoReleaser lays them out.
 */
export function goreleaserFiles(settings: GoReleaserSettings, dir: string): { name: string; data: Buffer }[] {
  const out = new Map<string, Buffer>();
  for (const [i, f] of settings.archive.files.entries()) {
    const dst = (f.dst ?? '').replace(/^\.?\/+|\/+$/g, '');
    if (dst.startsWith('/') || dst.split('/').includes('..'))
      throw new UserError(
        `${settings.file}: archives[0].files[${i}].dst is \`${f.dst}\`; it must be a path inside the archive, without \`..\`.`,
      );
    for (const found of findFiles(dir, [f.src])) {
      const name = [dst, f.stripParent ? posix.basename(found) : found].filter(Boolean).join('/');
      out.set(name, readFileSync(join(dir, found)));
    }
  }
  return [...out].map(([name, data]) => ({ name, data }));
}

/** Archives as the config names them: format_overrides by GOOS, name_template per target. */
export function goreleaserNaming(settings: GoReleaserSettings, spec: BuildSpec): ArchiveNaming {
  const { archive } = settings;
  return {
    format: (t) => archive.overrides[t.goos] ?? archive.format,
    base: (t, binary) =>
      renderTemplate(`${settings.file} archives.name_template`, archive.nameTemplate, {
        ...templateFields(spec, t),
        Binary: binary,
      }),
    directory: (t, base) =>
      archive.wrapInDirectory
        ? renderTemplate(`${settings.file} archives.wrap_in_directory`, archive.wrapInDirectory, {
            ...templateFields(spec, t),
            ArchiveName: base,
          })
        : '',
  };
}

/** The checksums file as `checksum` says (false when disabled). */
export function goreleaserChecksums(
  settings: GoReleaserSettings,
  spec: Pick<BuildSpec, 'project' | 'version' | 'commit' | 'commitTime'> & Partial<BuildSpec>,
): ChecksumSpec | false {
  const { checksum } = settings;
  if (checksum.disable) return false;
  const fields = templateFields({ shortCommit: '', ...spec } as BuildSpec);
  return {
    name: renderTemplate(`${settings.file} checksum.name_template`, checksum.nameTemplate, {
      ...fields,
      Algorithm: checksum.algorithm,
    }),
    algorithm: CHECKSUM_ALGORITHMS[checksum.algorithm],
  };
}

/** before.hooks, in order, each split like a shell line and run without one; a failure names the hook. */
export async function runHooks(settings: GoReleaserSettings, dir: string, spec: BuildSpec): Promise<void> {
  for (const [i, hook] of settings.hooks.entries()) {
    const line = renderTemplate(`${settings.file} before.hooks[${i}]`, hook, templateFields(spec));
    const [file, ...args] = splitCommandLine(line);
    if (!file) continue;
    log.info(`before hook: ${line}`);
    // A hook is the repository's command: it gets the build's env, never the step's inputs or tokens.
    const r = await runCommand(file, args, {
      cwd: dir,
      env: childEnv(spec.env),
      inheritEnv: false,
      check: false,
      echo: true,
    }).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
    if (r.code !== 0)
      throw new UserError(
        `${settings.file}: before.hooks[${i}] \`${line}\` failed (exit ${r.code}); nothing was built.\n${(r.stderr || r.stdout).trim().split('\n').slice(-10).join('\n')}`,
      );
  }
}
