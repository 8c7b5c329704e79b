import { DEFAULT_LDFLAGS } from '../../crossbuild/build.js';
import { isValidTag } from '../../oci/image-tags.js';
import { type ImageRef, parseImageRef } from '../../oci/registry.js';
import { inputError } from '../../runner/errors.js';
import { Inputs } from '../../runner/inputs.js';
import { DEFAULTS } from './defaults.js';
import * as workflow from '../../runner/workflow.js';
import { resolve } from 'node:path';

export interface Config {
  mode: 'prebuilt' | 'go' | 'dockerfile';
  /** go mode: -ldflags, a template as build-matrix takes it. */
  ldflags: string;
  dockerfile: string;
  context: string;
  buildArgs: Record<string, string>;
  builderImage?: string;
  pkg: string;
  workspace: string;
  image: ImageRef;
  from: string;
  binary?: string;
  platforms: string[];
  version?: string;
  tags: string[];
  latest: 'auto' | 'true' | 'false';
  labels: Record<string, string>;
  username?: string;
  password?: string;
  push: boolean;
  output: string;
  baseImage?: ImageRef;
  /** Attach a CycloneDX SBOM to each platform image (prebuilt mode: the binary's build information). */
  sbom: boolean;
  /** Attach a SLSA provenance statement to the index. */
  provenance: boolean;
  startedAt: Date;
}

export function getInputs(inputs = new Inputs(process.env, DEFAULTS), env = process.env): Config {
  const workspace = inputs.workingDirectory(env);
  const mode = inputs.oneOf('mode', ['prebuilt', 'go', 'dockerfile'] as const, { required: true });
  const image = parseImageRef(inputs.string('image', { required: true }));
  if (image.tag)
    throw inputError(
      'image',
      `${image.registry}/${image.repository}:${image.tag}`,
      'a repository without a tag',
      'Tags come from the rules and the `tags` input.',
    );
  const tags = inputs.list('tags');
  for (const t of tags)
    if (!isValidTag(t))
      throw inputError(
        'tags',
        t,
        'tags of letters, digits, `_`, `.` and `-` (up to 128, not starting with `.` or `-`)',
      );
  const password = inputs.optional('password');
  if (password) workflow.setSecret(password);
  const version =
    inputs.optional('version') ??
    (env.GITHUB_REF?.startsWith('refs/tags/v') ? env.GITHUB_REF.slice('refs/tags/v'.length) : undefined);
  return {
    mode,
    dockerfile: resolve(workspace, inputs.string('dockerfile')),
    context: resolve(workspace, inputs.string('context')),
    buildArgs: inputs.keyValues('build-args'),
    builderImage: inputs.optional('builder-image'),
    pkg: inputs.string('package'),
    ldflags: inputs.optional('ldflags') ?? DEFAULT_LDFLAGS,
    workspace,
    image,
    from: resolve(workspace, inputs.string('from')),
    binary: inputs.optional('binary'),
    platforms: inputs.list('platforms'),
    version: version?.replace(/^v/, ''),
    tags,
    latest: inputs.oneOf('latest', ['auto', 'true', 'false'] as const, { required: true }),
    labels: inputs.keyValues('labels'),
    username: inputs.optional('username'),
    password,
    push: inputs.boolean('push'),
    baseImage: inputs.optional('base-image')
      ? parseImageRef(inputs.string('base-image'), 'base-image')
      : undefined,
    output: inputs.pathToWrite('output', workspace, 'folder', 'oci-image')!,
    ...attestations(inputs, mode),
    startedAt: new Date(),
  };
}

/** sbom and provenance are artifacts in the registry that refer to the pushed image. */
function attestations(inputs: Inputs, mode: Config['mode']): { sbom: boolean; provenance: boolean } {
  const sbom = inputs.boolean('sbom');
  const provenance = inputs.boolean('provenance');
  if (sbom && mode === 'dockerfile')
    throw inputError(
      'sbom',
      'true',
      '`true` in prebuilt or go mode',
      "In dockerfile mode the binary is built inside the Dockerfile, out of go-ship's sight; use mode: prebuilt (build-matrix's binaries) or go, whose binaries' build information the SBOM lists.",
    );
  for (const [name, on] of [
    ['sbom', sbom],
    ['provenance', provenance],
  ] as const)
    if (on && !inputs.boolean('push'))
      throw inputError(
        name,
        'true',
        '`true` with push: true',
        'They are attached in the registry, to the pushed image.',
      );
  return { sbom, provenance };
}
