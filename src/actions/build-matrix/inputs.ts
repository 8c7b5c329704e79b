import { DEFAULT_TARGETS } from '../../go/targets.js';
import { type BuildFlags, DEFAULT_LDFLAGS, templateFields, UNBUILT_SPEC } from '../../crossbuild/build.js';
import {
  type GoReleaserSettings,
  readGoReleaserConfig,
  targetsFromConfig,
} from '../../crossbuild/goreleaser.js';
import { type Reach, dbUrl } from '../../crossbuild/vulncheck.js';
import { type ArchiveFormat } from '../../crossbuild/manifest.js';
import { existsSync } from 'node:fs';
import { renderTemplate } from '../../crossbuild/template.js';
import { inputError } from '../../runner/errors.js';
import { Inputs } from '../../runner/inputs.js';
import { DEFAULTS } from './defaults.js';
import * as workflow from '../../runner/workflow.js';
import { DEFAULT_SIGNATURE, DEFAULT_SIGN_ARGS, type SignSpec, fillSignTemplate } from '../../release/sign.js';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';

export interface Config extends BuildFlags {
  mode: 'build' | 'plan' | 'merge';
  workspace: string;
  targets: string[];
  packages: string[];
  binaryName?: string;
  version?: string;
  archive: ArchiveFormat;
  extraFiles: string[];
  checksums: boolean;
  parallelism: number;
  outputDir: string;
  projectName?: string;
  shards: number;
  shard?: string;
  mergeFrom: string[];
  mergeArtifacts: string[];
  matrix?: string;
  verifyReproducible: boolean;
  /** Artifact name to upload output-dir as, or undefined. */
  uploadArtifact?: string;
  /** A CycloneDX SBOM beside each archive. */
  sbom: boolean;
  /** govulncheck on the built binaries: the database and the reach that fails the build. */
  vulncheck?: { db: string; failOn: Reach };
  /** An in-toto SLSA provenance statement of the release files. */
  provenance: boolean;
  /** When this step started: the provenance's startedOn. */
  startedAt: Date;
  /** GoReleaser-style signing of the checksums file (or every file). */
  sign: SignSpec;
  /** The tag whose GitHub Release gets the archives, or undefined. */
  release?: string;
  githubToken: string;
  /** `goreleaser-config`: the file's builds, archives, checksum, hooks and snapshot settings. */
  goreleaser?: GoReleaserSettings;
}

export function getInputs(inputs = new Inputs(process.env, DEFAULTS), env = process.env): Config {
  const workspace = inputs.workingDirectory(env);
  const targets = inputs.list('targets');
  const ldflags = inputs.optional('ldflags') ?? DEFAULT_LDFLAGS;
  const buildEnv = inputs.keyValues('env');
  // Fails early on an unknown template field, before anything is built.
  renderTemplate('ldflags', ldflags, templateFields({ ...UNBUILT_SPEC, env: buildEnv }));
  const config: Config = {
    mode: inputs.oneOf('mode', ['build', 'plan', 'merge'] as const, { required: true }),
    workspace,
    targets: targets.length ? targets : DEFAULT_TARGETS,
    packages: inputs.lines('packages').length ? inputs.lines('packages') : ['.'],
    binaryName: inputs.optional('binary-name'),
    ldflags,
    tags: inputs.list('tags'),
    env: buildEnv,
    cgo: inputs.boolean('cgo'),
    trimpath: inputs.boolean('trimpath'),
    strip: inputs.boolean('strip'),
    version: inputs.optional('version')?.replace(/^v(?=\d)/, ''),
    archive: inputs.oneOf('archive', ['tar.gz', 'tar.xz', 'tar.zst', 'zip', 'none'] as const, {
      required: true,
    }),
    extraFiles: inputs.lines('extra-files'),
    checksums: inputs.boolean('checksums'),
    parallelism: inputs.int('parallelism', { min: 1, max: 64 }) ?? availableParallelism(),
    outputDir: inputs.pathToWrite('output-dir', workspace, 'folder', 'dist')!,
    projectName: inputs.optional('project-name'),
    shards: inputs.int('shards', { required: true, min: 1, max: 256 })!,
    shard: inputs.optional('shard'),
    mergeFrom: inputs.lines('merge-from'),
    mergeArtifacts: inputs.lines('merge-artifacts'),
    matrix: inputs.optional('matrix'),
    verifyReproducible: inputs.boolean('verify-reproducible'),
    uploadArtifact: artifactName(inputs.optional('upload-artifact'), inputs.optional('shard')),
    sbom: inputs.boolean('sbom'),
    vulncheck: vulncheckOf(inputs, workspace),
    sign: signSpec(inputs, inputs.optional('shard'), inputs.boolean('checksums')),
    provenance: onMergeJob('provenance', inputs.boolean('provenance'), inputs.optional('shard')),
    startedAt: new Date(),
    release: releaseTag(inputs.optional('release'), inputs.optional('shard'), env.GITHUB_REF),
    githubToken: inputs.optional('github-token') ?? '',
  };
  const file = inputs.optional('goreleaser-config');
  return file ? withGoReleaser(config, inputs, file) : config;
}

/** Inputs a GoReleaser config replaces; setting one beside it would leave two answers to one question. */
const FROM_GORELEASER = ['binary-name', 'ldflags', 'tags', 'env', 'extra-files', 'project-name'];

/**
 * `goreleaser-config`: the file decides what is built and how it is named (its builds, archives and
 * checksum); inputs with action.yml defaults (archive, trimpath, strip, cgo, checksums, packages)
 * give way to it, and an input the user set beside it is refused by name.
 */
function withGoReleaser(config: Config, inputs: Inputs, file: string): Config {
  const path = resolve(config.workspace, file);
  if (!existsSync(path))
    throw inputError(
      'goreleaser-config',
      file,
      'a GoReleaser configuration file, relative to working-directory (e.g. .goreleaser.yaml)',
      `There is no ${path}.`,
    );
  const both = FROM_GORELEASER.filter((name) => inputs.optional(name) !== undefined);
  if (both.length)
    throw inputError(
      'goreleaser-config',
      file,
      `a file that alone says what to build, without ${FROM_GORELEASER.map((n) => `\`${n}\``).join(', ')}`,
      `${both.map((n) => `\`${n}\``).join(', ')} ${both.length > 1 ? 'are' : 'is'} set too; set ${both.length > 1 ? 'them' : 'it'} in ${file} instead, or remove goreleaser-config.`,
    );
  const gr = readGoReleaserConfig(path, file);
  renderTemplate(`${file} ldflags`, gr.ldflags, templateFields({ ...UNBUILT_SPEC, env: gr.env }));
  // `targets` beside the file picks some of its targets: a shard of go-ship's release fan-out.
  const given = inputs.optional('targets') === undefined ? undefined : config.targets;
  return {
    ...config,
    goreleaser: gr,
    targets: given ? targetsFromConfig(gr, given) : gr.targets,
    packages: gr.builds.map((b) => b.main),
    ldflags: gr.ldflags,
    flags: gr.flags,
    tags: gr.tags,
    env: gr.env,
    cgo: gr.cgo,
    trimpath: gr.trimpath,
    strip: false,
    archive: gr.archive.format,
    extraFiles: gr.archive.files.map((f) => f.src),
    checksums: !gr.checksum.disable,
    projectName: gr.projectName,
  };
}

/** `true` is the tag this workflow runs on; any other value is a tag name. Shards leave it to the merge job. */
function releaseTag(value: string | undefined, shard: string | undefined, ref = ''): string | undefined {
  if (!value || value === 'false') return undefined;
  if (shard)
    throw inputError(
      'release',
      value,
      'a tag on the merge job, not on a shard',
      'Each shard has only its own targets: set `release` on the merge job, which publishes every asset once.',
    );
  if (value === 'true') {
    if (!ref.startsWith('refs/tags/'))
      throw inputError(
        'release',
        value,
        '`true` on a tag push (GITHUB_REF refs/tags/...), or a tag name',
        `This run is for ${ref || 'no ref'}; pass semver-tag's \`tag\` output instead.`,
      );
    return ref.slice('refs/tags/'.length);
  }
  // git check-ref-format's rules, the ones a tag name breaks in practice.
  if (/[\s~^:?*[\\]|\.\.|@\{|^[-/.]|[/.]$|\.lock$/.test(value))
    throw inputError('release', value, 'a git tag name (e.g. v1.2.3), `true` or empty');
  return value;
}

/** `true` names the artifact after the shard; `false` or empty uploads nothing; anything else is the name. */
function artifactName(value: string | undefined, shard: string | undefined): string | undefined {
  if (!value || value === 'false') return undefined;
  const name = value === 'true' ? `go-ship-build${shard ? `-${shard}` : ''}` : value;
  if (/[":<>|*?\\/\r\n]/.test(name))
    throw inputError(
      'upload-artifact',
      value,
      '`true`, `false` or an artifact name without " : < > | * ? \\ / or line breaks',
    );
  return name;
}

/** `sign` and its command, checked before anything is built: templates, shards, a checksums file to sign. */
function signSpec(inputs: Inputs, shard: string | undefined, checksums: boolean): SignSpec {
  const what = inputs.oneOf('sign', ['none', 'checksum', 'all'] as const, { required: true });
  const args = inputs.lines('sign-args');
  const spec: SignSpec = {
    what,
    cmd: inputs.string('sign-cmd'),
    args: args.length ? args : DEFAULT_SIGN_ARGS,
    signature: inputs.optional('sign-signature') ?? DEFAULT_SIGNATURE,
    stdin: inputs.optional('sign-stdin'),
  };
  if (spec.stdin) workflow.setSecret(spec.stdin);
  if (what === 'none') return spec;
  if (shard)
    throw inputError(
      'sign',
      what,
      '`none` on a shard',
      'Sign on the merge job, which writes the checksums file of every target.',
    );
  if (what === 'checksum' && !checksums)
    throw inputError(
      'sign',
      what,
      '`checksum` only with `checksums: true`',
      'There is no checksums file to sign.',
    );
  fillSignTemplate('sign-signature', spec.signature, { artifact: 'x', signature: '' });
  for (const a of spec.args) fillSignTemplate('sign-args', a, { artifact: 'x', signature: 'x.sig' });
  return spec;
}

/** `vulncheck`: off, or the weakest reach that fails the build; the database as a URL. */
function vulncheckOf(inputs: Inputs, workspace: string): Config['vulncheck'] {
  const failOn = inputs.oneOf('vulncheck', ['off', 'symbol', 'package', 'module'] as const, {
    required: true,
  });
  if (failOn === 'off') return undefined;
  return {
    failOn: failOn as Reach,
    db: dbUrl(inputs.string('vulncheck-db'), workspace),
  };
}

/** A whole-release file (provenance) is written by the merge job, which has every target's files. */
function onMergeJob(input: string, on: boolean, shard: string | undefined): boolean {
  if (on && shard)
    throw inputError(
      input,
      'true',
      '`false` on a shard',
      `Set ${input} on the merge job, which has every target's files.`,
    );
  return on;
}
