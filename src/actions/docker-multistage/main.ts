import { readTarGz } from '../../archive/archive.js';
import { type Artifact, type Manifest, readVerifiedManifest, sha256 } from '../../crossbuild/manifest.js';
import { eventPayload, pullRequestOf, repositoryUrl } from '../../github/rest.js';
import { registryCredentials } from '../../oci/docker-config.js';
import {
  buildAndPushPlatform,
  generateDockerfile,
  lintDockerfile,
  requireDocker,
} from '../../oci/dockerfile.js';
import { type TagDecision, decideTags } from '../../oci/image-tags.js';
import {
  type AppImage,
  type Descriptor,
  type Platform,
  caBundle,
  imageIndex,
  pushAppImages,
  readBaseImage,
} from '../../oci/image.js';
import { OciLayout } from '../../oci/layout.js';
import { MEDIA, Registry } from '../../oci/registry.js';
import { writeSummary } from '../../runner/action.js';
import { runCommand } from '../../runner/command.js';
import { UserError, inputError } from '../../runner/errors.js';
import { formatBytes, log } from '../../runner/log.js';
import { Summary } from '../../runner/summary.js';
import * as workflow from '../../runner/workflow.js';
import { type Config, getInputs } from './inputs.js';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';

/** `linux/arm/7` → {os: linux, architecture: arm, variant: v7}; amd64 microarchitecture levels are not OCI variants. */
function platformOf(target: string): Platform {
  const [os, architecture, variant] = target.split('/');
  if (architecture === 'arm' && variant) return { os, architecture, variant: `v${variant}` };
  if (architecture === 'arm64') return { os, architecture, variant: 'v8' };
  return { os, architecture };
}

interface Candidate {
  target: string;
  artifact: Artifact;
  binaryName: string;
  binary: Buffer;
}

/**
 * The linux binaries build-matrix produced, taken out of its archives and checked against its
 * manifest: the archive's sha256 (readVerifiedManifest) and then the binary's own.
 */
function binariesFrom(config: Config): { built: Manifest; candidates: Candidate[] } {
  if (!existsSync(join(config.from, 'manifest.json')))
    throw inputError(
      'from',
      config.from,
      "build-matrix's output-dir (with manifest.json)",
      'Run build-matrix with linux targets before this step, or point `from` at its output-dir.',
    );
  const manifest = readVerifiedManifest(config.from);
  const out: Candidate[] = [];
  for (const a of manifest.artifacts.filter((x) => x.target.startsWith('linux/'))) {
    const names = a.binaries.map((b) => b.name);
    const name = config.binary ?? names[0];
    const entry = a.binaries.find((b) => b.name === name);
    if (!entry)
      throw inputError('binary', name, `one of the binaries build-matrix built: ${names.join(', ')}`);
    if (a.binaries.length > 1 && !config.binary)
      throw inputError(
        'binary',
        '',
        `one of ${names.join(', ')}`,
        'The archives hold several binaries; name the one this image runs.',
      );
    const data = readFileSync(join(config.from, a.path));
    const binary = a.kind === 'binary' ? data : readTarGz(data).find((f) => f.name === name)?.data;
    if (!binary || sha256(binary) !== entry.sha256)
      throw new UserError(
        `${a.path} does not hold the ${name} that build-matrix recorded (sha256 ${entry.sha256.slice(0, 12)}…); rebuild.`,
      );
    out.push({ target: a.target, artifact: a, binaryName: name, binary });
  }
  return { built: manifest, candidates: out };
}

interface ImagePlan {
  /** The commit the image stands for. */
  sha: string;
  registry: Registry;
  repo: string;
  decisions: TagDecision[];
  tags: string[];
  /** OCI labels, also written as manifest and index annotations. */
  oci: Record<string, string>;
}

/**
 * What both modes decide the same way: the commit the image stands for (the PR head on pull
 * requests), the tags by rule, and the OCI labels. `title` is the image's binary, when known.
 */
async function planImage(
  config: Config,
  commit: string,
  created: number,
  title?: string,
): Promise<ImagePlan> {
  const pr = pullRequestOf(eventPayload());
  const ref = process.env.GITHUB_REF ?? '';
  const sha = pr?.headSha || process.env.GITHUB_SHA || commit;
  const registry = new Registry(
    config.image.registry,
    await registryCredentials(config.image.registry, {
      username: config.username,
      password: config.password,
    }),
  );
  const repo = config.image.repository;
  const decisions = decideTags({
    version: config.version,
    sha,
    branch: !pr && ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined,
    pr: pr?.number,
    // push: false must not need the registry; latest is then judged on this version alone.
    existing: config.version && config.push ? await registry.listTags(repo) : [],
    latest: config.latest,
    extra: config.tags,
  });
  const tags = [...new Set(decisions.filter((d) => d.tag).map((d) => d.tag!))];
  if (!tags.length)
    throw new UserError('No tag rule produced a tag (see the summary); give `version` or `tags`.');
  const repoUrl = repositoryUrl();
  const oci: Record<string, string> = {
    'org.opencontainers.image.created': new Date(created * 1000).toISOString().replace('.000Z', 'Z'),
    'org.opencontainers.image.revision': sha,
    ...(config.version ? { 'org.opencontainers.image.version': config.version } : {}),
    ...(repoUrl
      ? { 'org.opencontainers.image.source': repoUrl, 'org.opencontainers.image.url': repoUrl }
      : {}),
    ...(title ? { 'org.opencontainers.image.title': title } : {}),
    ...config.labels,
  };
  return { sha, registry, repo, decisions, tags, oci };
}

export async function run(): Promise<void> {
  const config = getInputs();
  if (config.mode === 'dockerfile') return runDockerfile(config);
  const { built, candidates: available } = binariesFrom(config);
  const wanted = config.platforms.length ? config.platforms : available.map((c) => c.target);
  if (!wanted.length)
    throw new UserError(
      `${config.from} holds no linux binaries; build-matrix needs linux targets (e.g. linux/amd64,linux/arm64) for images.`,
    );
  const missing = wanted.filter((p) => !available.some((c) => c.target === p));
  if (missing.length)
    throw inputError(
      'platforms',
      missing.join(', '),
      `platforms build-matrix built: ${available.map((c) => c.target).join(', ') || 'none'}`,
      'Add the targets to build-matrix, or drop them here.',
    );
  const chosen = wanted.map((p) => available.find((c) => c.target === p)!);

  const { registry, repo, decisions, tags, oci } = await planImage(
    config,
    built.commit,
    built.commitTime,
    chosen[0].binaryName,
  );
  const ca = caBundle();
  const baseRef = config.baseImage;
  const baseRegistry = baseRef
    ? baseRef.registry === config.image.registry
      ? registry
      : new Registry(baseRef.registry)
    : undefined;
  const images: AppImage[] = [];
  for (const c of chosen) {
    const platform = platformOf(c.target);
    images.push({
      binaryName: c.binaryName,
      binary: c.binary,
      platform,
      created: built.commitTime,
      labels: oci,
      caCertificates: ca,
      base: baseRef
        ? await readBaseImage(baseRegistry!, baseRef.repository, baseRef.tag ?? 'latest', platform)
        : undefined,
    });
  }
  log.info(
    `Assembling ${images.length} image(s) of ${chosen[0].binaryName} on ${baseRef ? `${baseRef.registry}/${baseRef.repository}:${baseRef.tag ?? 'latest'}` : 'scratch'} for ${wanted.join(', ')}; tags ${tags.join(', ')}`,
  );
  // push: false writes an OCI image layout instead (skopeo copy oci:DIR:TAG docker-daemon:... loads it).
  const sink = config.push ? registry : new OciLayout(config.output);
  const pushed = await pushAppImages(sink, repo, images, tags, oci);
  if (!config.push) {
    workflow.setOutput('oci-layout', config.output);
    log.info(`push: false: wrote an OCI image layout to ${config.output} (tags ${tags.join(', ')})`);
  }
  const name = `${config.image.registry}/${repo}`;
  workflow.setOutput('digest', pushed.digest);
  workflow.setOutput('image', `${name}@${pushed.digest}`);
  workflow.setOutput('tags', tags.map((t) => `${name}:${t}`).join('\n'));
  workflow.setOutput(
    'metadata',
    JSON.stringify({ image: name, digest: pushed.digest, tags, platforms: pushed.manifests, labels: oci }),
  );
  log.info(
    `${config.push ? 'Pushed' : 'Assembled'} ${name}@${pushed.digest} (${pushed.blobs.uploaded} blobs written, ${pushed.blobs.reused} already there)`,
  );
  await writeSummary(
    summarize(
      name,
      pushed.digest,
      decisions,
      chosen,
      pushed.manifests,
      config.push ? undefined : config.output,
    ),
  );
}

function summarize(
  name: string,
  digest: string,
  decisions: TagDecision[],
  chosen: Candidate[],
  manifests: { platform: Platform; digest: string; size: number }[],
  /** push: false: the OCI image layout written instead of a push. */
  layout?: string,
): Summary {
  return releaseSummary('docker-multistage', name, digest, decisions, layout)
    .heading('Platforms', 3)
    .table(
      ['platform', 'binary', 'size', 'binary sha256', 'manifest'],
      chosen.map((c, i) => [
        c.target,
        c.binaryName,
        formatBytes(c.binary.length),
        `\`${sha256(c.binary).slice(0, 12)}…\``,
        `\`${manifests[i].digest.slice(7, 19)}…\``,
      ]),
    );
}

/** The commit time (for `created`), from git; 0 outside a checkout. */
async function commitTime(dir: string): Promise<{ sha: string; time: number }> {
  const r = await runCommand('git', ['log', '-1', '--format=%H %ct'], { cwd: dir, check: false });
  const [sha = '', time = '0'] = r.code === 0 ? r.stdout.trim().split(' ') : [];
  return { sha, time: Number(time) };
}

/**
 * mode: dockerfile: the user's multi-stage Dockerfile (or a generated one) built with BuildKit per
 * platform, each exported with `docker save` and pushed through the registry API, then one index.
 */
async function runDockerfile(config: Config): Promise<void> {
  if (!config.push)
    throw inputError(
      'push',
      'false',
      '`true` in dockerfile mode',
      'To get an image without a registry, use mode: prebuilt with push: false (an OCI image layout).',
    );
  await requireDocker();
  const platforms = config.platforms.length ? config.platforms : ['linux/amd64', 'linux/arm64'];
  let dockerfile = config.dockerfile;
  let generated: string | undefined;
  if (!existsSync(dockerfile)) {
    const goMod = join(config.workspace, 'go.mod');
    if (!existsSync(goMod))
      throw inputError(
        'dockerfile',
        dockerfile,
        'a Dockerfile, or a Go module to generate one for',
        'Neither exists; point working-directory at the module or dockerfile at the file.',
      );
    const goVersion = /^go\s+(\d+\.\d+)/m.exec(readFileSync(goMod, 'utf8'))?.[1] ?? '1';
    const binaryName = config.binary ?? basename(config.workspace);
    generated = generateDockerfile({
      builderImage: config.builderImage ?? `golang:${goVersion}`,
      pkg: config.pkg,
      binaryName,
    });
    dockerfile = join(mkdtempSync(join(tmpdir(), 'go-ship-dockerfile-')), 'Dockerfile');
    writeFileSync(dockerfile, generated);
    log.info(
      `No Dockerfile: generated one (in the summary) with builder ${config.builderImage ?? `golang:${goVersion}`}`,
    );
  } else {
    for (const f of lintDockerfile(readFileSync(dockerfile, 'utf8')))
      workflow.warning(f.message, {
        file: relative(config.workspace, dockerfile),
        line: f.line,
        title: 'emulation trap',
      });
  }
  const git = await commitTime(config.workspace);
  const { sha, registry, repo, decisions, tags, oci } = await planImage(config, git.sha, git.time);
  const manifests: Descriptor[] = [];
  const rows: string[][] = [];
  for (const p of platforms) {
    log.info(`docker build --platform ${p} (BuildKit, cross-compiling on the build platform)`);
    const r = await buildAndPushPlatform(registry, repo, {
      context: config.context,
      dockerfile,
      platform: platformOf(p),
      buildArgs: { VERSION: config.version ?? 'dev', REVISION: sha, ...config.buildArgs },
      labels: oci,
      annotations: oci,
    });
    manifests.push(r.descriptor);
    rows.push([p, `\`${r.descriptor.digest.slice(7, 19)}…\``, `${r.seconds.toFixed(1)}s`]);
    log.info(`  ${p} pushed (${r.seconds.toFixed(1)}s)`);
  }
  const index = imageIndex(manifests, oci);
  let digest = index.descriptor.digest;
  for (const t of tags) digest = await registry.putManifest(repo, t, index.data, MEDIA.index);
  const name = `${config.image.registry}/${repo}`;
  workflow.setOutput('digest', digest);
  workflow.setOutput('image', `${name}@${digest}`);
  workflow.setOutput('tags', tags.map((t) => `${name}:${t}`).join('\n'));
  workflow.setOutput(
    'metadata',
    JSON.stringify({
      image: name,
      digest,
      tags,
      platforms: manifests.map((m) => ({ platform: m.platform, digest: m.digest, size: m.size })),
      labels: oci,
    }),
  );
  const s = releaseSummary('docker-multistage (dockerfile)', name, digest, decisions)
    .heading('Platforms', 3)
    .table(['platform', 'manifest', 'build + push'], rows);
  if (generated) s.details('Generated Dockerfile', new Summary().code(generated, 'dockerfile').toString());
  await writeSummary(s);
}

/**
 * The opening both modes share: the pushed reference (or, with push: false, the layout written and
 * "not pushed") and each tag rule with why it did (not) apply.
 */
function releaseSummary(
  title: string,
  name: string,
  digest: string,
  decisions: TagDecision[],
  layout?: string,
): Summary {
  return new Summary()
    .heading(`${title}: ${name}${layout ? ' (not pushed)' : ''}`)
    .paragraph(
      layout
        ? `push: false — nothing was pushed to the registry. OCI image layout: \`${layout}\`, index \`${digest}\`; the tags below are in the layout only (\`skopeo copy oci:${layout}:TAG docker://...\` pushes one).`
        : `\`${name}@${digest}\``,
    )
    .heading('Tags', 3)
    .table(
      ['rule', 'tag', 'why'],
      decisions.map((d) => [d.rule, d.tag ? `\`${d.tag}\`` : '—', d.why]),
    );
}
