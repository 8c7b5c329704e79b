import type { CrossBuild } from '../../crossbuild/cross-build.js';
import { type Manifest, releaseFiles } from '../../crossbuild/manifest.js';
import type { Shard } from '../../crossbuild/merge.js';
import type { Source } from '../../crossbuild/source.js';
import type { AttachResult } from '../../release/assets.js';
import { formatBytes, formatDuration } from '../../runner/log.js';
import { Summary, mdCode, mdText } from '../../runner/summary.js';
import type { Config } from './inputs.js';
import { relative } from 'node:path';

export function planSummary(targets: number, shards: { shard: string; targets: string }[]): Summary {
  return new Summary().heading(`build-matrix plan: ${targets} targets, ${shards.length} shards`).table(
    ['shard', 'targets'],
    shards.map((s) => [s.shard, s.targets.split(',').join(', ')]),
  );
}

export function buildSummary(
  src: Source,
  { built, artifacts, wall, vulnerabilities }: CrossBuild,
  config: Pick<Config, 'archive' | 'trimpath' | 'strip' | 'cgo' | 'vulncheck'>,
): Summary {
  const sboms = artifacts.filter((a) => a.kind === 'sbom');
  const files = releaseFiles(artifacts);
  const s = new Summary()
    .heading(
      `build-matrix: ${src.project} ${src.version} (${files.length} targets in ${formatDuration(wall)})`,
    )
    .table(
      ['target', 'binary', 'size', 'build time', config.archive === 'none' ? 'file' : 'archive', 'sha256'],
      built.map((b) => {
        const a = files.find((x) => x.target === b.target.name)!;
        return [
          b.target.name,
          b.name,
          formatBytes(b.size),
          formatDuration(b.ms),
          `${a.path} (${formatBytes(a.size)})`,
          `\`${a.sha256.slice(0, 12)}…\``,
        ];
      }),
    )
    .barChart(
      'Binary size per target (MB)',
      built.map((b) => ({
        label: `${b.target.name}${built.length > files.length ? ` ${b.name}` : ''}`,
        value: b.size / 1e6,
      })),
      'MB',
    )
    .list([
      ...(vulnerabilities
        ? [
            `vulncheck: the build fails on \`${config.vulncheck!.failOn}\` or stronger; database ${config.vulncheck!.db}`,
          ]
        : []),
      ...(sboms.length
        ? [
            `SBOMs (CycloneDX 1.6 JSON, from each binary's build information): ${sboms.map((a) => mdCode(a.path)).join(', ')}`,
          ]
        : []),
      `commit ${src.commit.slice(0, 7) || '(not a git checkout)'}, build date ${new Date(src.commitTime * 1000).toISOString()} (the commit time)`,
      `flags: ${[config.trimpath ? '-trimpath' : '', config.strip ? '-s -w' : '', config.cgo === undefined ? "CGO_ENABLED=Go's default" : `CGO_ENABLED=${config.cgo ? 1 : 0}`].filter(Boolean).join(' ')}`,
    ]);
  if (vulnerabilities?.length)
    s.heading(`govulncheck: ${vulnerabilities.length} known vulnerabilities below the gate`, 3).table(
      ['id', 'module', 'found', 'fixed in', 'reach', 'in'],
      vulnerabilities.map((v) => [
        v.id,
        mdCode(v.module),
        v.version,
        v.fixed ?? 'not yet',
        `${v.reach}${v.symbols.length ? ` (${v.symbols.map(mdCode).join(', ')})` : ''}`,
        v.binaries.join('<br>'),
      ]),
    );
  return s;
}

/** The shards' manifests are outside text (a fork's shard could write one): made inert. */
export function mergeSummary(manifest: Manifest, shards: Shard[], workspace: string): Summary {
  return new Summary()
    .heading(`build-matrix merge: ${mdText(manifest.project)} ${mdText(manifest.version)}`)
    .table(
      ['shard', 'targets', 'files'],
      shards.map(({ dir, manifest: m }) => [
        mdText(m.shard ?? relative(workspace, dir)),
        mdText(m.targets.join(', ')),
        m.artifacts.map((a) => `${mdCode(a.path)} (${formatBytes(a.size)})`).join('<br>'),
      ]),
    );
}

/** The release section: each asset and what happened to it (uploaded, kept, replaced). */
export function withRelease(s: Summary, r: AttachResult | undefined): Summary {
  if (!r) return s;
  return s
    .heading(`Release ${r.tag}${r.publishedNow ? ' (published now)' : ''}`, 3)
    .paragraph(
      `${r.url}${r.created ? ' — created as a draft by this run' : ''}${!r.publishedNow ? ' — it was public before its assets were attached (semver-tag `create-release: draft` holds it back until they are)' : ''}`,
    )
    .table(
      ['asset', 'size', 'state'],
      r.assets.map((a) => [mdCode(a.name), formatBytes(a.size), a.state]),
    );
}
