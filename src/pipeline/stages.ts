import { dirname, join } from 'node:path';
import { mainPackages } from '../crossbuild/build.js';
import type { LocalRunResult, StepPhase } from '../host/local-runner.js';
import type { Environment, ProjectConfig } from '../runner/project-config.js';
import { describeRules, environmentForRef, environmentInputs } from './environments.js';
import type { PipelineSecrets } from './secrets.js';

/** The pipeline's stages in order (the order they run in). */
export const STAGES = ['setup', 'lint', 'test', 'coverage', 'tag', 'build', 'image', 'deploy'] as const;
export type Stage = (typeof STAGES)[number];
export type PipelineEvent = 'pull_request' | 'push';

export type { PipelineSecrets } from './secrets.js';

/** What a stage can use: the project's config, earlier stages' outputs, and a way to run an action. */
export interface StageContext {
  workspace: string;
  config: ProjectConfig;
  /** `.go-ship.yml`'s environments (none: the deploy stage deploys the one `deploy-bluegreen` section). */
  environments: Environment[];
  /** What was pushed, as GITHUB_REF has it (`refs/heads/develop`, `refs/tags/v1.2.0`). */
  ref: string;
  secrets: PipelineSecrets;
  /** The released version (the tag stage's output), '' before or without it. */
  version: string;
  outputsOf(stage: string): Record<string, string>;
  /** Runs a go-ship action's bundle as a step; empty inputs are left to the action's defaults. */
  action(name: string, withs: Record<string, string>): Promise<LocalRunResult>;
  /** The environment later steps see (what earlier stages exported, PATH included). */
  env(): Record<string, string>;
  /** Variables the user's tests may see besides childEnv's allow-list (the root action's `test-env`). */
  passEnv: string[];
  /** A folder for the pipeline's run: what a stage writes there a later stage can read. */
  temp: string;
  line(text: string, phase?: StepPhase | 'run'): void;
}

/** A stage that ran: passed or failed (and why), with its outputs and its action's job summary. */
export interface StageRun {
  passed: boolean;
  /** Why it failed; a passed stage's line is its record's `describe`. */
  failure?: string;
  outputs: Record<string, string>;
  summary: string;
}

/**
 * One stage, as GoReleaser's pipes are: when it runs, why it would not, what it does, and its line
 * in the summary table. Adding a stage is a name in STAGES and a record here.
 */
export interface StageRecord {
  events: readonly PipelineEvent[];
  /** Why the stage does not run in this project (checked after the event, `skip` and earlier failures). */
  skipWhy?(ctx: StageContext): string | undefined | Promise<string | undefined>;
  run(ctx: StageContext): Promise<StageRun>;
  /** Its line in the summary table, from its outputs, when it passed. */
  describe(outputs: Record<string, string>): string;
}

const BOTH = ['pull_request', 'push'] as const;
const PUSH = ['push'] as const;

/** A stage that is one go-ship action: passed when the action exits 0. */
const asStep = (r: LocalRunResult): StageRun => ({
  passed: r.exitCode === 0,
  failure: `exit code ${r.exitCode}`,
  outputs: r.outputs,
  summary: r.summary,
});

export const STAGE_RECORDS: Record<Stage, StageRecord> = {
  setup: {
    events: BOTH,
    run: async (ctx) => asStep(await ctx.action('setup-go-cross', {})),
    describe: (o) => `Go ${o['go-version'] ?? '?'}`,
  },
  lint: {
    events: BOTH,
    run: async (ctx) => asStep(await ctx.action('quality-gate', { checks: 'lint' })),
    describe: (o) => `${o['lint-failing'] ?? '0'} findings failing, ${o['lint-listed'] ?? '0'} listed`,
  },
  test: {
    events: BOTH,
    // The user's tests and every dependency's init run in quality-gate with an allow-listed
    // environment: no secret, input or runtime token; `test-env` names what else they may see.
    run: async (ctx) =>
      asStep(
        await ctx.action('quality-gate', {
          checks: 'test',
          coverprofile: 'coverage.out',
          'report-file': join(ctx.temp, 'test-results.json'),
          'test-env': ctx.passEnv.join(','),
        }),
      ),
    describe: (o) =>
      `go test -json${o.race === 'true' ? ' -race' : ''}: ${o.tests ?? '?'} tests, ${o.failed ?? '0'} failed, ${o.flaky ?? '0'} flaky`,
  },
  coverage: {
    events: BOTH,
    run: async (ctx) =>
      asStep(
        await ctx.action('coverage-gate', {
          profiles: 'coverage.out',
          comment: 'false',
          'test-results': ctx.outputsOf('test')['report-file'] ?? '',
          notify: ctx.secrets.notify ?? '',
        }),
      ),
    describe: (o) =>
      `${o['total-func'] ?? '?'}% of statements in functions${o['excluded-files'] && o['excluded-files'] !== '0' ? ` after excluding ${o['excluded-files']} file(s); go tool cover -func: ${o['go-tool-cover-func']}%` : ' (go tool cover -func)'}, gate passed`,
  },
  tag: {
    events: PUSH,
    // A Release asked for in .go-ship.yml is made as a draft: the build stage attaches the archives
    // and publishes it, so it is never public without them.
    run: async (ctx) =>
      asStep(
        await ctx.action('semver-tag', {
          'github-token': ctx.secrets.githubToken ?? '',
          notify: ctx.secrets.notify ?? '',
          ...(releasing(ctx) ? { 'create-release': 'draft' } : {}),
        }),
      ),
    describe: (o) => (o.tag ? `${o.tag}${o.created === 'true' ? ' created' : ''}` : 'no release'),
  },
  build: {
    events: BOTH,
    // A library builds no binaries: every pull request of one would fail here otherwise.
    async skipWhy(ctx) {
      const b = ctx.config['build-matrix'];
      if (b?.packages || b?.['goreleaser-config']) return undefined;
      return (await mainPackages(ctx.workspace)).length
        ? undefined
        : 'no main package (a library: nothing to build)';
    },
    async run(ctx) {
      // Without `packages` in .go-ship.yml, build the module's main packages (`cmd/app` included),
      // as a person would after `go list ./...`; build-matrix's own default is `.`.
      const mains = ctx.config['build-matrix']?.packages ? [] : await mainPackages(ctx.workspace);
      const packages = mains.length && !mains.includes('.') ? mains.join('\n') : '';
      if (packages) ctx.line(`main packages: ${mains.join(', ')}`);
      const tag = ctx.outputsOf('tag');
      const release: Record<string, string> =
        releasing(ctx) && tag.tag ? { release: tag.tag, 'github-token': ctx.secrets.githubToken ?? '' } : {};
      return asStep(await ctx.action('build-matrix', { version: ctx.version, packages, ...release }));
    },
    describe: (o) =>
      `${(JSON.parse(o.artifacts || '[]') as unknown[]).length} archives, ${o['checksums-file']?.split('/').pop() ?? ''}`,
  },
  image: {
    events: PUSH,
    skipWhy: (ctx) =>
      ctx.config['docker-multistage']?.image ? undefined : 'no `docker-multistage.image` in .go-ship.yml',
    run: async (ctx) =>
      asStep(
        await ctx.action('docker-multistage', {
          version: ctx.version,
          username: ctx.secrets.registryUsername ?? '',
          password: ctx.secrets.registryPassword ?? '',
        }),
      ),
    describe: (o) => o.image ?? '',
  },
  deploy: {
    events: PUSH,
    skipWhy: (ctx) =>
      ctx.environments.length && !environmentForRef(ctx.environments, ctx.ref)
        ? `no environment is deployed by ${ctx.ref.replace(/^refs\/(heads|tags)\//, '') || 'this checkout'} (${describeRules(ctx.environments)})`
        : !ctx.config['deploy-bluegreen'] && !ctx.environments.length
          ? 'no `deploy-bluegreen` section in .go-ship.yml'
          : toServers(ctx)
            ? builtDir(ctx)
              ? undefined
              : 'no binaries were built for the servers'
            : !ctx.outputsOf('image').image
              ? 'no image was pushed'
              : undefined,
    // Servers get the build stage's binaries (build-matrix's output-dir); the others the image. With
    // environments, the one the push selects, under its name and with its own inputs.
    run: async (ctx) => {
      const env = environmentForRef(ctx.environments, ctx.ref);
      if (env) ctx.line(`environment ${env.name} (${describeRules([env])})`);
      return asStep(
        await ctx.action('deploy-bluegreen', {
          ...(env ? environmentInputs(env, ctx.secrets) : {}),
          ...(toServers(ctx)
            ? { from: builtDir(ctx)!, 'ssh-key': ctx.secrets.sshKey ?? '' }
            : { image: ctx.outputsOf('image').image, kubeconfig: ctx.secrets.kubeconfig ?? '' }),
          version: ctx.version,
          notify: ctx.secrets.notify ?? '',
        }),
      );
    },
    describe: (o) => `${o['live-color']} live at ${o.url} (${o.outcome})`,
  },
};

/** The deploy goes to servers (`target: hosts`), which run the binaries, not an image. */
function toServers(ctx: StageContext): boolean {
  const env = environmentForRef(ctx.environments, ctx.ref);
  return (env?.deploy.target ?? ctx.config['deploy-bluegreen']?.target) === 'hosts';
}

/** Where the build stage left its binaries and manifest.json: the folder of its checksums file or archives. */
function builtDir(ctx: StageContext): string | undefined {
  const out = ctx.outputsOf('build');
  const first =
    out['checksums-file'] || (JSON.parse(out.artifacts || '[]') as { path?: string }[])[0]?.path || '';
  return first ? dirname(first) : undefined;
}

/** `.go-ship.yml` asks semver-tag for a GitHub Release (`create-release: true` or `draft`). */
function releasing(ctx: StageContext): boolean {
  const wanted = String(ctx.config['semver-tag']?.['create-release'] ?? 'false');
  return wanted === 'true' || wanted === 'draft';
}
