import { resolvePackages } from '../../crossbuild/build.js';
import { crossBuild } from '../../crossbuild/cross-build.js';
import { type Manifest, planShards } from '../../crossbuild/manifest.js';
import { findShards, mergeShards, uploadShard } from '../../crossbuild/merge.js';
import {
  checkOutputDir,
  dirtyingWarning,
  outputsOf,
  writeOutput,
  writeProvenance,
} from '../../crossbuild/output.js';
import { readSource } from '../../crossbuild/source.js';
import { publishFiles } from '../../release/publish.js';
import { distList, parseTargets } from '../../go/targets.js';
import { writeSummary } from '../../runner/action.js';
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
  const targets = parseTargets(config.targets, await distList());
  const shards = planShards(targets, config.shards, config.cgo);
  workflow.setOutput('matrix', JSON.stringify({ include: shards }));
  log.info(
    `${targets.length} targets in ${shards.length} shard(s): ${shards.map((s) => `[${s.shard}] ${s.targets}`).join('  ')}`,
  );
  await writeSummary(planSummary(targets.length, shards));
}

async function build(config: Config): Promise<void> {
  // In turn, not together: a bad `targets` is reported before a `packages` problem, every time.
  const src = await readSource(config.workspace, { version: config.version, project: config.projectName });
  const targets = parseTargets(config.targets, await distList());
  const packages = await resolvePackages(config.workspace, config.packages, config.binaryName);
  checkOutputDir(config.outputDir);
  if (config.uploadArtifact && !(process.env.ACTIONS_RESULTS_URL && process.env.ACTIONS_RUNTIME_TOKEN))
    throw inputError(
      'upload-artifact',
      config.uploadArtifact,
      'an artifact name on a GitHub Actions runner',
      'Outside GitHub (the go-ship CLI, GitLab CI), leave it empty and pass output-dir to the next job yourself.',
    );
  const dirtying = await dirtyingWarning(config.workspace, config.outputDir);
  if (dirtying) workflow.warning(dirtying);
  log.info(
    `Building ${packages.map((p) => p.binary).join(', ')} ${src.version} for ${targets.length} target(s), ${Math.min(config.parallelism, targets.length * packages.length)} at a time`,
  );
  const extras = findFiles(
    config.workspace,
    config.extraFiles.length ? config.extraFiles : ['README*', 'LICENSE*'],
  ).map((name) => ({ name, data: readFileSync(join(config.workspace, name)) }));
  const { ldflags, tags, env, cgo, trimpath, strip, parallelism, archive, outputDir } = config;
  const { version, commit, commitTime, project } = src;
  const result = await crossBuild(
    {
      dir: config.workspace,
      packages,
      ldflags,
      tags,
      env,
      cgo,
      trimpath,
      strip,
      version,
      commit,
      commitTime,
      shortCommit: src.shortCommit ?? '',
    },
    targets,
    {
      parallelism,
      archive,
      project,
      extras,
      verifyReproducible: config.verifyReproducible,
      sbom: config.sbom,
      vulncheck: config.vulncheck,
      outputDir,
    },
  );
  const manifest: Manifest = {
    schema: 'go-ship/build-manifest@1',
    project: src.project,
    version: src.version,
    commit: src.commit,
    commitTime: src.commitTime,
    ...(config.shard ? { shard: config.shard } : {}),
    targets: targets.map((t) => t.name),
    artifacts: result.artifacts,
  };
  if (result.vulnerabilities) workflow.setOutput('vulnerabilities', JSON.stringify(result.vulnerabilities));
  const checksumsFile = writeOutput(config.outputDir, manifest, result.files, config.checksums);
  setOutputs(config, manifest, checksumsFile);
  if (config.uploadArtifact)
    workflow.setOutput('artifact-id', await uploadShard(config.uploadArtifact, config.outputDir));
  const release = await publish(config, manifest, checksumsFile);
  await writeSummary(withRelease(buildSummary(src, result, config), release));
}

async function merge(config: Config): Promise<void> {
  const dirs = await findShards(config.workspace, config);
  const { shards, manifest, files } = mergeShards(dirs, config.matrix);
  checkOutputDir(config.outputDir, dirs);
  const checksumsFile = writeOutput(config.outputDir, manifest, files, config.checksums);
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

function setOutputs(config: Config, manifest: Manifest, checksumsFile: string | undefined): void {
  for (const [name, value] of Object.entries(outputsOf(config.outputDir, manifest, checksumsFile)))
    workflow.setOutput(name, value);
}
