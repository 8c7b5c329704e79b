import {
  type BuildFailure,
  type BuildSpec,
  type BuiltBinary,
  buildAll,
  resolvePackages,
} from '../../crossbuild/build.js';
import {
  type Artifact,
  type Manifest,
  archiveBase,
  checksumsText,
  packageTarget,
  planShards,
  readVerifiedManifest,
} from '../../crossbuild/manifest.js';
import { downloadArtifacts, uploadArtifact } from '../../github/artifacts.js';
import { type Target, distList, parseTargets } from '../../go/targets.js';
import { writeSummary } from '../../runner/action.js';
import { runCommand } from '../../runner/command.js';
import { UserError, inputError } from '../../runner/errors.js';
import { findDirsHolding, findFiles } from '../../runner/glob.js';
import { formatBytes, formatDuration, log } from '../../runner/log.js';
import { Summary } from '../../runner/summary.js';
import * as workflow from '../../runner/workflow.js';
import { type Config, getInputs } from './inputs.js';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';

export async function run(): Promise<void> {
  const config = getInputs();
  if (config.mode === 'plan') return plan(config);
  if (config.mode === 'merge') return merge(config);
  return build(config);
}

interface Source {
  version: string;
  commit: string;
  /** git's own abbreviation (`%h`, as `git rev-parse --short`): 7 characters or more as the repository grows. */
  shortCommit?: string;
  commitTime: number;
  project: string;
}

/** Version, commit and commit time from git (SOURCE_DATE_EPOCH and `version` when given). */
async function source(config: Config): Promise<Source> {
  const git = (args: string[]) => runCommand('git', args, { cwd: config.workspace, check: false });
  const head = await git(['log', '-1', '--format=%H %h %ct']);
  const [commit = '', shortCommit = '', time = ''] = head.code === 0 ? head.stdout.trim().split(' ') : [];
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const commitTime = epoch && /^\d+$/.test(epoch) ? Number(epoch) : Number(time || 0);
  let version = config.version;
  if (!version) {
    const d = await git(['describe', '--tags', '--match', 'v[0-9]*', '--always', '--dirty']);
    const text = d.code === 0 ? d.stdout.trim() : '';
    version = /^v\d/.test(text) ? text.slice(1) : `0.0.0-${text || 'dev'}`;
  }
  let project = config.projectName;
  if (!project) {
    const m = await runCommand('go', ['list', '-m'], { cwd: config.workspace, check: false });
    const mod = m.code === 0 ? m.stdout.trim().split('\n')[0] : basename(config.workspace);
    project =
      mod
        .split('/')
        .filter((p) => !/^v[2-9]\d*$/.test(p))
        .at(-1) ?? 'project';
  }
  return { version, commit, shortCommit, commitTime, project };
}

async function targetsOf(config: Config): Promise<Target[]> {
  return parseTargets(config.targets, await distList());
}

async function plan(config: Config): Promise<void> {
  const targets = await targetsOf(config);
  const shards = planShards(targets, config.shards, config.cgo);
  const matrix = JSON.stringify({ include: shards });
  workflow.setOutput('matrix', matrix);
  log.info(
    `${targets.length} targets in ${shards.length} shard(s): ${shards.map((s) => `[${s.shard}] ${s.targets}`).join('  ')}`,
  );
  await writeSummary(
    new Summary().heading(`build-matrix plan: ${targets.length} targets, ${shards.length} shards`).table(
      ['shard', 'targets'],
      shards.map((s) => [s.shard, s.targets.split(',').join(', ')]),
    ),
  );
}

/** The output directory must be writable, and either new or a previous go-ship output (replaced). */
function checkOutputDir(dir: string): void {
  if (existsSync(dir)) {
    const entries = readdirSync(dir);
    if (entries.length && !entries.includes('manifest.json'))
      throw inputError(
        'output-dir',
        dir,
        'a new directory or one that build-matrix wrote before',
        'It is not empty; choose another directory or empty it.',
      );
    accessSync(dir, constants.W_OK);
    return;
  }
  let parent = dirname(dir);
  while (!existsSync(parent)) parent = dirname(parent);
  if (!statSync(parent).isDirectory())
    throw inputError('output-dir', dir, 'a directory this job can write', `${parent} is a file.`);
  try {
    accessSync(parent, constants.W_OK);
  } catch {
    throw inputError('output-dir', dir, 'a directory this job can write', `${parent} is not writable.`);
  }
}

async function build(config: Config): Promise<void> {
  // In turn, not together: a bad `targets` is reported before a `packages` problem, every time.
  const src = await source(config);
  const targets = await targetsOf(config);
  const packages = await resolvePackages(config.workspace, config.packages, config.binaryName);
  checkOutputDir(config.outputDir);
  if (config.uploadArtifact && !(process.env.ACTIONS_RESULTS_URL && process.env.ACTIONS_RUNTIME_TOKEN))
    throw inputError(
      'upload-artifact',
      config.uploadArtifact,
      'an artifact name on a GitHub Actions runner',
      'Outside GitHub (the go-ship CLI, GitLab CI), leave it empty and pass output-dir to the next job yourself.',
    );
  await warnIfDirtying(config);
  const spec: BuildSpec = {
    dir: config.workspace,
    packages,
    ldflags: config.ldflags,
    tags: config.tags,
    env: config.env,
    cgo: config.cgo,
    trimpath: config.trimpath,
    strip: config.strip,
    version: src.version,
    commit: src.commit,
    shortCommit: src.shortCommit ?? '',
    commitTime: src.commitTime,
  };
  // Binaries are built outside the checkout: a new file in the work tree would mark the next
  // binary's VCS stamp as modified.
  const scratch = mkdtempSync(join(process.env.RUNNER_TEMP ?? tmpdir(), 'go-ship-build-'));
  log.info(
    `Building ${packages.map((p) => p.binary).join(', ')} ${src.version} for ${targets.length} target(s), ${Math.min(config.parallelism, targets.length * packages.length)} at a time`,
  );
  const extras = findFiles(
    config.workspace,
    config.extraFiles.length ? config.extraFiles : ['README*', 'LICENSE*'],
  ).map((name) => ({ name, data: readFileSync(join(config.workspace, name)) }));
  // A target is archived as soon as its last binary is built, while other targets still build.
  const ready = new Map<Target, BuiltBinary[]>();
  const archiving = new Map<Target, ReturnType<typeof packageTarget>>();
  const started = Date.now();
  let finished = 0;
  const total = targets.length * packages.length;
  const stopBeat = log.heartbeat(
    5_000,
    () =>
      `  … ${finished} of ${total} built, ${formatDuration(Date.now() - started)} so far${finished ? '' : ' (a cold build cache compiles the standard library for each target first)'}`,
  );
  const { built, failed } = await buildAll(spec, targets, scratch, config.parallelism, (r, done, total) => {
    finished = done;
    progress(r, done, total);
    if (!('sha256' in r)) return;
    const bins = [...(ready.get(r.target) ?? []), r];
    ready.set(r.target, bins);
    if (bins.length === packages.length) {
      const p = packageTarget(
        bins.sort((a, b) => a.name.localeCompare(b.name)),
        extras,
        config.archive,
        archiveBase(src.project, src.version, r.target),
        src.commitTime,
      );
      p.catch(() => {}); // awaited below; a failed build discards it
      archiving.set(r.target, p);
    }
  }).finally(stopBeat);
  const wall = Date.now() - started;
  if (failed.length) {
    rmSync(scratch, { recursive: true, force: true });
    throw new UserError(
      `${failed.length} of ${targets.length * packages.length} builds failed: ${failed.map((f) => `${f.target.name} (${f.pkg.binary})`).join(', ')}. Nothing was written to ${config.outputDir}.\n${failed
        .slice(0, 3)
        .map((f) => `--- ${f.target.name}: ${f.command}\n${f.output.split('\n').slice(0, 15).join('\n')}`)
        .join('\n')}`,
    );
  }
  if (config.verifyReproducible) await verifyReproducible(spec, built[0], scratch);
  const packaged = await Promise.all(targets.map((t) => archiving.get(t)!));
  const artifacts: Artifact[] = packaged.map((p) => p.artifact);
  const files = packaged.flatMap((p) => p.files);
  const manifest: Manifest = {
    schema: 'go-ship/build-manifest@1',
    project: src.project,
    version: src.version,
    commit: src.commit,
    commitTime: src.commitTime,
    ...(config.shard ? { shard: config.shard } : {}),
    targets: targets.map((t) => t.name),
    artifacts,
  };
  const checksumsFile = writeOutput(config, src, manifest, files);
  rmSync(scratch, { recursive: true, force: true });
  setOutputs(config, manifest, checksumsFile);
  if (config.uploadArtifact) await upload(config);
  await writeSummary(buildSummary(src, built, artifacts, wall, config));
}

/** Replaces the output directory's contents in one go: files, checksums, manifest. */
function writeOutput(
  config: Config,
  src: Source,
  manifest: Manifest,
  files: { name: string; data: Buffer }[],
): string | undefined {
  try {
    return writeFiles(config, src, manifest, files);
  } catch (e) {
    // A full disk or a vanished directory: leave no half-written output behind.
    rmSync(config.outputDir, { recursive: true, force: true });
    throw new UserError(
      `Writing ${config.outputDir} failed (${(e as Error).message}); nothing was left there. Free disk space or choose another output-dir.`,
    );
  }
}

function writeFiles(
  config: Config,
  src: Source,
  manifest: Manifest,
  files: { name: string; data: Buffer }[],
): string | undefined {
  rmSync(config.outputDir, { recursive: true, force: true });
  mkdirSync(config.outputDir, { recursive: true });
  // Bare binaries (archive: none) must run as they are; a shard's artifact download loses modes.
  const executable = new Set(manifest.artifacts.filter((a) => a.kind === 'binary').map((a) => a.path));
  for (const f of files)
    writeFileSync(join(config.outputDir, f.name), f.data, { mode: executable.has(f.name) ? 0o755 : 0o644 });
  let checksumsFile: string | undefined;
  if (config.checksums) {
    checksumsFile = join(config.outputDir, `${src.project}_${src.version}_checksums.txt`);
    writeFileSync(checksumsFile, checksumsText(manifest.artifacts));
  }
  writeFileSync(join(config.outputDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return checksumsFile;
}

/** Uploads output-dir (archives, checksums, manifest) as one artifact, for a merge job to download. */
async function upload(config: Config): Promise<void> {
  const files = readdirSync(config.outputDir).sort();
  const a = await uploadArtifact(config.uploadArtifact!, config.outputDir, files);
  log.info(
    `Uploaded artifact ${config.uploadArtifact} (${files.length} files, ${formatBytes(a.size)}, id ${a.id}, ${a.digest})`,
  );
  workflow.setOutput('artifact-id', a.id);
}

function setOutputs(config: Config, manifest: Manifest, checksumsFile: string | undefined): void {
  workflow.setOutput(
    'artifacts',
    JSON.stringify(
      manifest.artifacts.map((a) => ({
        target: a.target,
        path: join(config.outputDir, a.path),
        sha256: a.sha256,
        size: a.size,
      })),
    ),
  );
  workflow.setOutput('checksums-file', checksumsFile ?? '');
  workflow.setOutput('version', manifest.version);
  workflow.setOutput('manifest', join(config.outputDir, 'manifest.json'));
}

function progress(r: BuiltBinary | BuildFailure, done: number, total: number): void {
  const tag = `[${done}/${total}]`;
  if ('sha256' in r)
    log.info(`${tag} ✓ ${r.target.name} ${r.name} ${formatBytes(r.size)} in ${formatDuration(r.ms)}`);
  else {
    log.info(`${tag} ✗ ${r.target.name} ${r.pkg.binary} failed`);
    workflow.error(`${r.target.name}: ${r.output.split('\n').slice(0, 10).join('\n')}`, {
      title: `go build ${r.target.name}`,
    });
  }
}

/** A binary stamped `vcs.modified=true` because the output directory sits untracked in the checkout. */
async function warnIfDirtying(config: Config): Promise<void> {
  const top = await runCommand('git', ['rev-parse', '--show-toplevel'], {
    cwd: config.workspace,
    check: false,
  });
  if (top.code !== 0) return;
  // git's top is a real path; the workspace may be reached through a symlink.
  const real = join(realpathSync(config.workspace), relative(config.workspace, config.outputDir));
  const rel = relative(top.stdout.trim(), real);
  if (rel.startsWith('..')) return;
  const ignored = await runCommand('git', ['check-ignore', '-q', `${rel}/`], {
    cwd: top.stdout.trim(),
    check: false,
  });
  if (ignored.code !== 0)
    workflow.warning(
      `output-dir ${rel} is inside the checkout and not in .gitignore: after this run, the next build's binaries record vcs.modified=true. Add \`/${rel}/\` to .gitignore.`,
    );
}

/**
 * Builds the first binary again with an empty build cache in another directory and compares the
 * bytes: a difference means something outside the source (a path, a time) leaked into the build.
 */
async function verifyReproducible(spec: BuildSpec, first: BuiltBinary, scratch: string): Promise<void> {
  const dir = join(scratch, 'reproduce');
  const cache = mkdtempSync(join(tmpdir(), 'go-ship-gocache-'));
  log.info(`verify-reproducible: rebuilding ${first.target.name} ${first.name} with an empty build cache`);
  const again = await buildAll(
    { ...spec, env: { ...spec.env, GOCACHE: cache } },
    [first.target],
    dir,
    1,
    () => {},
  );
  rmSync(cache, { recursive: true, force: true });
  if (again.failed.length)
    throw new UserError(
      `verify-reproducible: the rebuild of ${first.target.name} failed:\n${again.failed[0].output}`,
    );
  const b = again.built.find((x) => x.name === first.name)!;
  if (b.sha256 !== first.sha256)
    throw new UserError(
      `verify-reproducible: ${first.target.name} ${first.name} is not reproducible (sha256 ${first.sha256.slice(0, 12)}… then ${b.sha256.slice(0, 12)}…). Compare \`go version -m\` of both; common causes are a missing -trimpath, a time or path in ldflags, or cgo.`,
    );
  log.info(`verify-reproducible: identical (${first.sha256.slice(0, 12)}…)`);
}

/** The shards' folders: this run's artifacts downloaded (merge-artifacts), or folders already there (merge-from). */
async function shardDirs(config: Config): Promise<string[]> {
  if (config.mergeArtifacts.length) {
    if (config.mergeFrom.length)
      throw inputError(
        'merge-artifacts',
        config.mergeArtifacts.join(', '),
        'artifact name globs, without merge-from',
        'Give one source of shards: merge-artifacts downloads them, merge-from reads folders already downloaded.',
      );
    if (!(process.env.ACTIONS_RESULTS_URL && process.env.ACTIONS_RUNTIME_TOKEN))
      throw inputError(
        'merge-artifacts',
        config.mergeArtifacts.join(', '),
        'artifact name globs on a GitHub Actions runner (ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN are not set here)',
        'Outside GitHub Actions, put the shard folders in place and use merge-from.',
      );
    const into = mkdtempSync(join(process.env.RUNNER_TEMP ?? tmpdir(), 'go-ship-shards-'));
    const got = await log.group('Download shard artifacts', () =>
      downloadArtifacts(config.mergeArtifacts, into),
    );
    for (const a of got) log.info(`  ${a.name} (id ${a.id})`);
    if (!got.length)
      throw inputError(
        'merge-artifacts',
        config.mergeArtifacts.join(', '),
        "globs matching this run's artifact names",
        "No artifact of this run matches. Check the shards' upload-artifact names (`true` names them go-ship-build-<shard>).",
      );
    return got.map((a) => a.dir);
  }
  const patterns = config.mergeFrom.length ? config.mergeFrom : ['shards/*'];
  // Relative to the workspace, or absolute, or `../`: shards may be downloaded anywhere.
  const { dirs, missing } = findDirsHolding(config.workspace, patterns, 'manifest.json');
  if (!dirs.length)
    throw inputError(
      'merge-from',
      patterns.join(', '),
      'globs of directories holding shard outputs (each with manifest.json), relative to working-directory or absolute',
      missing.length
        ? `${missing.map((m) => m.base).join(', ')} does not exist: download every shard's artifact there first (actions/download-artifact with a path per shard), or point merge-from at where they are.`
        : "No directory there holds a manifest.json: download every shard's artifact whole (actions/download-artifact with a path per shard), or let merge-artifacts download them.",
    );
  return dirs;
}

async function merge(config: Config): Promise<void> {
  const dirs = await shardDirs(config);
  const manifests = dirs.map((d) => ({ dir: d, m: readVerifiedManifest(d) }));
  const first = manifests[0].m;
  for (const { dir, m } of manifests)
    if (m.version !== first.version || m.commit !== first.commit || m.project !== first.project)
      throw new UserError(
        `Shard ${m.shard ?? dir} is ${m.project} ${m.version} at ${m.commit.slice(0, 7)}, but shard ${first.shard ?? manifests[0].dir} is ${first.project} ${first.version} at ${first.commit.slice(0, 7)}: the shards come from different builds. Re-run the whole matrix.`,
      );
  const seen = new Map<string, string>();
  for (const { dir, m } of manifests)
    for (const t of m.targets) {
      if (seen.has(t))
        throw new UserError(
          `Target ${t} was built by two shards (${seen.get(t)} and ${m.shard ?? dir}); the matrix overlaps.`,
        );
      seen.set(t, m.shard ?? dir);
    }
  if (config.matrix) {
    let planned: { include?: { shard: string; targets: string }[] };
    try {
      planned = JSON.parse(config.matrix) as typeof planned;
    } catch {
      throw inputError('matrix', config.matrix.slice(0, 80), "the plan job's `matrix` output (JSON)");
    }
    const missing = (planned.include ?? []).flatMap((s) =>
      s.targets
        .split(',')
        .filter((t) => !seen.has(t))
        .map((t) => `${t} (shard ${s.shard})`),
    );
    if (missing.length)
      throw new UserError(
        `The merge is missing ${missing.join(', ')}: that shard's output was not downloaded or the shard failed. Nothing was merged.`,
      );
  }
  const artifacts = manifests.flatMap(({ m }) => m.artifacts);
  const files = manifests.flatMap(({ dir, m }) =>
    m.artifacts.map((a) => ({ name: a.path, data: readFileSync(join(dir, a.path)) })),
  );
  const src: Source = {
    version: first.version,
    commit: first.commit,
    commitTime: first.commitTime,
    project: first.project,
  };
  // Targets by name, so the merged manifest is the same whatever order the shards arrive in.
  const order = [...seen.keys()].sort();
  const manifest: Manifest = {
    schema: 'go-ship/build-manifest@1',
    project: first.project,
    version: first.version,
    commit: first.commit,
    commitTime: first.commitTime,
    targets: order,
    artifacts: artifacts.sort((a, b) => order.indexOf(a.target) - order.indexOf(b.target)),
  };
  if (
    existsSync(config.outputDir) &&
    dirs.some((d) => resolve(d).startsWith(resolve(config.outputDir) + '/'))
  )
    throw inputError('output-dir', config.outputDir, 'a directory outside the shard directories');
  checkOutputDir(config.outputDir);
  const checksumsFile = writeOutput(config, src, manifest, files);
  setOutputs(config, manifest, checksumsFile);
  log.info(
    `Merged ${manifests.length} shard(s): ${artifacts.length} artifacts, every file checked against its shard's manifest`,
  );
  await writeSummary(
    new Summary().heading(`build-matrix merge: ${first.project} ${first.version}`).table(
      ['shard', 'targets', 'files'],
      manifests.map(({ dir, m }) => [
        m.shard ?? relative(config.workspace, dir),
        m.targets.join(', '),
        m.artifacts.map((a) => `${a.path} (${formatBytes(a.size)})`).join('<br>'),
      ]),
    ),
  );
}

function buildSummary(
  src: Source,
  built: BuiltBinary[],
  artifacts: Artifact[],
  wall: number,
  config: Config,
): Summary {
  const s = new Summary()
    .heading(
      `build-matrix: ${src.project} ${src.version} (${artifacts.length} targets in ${formatDuration(wall)})`,
    )
    .table(
      ['target', 'binary', 'size', 'build time', config.archive === 'none' ? 'file' : 'archive', 'sha256'],
      built.map((b) => {
        const a = artifacts.find((x) => x.target === b.target.name)!;
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
        label: `${b.target.name}${built.length > artifacts.length ? ` ${b.name}` : ''}`,
        value: b.size / 1e6,
      })),
      'MB',
    );
  s.list([
    `commit ${src.commit.slice(0, 7) || '(not a git checkout)'}, build date ${new Date(src.commitTime * 1000).toISOString()} (the commit time)`,
    `flags: ${[config.trimpath ? '-trimpath' : '', config.strip ? '-s -w' : '', `CGO_ENABLED=${config.cgo ? 1 : 0}`].filter(Boolean).join(' ')}`,
  ]);
  return s;
}
