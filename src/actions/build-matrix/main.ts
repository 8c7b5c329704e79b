import { type BuildSpec, resolvePackages } from '../../crossbuild/build.js';
import {
  goreleaserBuild,
  goreleaserMains,
  goreleaserFiles,
  goreleaserChecksums,
  goreleaserNaming,
  runHooks,
  supportedTargets,
} from '../../crossbuild/goreleaser.js';
import { crossBuild } from '../../crossbuild/cross-build.js';
import { type Manifest, defaultNaming, planShards } from '../../crossbuild/manifest.js';
import { findShards, mergeShards, uploadShard } from '../../crossbuild/merge.js';
import {
  checkOutputDir,
  defaultChecksums,
  dirtyingWarning,
  outputsOf,
  writeOutput,
  writeProvenance,
} from '../../crossbuild/output.js';
import { readSource } from '../../crossbuild/source.js';
import { publishFiles } from '../../release/publish.js';
import { distList, parseTargets } from '../../go/targets.js';
import { writeSummary } from '../../runner/action.js';
import { inBackground } from '../../runner/command.js';
import { inputError } from '../../runner/errors.js';
import { findFiles } from '../../runner/glob.js';
import { log } from '../../runner/log.js';
import * as workflow from '../../runner/workflow.js';
import { type Config, getInputs } from './inputs.js';
import { buildSummary, mergeSummary, planSummary, withRelease } from './summary.js';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export async function run(): Promise<void> {
  const config = getInputs();
  if (config.mode === 'plan') return plan(config);
  if (config.mode === 'merge') return merge(config);
  return build(config);
}

async function plan(config: Config): Promise<void> {
  const targets = await targetsOf(config);
  const shards = planShards(targets, config.shards, config.cgo ?? false);
  workflow.setOutput('matrix', JSON.stringify({ include: shards }));
  log.info(
    `${targets.length} targets in ${shards.length} shard(s): ${shards.map((s) => `[${s.shard}] ${s.targets}`).join('  ')}`,
  );
  await writeSummary(planSummary(targets.length, shards));
}

async function build(config: Config): Promise<void> {
  const gr = config.goreleaser;
  // git, `go list` and `go tool dist list` are asked at once (each is a process start), and their
  // answers taken in turn: a bad `targets` is reported before a `packages` problem, every time.
  // `go list` is started first: it takes longest (it loads the packages), and the builds wait on it.
  const packagesP = gr
    ? undefined
    : inBackground(resolvePackages(config.workspace, config.packages, config.binaryName));
  const mainsP = gr ? goreleaserMains(gr, config.workspace) : undefined;
  const srcP = inBackground(
    readSource(config.workspace, { version: config.version, project: config.projectName }),
  );
  const targetsP = inBackground(targetsOf(config));
  const dirtyingP = inBackground(dirtyingWarning(config.workspace, config.outputDir));
  const src = await srcP;
  const targets = await targetsP;
  const spec: BuildSpec = {
    ...config,
    ...src,
    dir: config.workspace,
    packages: [],
    shortCommit: src.shortCommit ?? '',
    singleTarget: targets.length === 1,
  };
  if (gr) await goreleaserBuild(gr, spec, !config.version, targets, mainsP);
  else spec.packages = await packagesP!;
  checkOutputDir(config.outputDir);
  if (config.uploadArtifact && !(process.env.ACTIONS_RESULTS_URL && process.env.ACTIONS_RUNTIME_TOKEN))
    throw inputError(
      'upload-artifact',
      config.uploadArtifact,
      'an artifact name on a GitHub Actions runner',
      'Outside GitHub (the go-ship CLI, GitLab CI), leave it empty and pass output-dir to the next job yourself.',
    );
  const dirtying = await dirtyingP;
  if (dirtying) workflow.warning(dirtying);
  if (gr) await runHooks(gr, config.workspace, spec);
  log.info(
    `Building ${spec.packages.map((p) => p.binary).join(', ')} ${spec.version} for ${targets.length} target(s), ${Math.min(config.parallelism, targets.length * spec.packages.length)} at a time`,
  );
  const extras = gr
    ? goreleaserFiles(gr, config.workspace)
    : findFiles(config.workspace, config.extraFiles.length ? config.extraFiles : ['README*', 'LICENSE*']).map(
        (name) => ({ name, data: readFileSync(join(config.workspace, name)) }),
      );
  const result = await crossBuild(spec, targets, {
    ...config,
    archive: gr ? goreleaserNaming(gr, spec) : defaultNaming(config.archive, src.project, spec.version),
    project: src.project,
    extras,
  });
  const manifest: Manifest = {
    schema: 'go-ship/build-manifest@1',
    project: src.project,
    version: spec.version,
    commit: src.commit,
    commitTime: src.commitTime,
    ...(config.shard ? { shard: config.shard } : {}),
    targets: targets.map((t) => t.name),
    artifacts: result.artifacts,
  };
  if (result.vulnerabilities) workflow.setOutput('vulnerabilities', JSON.stringify(result.vulnerabilities));
  const checksumsFile = writeOutput(config.outputDir, manifest, result.files, checksumsOf(config, manifest));
  setOutputs(config, manifest, checksumsFile);
  if (config.uploadArtifact)
    workflow.setOutput('artifact-id', await uploadShard(config.uploadArtifact, config.outputDir));
  const release = await publish(config, manifest, checksumsFile);
  await writeSummary(withRelease(buildSummary({ ...src, version: spec.version }, result, config), release));
}

async function merge(config: Config): Promise<void> {
  const dirs = await findShards(config.workspace, config);
  const { shards, manifest, files } = mergeShards(dirs, config.matrix);
  checkOutputDir(config.outputDir, dirs);
  const checksumsFile = writeOutput(config.outputDir, manifest, files, checksumsOf(config, manifest));
  setOutputs(config, manifest, checksumsFile);
  log.info(
    `Merged ${shards.length} shard(s): ${manifest.artifacts.length} artifacts, every file checked against its shard's manifest`,
  );
  const release = await publish(config, manifest, checksumsFile);
  await writeSummary(withRelease(mergeSummary(manifest, shards, config.workspace), release));
}

/**
 * After the output is written: `sign` (the checksums file, or every file) and `release` (everything
 * attached to the tag's GitHub Release, then published).
 */
async function publish(config: Config, manifest: Manifest, checksumsFile: string | undefined) {
  const provenance = config.provenance ? await writeProvenance(config.outputDir, manifest, config) : [];
  if (provenance.length) workflow.setOutput('provenance', join(config.outputDir, provenance[0]));
  const r = await publishFiles(
    config.outputDir,
    [...manifest.artifacts.map((a) => a.path), ...provenance],
    checksumsFile && basename(checksumsFile),
    { ...config, commit: manifest.commit, prerelease: manifest.version.includes('-') },
  );
  if (r.signatures.length) workflow.setOutput('signatures', JSON.stringify(r.signatures));
  if (r.release) {
    workflow.setOutput('release-url', r.release.url);
    workflow.setOutput('release-assets', JSON.stringify(r.release.assets));
  }
  return r.release;
}

/** A GoReleaser config's cross product drops the pairs Go lacks (darwin/386), as GoReleaser does. */
async function targetsOf(config: Config) {
  const dist = await distList();
  return parseTargets(config.goreleaser ? supportedTargets(config.targets, dist) : config.targets, dist);
}

function checksumsOf(config: Config, m: Manifest) {
  if (!config.checksums) return false;
  return config.goreleaser ? goreleaserChecksums(config.goreleaser, m) : defaultChecksums(m);
}

function setOutputs(config: Config, manifest: Manifest, checksumsFile: string | undefined): void {
  for (const [name, value] of Object.entries(outputsOf(config.outputDir, manifest, checksumsFile)))
    workflow.setOutput(name, value);
}
