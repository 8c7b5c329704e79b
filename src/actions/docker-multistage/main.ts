import { buildDockerfileImage, prepareDockerfile, requireDocker } from '../../oci/dockerfile.js';
import { appImages, goBuildBinaries, imageBinaries } from '../../oci/from-build.js';
import { planImage } from '../../oci/image-plan.js';
import { type Platform, pushAppImages } from '../../oci/image.js';
import { OciLayout } from '../../oci/layout.js';
import { type ImageAttestations, attestImage } from '../../oci/attest.js';
import { writeSummary } from '../../runner/action.js';
import { headCommit } from '../../runner/git.js';
import { inBackground } from '../../runner/command.js';
import { inputError } from '../../runner/errors.js';
import { log } from '../../runner/log.js';
import * as workflow from '../../runner/workflow.js';
import { type Config, getInputs } from './inputs.js';
import { dockerfileSummary, prebuiltSummary } from './summary.js';

export async function run(): Promise<void> {
  const config = getInputs();
  return config.mode === 'dockerfile' ? fromDockerfile(config) : fromBinaries(config);
}

/**
 * mode: prebuilt (build-matrix's linux binaries) and mode: go (built here, in one process as ko
 * does): assembled into images without a Docker build.
 */
async function fromBinaries(config: Config): Promise<void> {
  let early: Promise<Awaited<ReturnType<typeof planImage>>> | undefined;
  const built =
    config.mode === 'go'
      ? await goBuildBinaries(config.workspace, {
          pkg: config.pkg,
          platforms: config.platforms,
          binary: config.binary,
          version: config.version,
          ldflags: config.ldflags,
          // The registry's tags and credentials are asked while go build runs.
          beforeBuild: (k) => {
            early = inBackground(planImage(config, k.commit, k.commitTime, k.binaryName));
          },
        })
      : imageBinaries(config.from, config);
  const { chosen } = built;
  const plan = await (early ?? planImage(config, built.commit, built.commitTime, chosen[0].binaryName));
  const images = await appImages(chosen, built.commitTime, plan.oci, {
    ref: config.baseImage,
    registry: plan.registry,
  });
  const base = config.baseImage;
  log.info(
    `Assembling ${images.length} image(s) of ${chosen[0].binaryName} on ${base ? `${base.registry}/${base.repository}:${base.tag ?? 'latest'}` : 'scratch'} for ${chosen.map((c) => c.target).join(', ')}; tags ${plan.tags.join(', ')}`,
  );
  // push: false writes an OCI image layout instead (skopeo copy oci:DIR:TAG docker-daemon:... loads it).
  const sink = config.push ? plan.registry : new OciLayout(config.output);
  const pushed = await pushAppImages(sink, plan.repo, images, plan.tags, plan.oci);
  if (!config.push) {
    workflow.setOutput('oci-layout', config.output);
    log.info(`push: false: wrote an OCI image layout to ${config.output} (tags ${plan.tags.join(', ')})`);
  }
  const name = setImageOutputs(config, pushed.digest, plan.tags, pushed.manifests, plan.oci);
  if (config.sbom || config.provenance)
    setAttestationOutputs(
      await attestImage(plan.registry, plan.repo, name, pushed, {
        created: built.commitTime,
        sbom: config.sbom
          ? { binaries: chosen, version: config.version ?? built.version, commitTime: built.commitTime }
          : undefined,
        provenance: config.provenance ? provenanceOf(config, built.commit, pushed.manifests) : undefined,
      }),
    );
  log.info(
    `${config.push ? 'Pushed' : 'Assembled'} ${name}@${pushed.digest} (${pushed.blobs.uploaded} blobs written, ${pushed.blobs.reused} already there)`,
  );
  await writeSummary(
    prebuiltSummary(name, pushed, plan.decisions, chosen, config.push ? undefined : config.output),
  );
}

/**
 * mode: dockerfile: the user's multi-stage Dockerfile (or a generated one) built with BuildKit per
 * platform, each exported with `docker save` and pushed through the registry API, then one index.
 */
async function fromDockerfile(config: Config): Promise<void> {
  if (!config.push)
    throw inputError(
      'push',
      'false',
      '`true` in dockerfile mode',
      'To get an image without a registry, use mode: prebuilt with push: false (an OCI image layout).',
    );
  await requireDocker();
  const dockerfile = prepareDockerfile(config);
  const git = await headCommit(config.workspace);
  const plan = await planImage(config, git.sha, git.time);
  const { digest, builds } = await buildDockerfileImage(plan.registry, plan.repo, plan.tags, {
    context: config.context,
    dockerfile: dockerfile.path,
    platforms: config.platforms.length ? config.platforms : ['linux/amd64', 'linux/arm64'],
    buildArgs: { VERSION: config.version ?? 'dev', REVISION: plan.sha, ...config.buildArgs },
    oci: plan.oci,
  });
  const platforms = builds.map((b) => ({ ...b.descriptor, platform: b.descriptor.platform! }));
  const name = setImageOutputs(config, digest, plan.tags, platforms, plan.oci);
  if (config.provenance)
    setAttestationOutputs(
      await attestImage(
        plan.registry,
        plan.repo,
        name,
        { digest, manifests: platforms },
        { created: git.time, provenance: provenanceOf(config, git.sha, platforms) },
      ),
    );
  await writeSummary(dockerfileSummary(name, digest, plan.decisions, builds, dockerfile.generated));
}

/** The outputs both modes set; returns the image's name (registry/repository). */
function setImageOutputs(
  config: Config,
  digest: string,
  tags: string[],
  platforms: { platform: Platform; digest: string; size: number }[],
  labels: Record<string, string>,
): string {
  const name = `${config.image.registry}/${config.image.repository}`;
  workflow.setOutput('digest', digest);
  workflow.setOutput('image', `${name}@${digest}`);
  workflow.setOutput('tags', tags.map((t) => `${name}:${t}`).join('\n'));
  workflow.setOutput(
    'metadata',
    JSON.stringify({
      image: name,
      digest,
      tags,
      platforms: platforms.map((p) => ({ platform: p.platform, digest: p.digest, size: p.size })),
      labels,
    }),
  );
  return name;
}

function provenanceOf(config: Config, commit: string, platforms: { platform: Platform }[]) {
  const { image, mode, version } = config;
  const parameters = {
    image: `${image.registry}/${image.repository}`,
    mode,
    version,
    platforms: platforms.map((p) => [p.platform.os, p.platform.architecture].join('/')),
  };
  return { commit, workspace: config.workspace, startedAt: config.startedAt, parameters };
}

function setAttestationOutputs(a: ImageAttestations): void {
  workflow.setOutput('sboms', JSON.stringify(a.sboms));
  if (a.provenance) workflow.setOutput('provenance', a.provenance);
  log.info(
    `Attached ${[a.sboms.length ? `${a.sboms.length} SBOM(s)` : '', a.provenance ? 'a provenance statement' : ''].filter(Boolean).join(' and ')} to the image as OCI artifacts (read them with \`oras discover\`)`,
  );
}
