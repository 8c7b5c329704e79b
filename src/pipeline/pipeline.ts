import { delimiter, join } from 'node:path';
import { mainPackages } from '../crossbuild/build.js';
import { runCommand } from '../runner/command.js';
import { runLocalAction, type LocalRunResult, type StepPhase } from '../host/local-runner.js';
import {
  actionsIn,
  findProjectConfig,
  readProjectConfig,
  type ProjectConfig,
} from '../runner/project-config.js';
import { UserError } from '../runner/errors.js';

/** The pipeline's stages in order; each runs one go-ship action (or `go test`) with the same bundles. */
export const STAGES = ['setup', 'test', 'coverage', 'tag', 'build', 'image', 'deploy'] as const;
export type Stage = (typeof STAGES)[number];
export type PipelineEvent = 'pull_request' | 'push';

export interface StageResult {
  stage: Stage;
  status: 'passed' | 'failed' | 'skipped';
  /** Why a stage was skipped or failed, or what it produced. */
  detail: string;
  outputs: Record<string, string>;
  /** The stage's job summary (Markdown), when its action wrote one. */
  summary: string;
  ms: number;
}

export interface PipelineOptions {
  /** The go-ship checkout (the folders with action.yml and dist/). */
  root: string;
  workspace: string;
  event: PipelineEvent;
  skip: Set<Stage>;
  /** Environment for every stage (e.g. GITHUB_TOKEN); stages add what earlier ones exported. */
  env?: Record<string, string>;
  node?: string;
  /** Secrets the root action takes as inputs (never from .go-ship.yml), handed to the stages that use them. */
  secrets?: PipelineSecrets;
  onLine?: (line: string, stage: Stage, phase: StepPhase | 'run') => void;
  onStage?: (stage: Stage, state: 'start' | StageResult) => void;
}

export interface PipelineSecrets {
  githubToken?: string;
  registryUsername?: string;
  registryPassword?: string;
  kubeconfig?: string;
}

/** Which stages an event runs: a pull request is checked and built; a push also releases. */
export function stagesFor(event: PipelineEvent): Stage[] {
  return event === 'pull_request' ? ['setup', 'test', 'coverage', 'build'] : [...STAGES];
}

export function parseStages(input: string, what: string): Set<Stage> {
  const out = new Set<Stage>();
  for (const s of input.split(/[\s,]+/).filter(Boolean)) {
    if (!(STAGES as readonly string[]).includes(s))
      throw new UserError(`${what} got \`${s}\`; it accepts stages ${STAGES.join(', ')}.`);
    out.add(s as Stage);
  }
  return out;
}

/**
 * Runs the stages for the event, each through the same action bundles a workflow would use (via the
 * local runner, so inputs, outputs and exported env behave as on GitHub). A stage that fails stops
 * the pipeline; image and deploy run only when `.go-ship.yml` configures them.
 */
export async function runPipeline(opts: PipelineOptions): Promise<StageResult[]> {
  const file = findProjectConfig(opts.workspace);
  const config: ProjectConfig = file ? readProjectConfig(file, actionsIn(opts.root)) : {};
  const wanted = stagesFor(opts.event);
  const results: StageResult[] = [];
  // The module's directory is every stage's workspace, also when the workflow's context comes along.
  let env: Record<string, string> = { ...(opts.env ?? {}), GITHUB_WORKSPACE: opts.workspace };
  let pathAdds: string[] = [];
  let failed = false;
  // What earlier stages exported (setup-go-cross's Go on PATH, its GOTOOLCHAIN) reaches later ones.
  const stageEnv = () => ({
    ...env,
    PATH: [...pathAdds, env.PATH ?? process.env.PATH ?? ''].join(delimiter),
  });
  const outputsOf = (s: Stage) => results.find((r) => r.stage === s)?.outputs ?? {};

  const action = async (
    stage: Stage,
    name: string,
    withs: Record<string, string>,
  ): Promise<LocalRunResult> => {
    const r = await runLocalAction({
      actionDir: join(opts.root, name),
      with: Object.fromEntries(Object.entries(withs).filter(([, v]) => v !== '')),
      env: stageEnv(),
      workspace: opts.workspace,
      node: opts.node,
      onLine: (line, phase) => opts.onLine?.(line, stage, phase),
    });
    env = { ...env, ...r.exportedEnv };
    pathAdds = [...r.addedPath, ...pathAdds];
    return r;
  };

  for (const stage of STAGES) {
    const started = Date.now();
    let summary = '';
    const done = (status: StageResult['status'], detail: string, outputs: Record<string, string> = {}) => {
      const r = { stage, status, detail, outputs, summary, ms: Date.now() - started };
      results.push(r);
      opts.onStage?.(stage, r);
    };
    if (!wanted.includes(stage)) {
      done('skipped', `not on ${opts.event === 'pull_request' ? 'pull requests' : 'this event'}`);
      continue;
    }
    if (opts.skip.has(stage)) {
      done('skipped', 'turned off');
      continue;
    }
    if (failed) {
      done('skipped', 'an earlier stage failed');
      continue;
    }
    opts.onStage?.(stage, 'start');
    const version = outputsOf('tag').version ?? '';
    let r: LocalRunResult | undefined;
    switch (stage) {
      case 'setup':
        r = await action(stage, 'setup-go-cross', {});
        break;
      case 'test': {
        const t = await runCommand(
          'go',
          ['test', '-covermode=atomic', '-coverprofile=coverage.out', './...'],
          {
            cwd: opts.workspace,
            env: stageEnv(),
            check: false,
          },
        );
        for (const line of (t.stdout + t.stderr).split('\n').filter(Boolean))
          opts.onLine?.(line, stage, 'run');
        if (t.code === 0) done('passed', 'go test -coverprofile=coverage.out ./...');
        else {
          failed = true;
          done('failed', `go test exited with code ${t.code}`);
        }
        continue;
      }
      case 'coverage':
        r = await action(stage, 'coverage-gate', { profiles: 'coverage.out', comment: 'false' });
        break;
      case 'tag':
        r = await action(stage, 'semver-tag', { 'github-token': opts.secrets?.githubToken ?? '' });
        break;
      case 'build': {
        // Without `packages` in .go-ship.yml, build the module's main packages (`cmd/app` included),
        // as a person would after `go list ./...`; build-matrix's own default is `.`.
        const mains = config['build-matrix']?.packages ? [] : await mainPackages(opts.workspace);
        const packages = mains.length && !mains.includes('.') ? mains.join('\n') : '';
        if (packages) opts.onLine?.(`main packages: ${mains.join(', ')}`, stage, 'run');
        r = await action(stage, 'build-matrix', { version, packages });
        break;
      }
      case 'image':
        if (!config['docker-multistage']?.image) {
          done('skipped', 'no `docker-multistage.image` in .go-ship.yml');
          continue;
        }
        r = await action(stage, 'docker-multistage', {
          version,
          username: opts.secrets?.registryUsername ?? '',
          password: opts.secrets?.registryPassword ?? '',
        });
        break;
      case 'deploy':
        if (!config['deploy-bluegreen']) {
          done('skipped', 'no `deploy-bluegreen` section in .go-ship.yml');
          continue;
        }
        if (!outputsOf('image').image) {
          done('skipped', 'no image was pushed');
          continue;
        }
        r = await action(stage, 'deploy-bluegreen', {
          image: outputsOf('image').image,
          version,
          kubeconfig: opts.secrets?.kubeconfig ?? '',
        });
        break;
    }
    summary = r!.summary;
    if (r!.exitCode === 0) done('passed', summaryOf(stage, r!.outputs), r!.outputs);
    else {
      failed = true;
      done('failed', `exit code ${r!.exitCode}`, r!.outputs);
    }
  }
  return results;
}

function summaryOf(stage: Stage, o: Record<string, string>): string {
  switch (stage) {
    case 'setup':
      return `Go ${o['go-version'] ?? '?'}`;
    case 'coverage':
      return `${o['total-func'] ?? '?'}% of statements in functions${o['excluded-files'] && o['excluded-files'] !== '0' ? ` after excluding ${o['excluded-files']} file(s); go tool cover -func: ${o['go-tool-cover-func']}%` : ' (go tool cover -func)'}, gate passed`;
    case 'tag':
      return o.tag ? `${o.tag}${o.created === 'true' ? ' created' : ''}` : 'no release';
    case 'build':
      return `${(JSON.parse(o.artifacts || '[]') as unknown[]).length} archives, ${o['checksums-file']?.split('/').pop() ?? ''}`;
    case 'image':
      return o.image ?? '';
    case 'deploy':
      return `${o['live-color']} live at ${o.url} (${o.outcome})`;
    default:
      return '';
  }
}
