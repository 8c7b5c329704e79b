import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { githubContext, runLocalAction, type StepPhase } from '../host/local-runner.js';
import {
  actionsIn,
  findProjectConfig,
  readEnvironments,
  readProjectConfig,
  type ProjectConfig,
} from '../runner/project-config.js';
import { passedNames } from '../runner/child-env.js';
import { inputError, UserError } from '../runner/errors.js';
import type { Inputs } from '../runner/inputs.js';
import {
  STAGE_RECORDS,
  STAGES,
  type PipelineEvent,
  type PipelineSecrets,
  type Stage,
  type StageContext,
  type StageRecord,
} from './stages.js';

export interface StageResult {
  /** A name from STAGES, or an extra stage's (`PipelineOptions.stages`). */
  stage: string;
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
  onLine?: (line: string, stage: string, phase: StepPhase | 'run') => void;
  onStage?: (stage: string, state: 'start' | StageResult) => void;
  /** Variables the tests may see besides childEnv's allow-list (`test-env`). */
  passEnv?: string[];
  /** The stages in order; default every stage in STAGES with its record. Tests add example stages here. */
  stages?: readonly (readonly [string, StageRecord])[];
}

function parseStages(input: string, what: string): Set<Stage> {
  const out = new Set<Stage>();
  for (const s of input.split(/[\s,]+/).filter(Boolean)) {
    if (!(STAGES as readonly string[]).includes(s))
      throw new UserError(`${what} got \`${s}\`; it accepts stages ${STAGES.join(', ')}.`);
    out.add(s as Stage);
  }
  return out;
}

/** The inputs `pipelineRequest` reads: the root action's and `go-ship pipeline --with`'s. */
export const PIPELINE_INPUTS = ['event', 'skip', 'working-directory', 'test-env'];

/**
 * The inputs the root action and `go-ship pipeline` share, read the same way for both: `event`
 * (default: `defaultEvent`), `skip`, `working-directory` (relative to `base`).
 */
export function pipelineRequest(
  inputs: Inputs,
  base: string,
  defaultEvent: PipelineEvent,
): { workspace: string; event: PipelineEvent; skip: Set<Stage>; passEnv: string[] } {
  const given = inputs.optional('event');
  if (given && given !== 'push' && given !== 'pull_request')
    throw inputError(
      'event',
      given,
      '`push` or `pull_request`',
      'Leave it empty to follow the workflow event.',
    );
  return {
    workspace: inputs.workingDirectory({ GITHUB_WORKSPACE: base }),
    event: (given as PipelineEvent | undefined) ?? defaultEvent,
    skip: parseStages(inputs.string('skip'), 'Input `skip`'),
    passEnv: passedNames('test-env', inputs.list('test-env'), 'DATABASE_URL'),
  };
}

/**
 * Runs the stages for the event in order, each through the same action bundles a workflow would use
 * (via the local runner, so inputs, outputs and exported env behave as on GitHub). A stage that fails
 * stops the pipeline; what each stage does and when it is skipped is its record in stages.ts.
 */
export async function runPipeline(opts: PipelineOptions): Promise<StageResult[]> {
  const file = findProjectConfig(opts.workspace);
  const config: ProjectConfig = file ? readProjectConfig(file, actionsIn(opts.root)) : {};
  const environments = file ? readEnvironments(file, actionsIn(opts.root)) : [];
  const ref = opts.env?.GITHUB_REF ?? githubContext(opts.workspace).GITHUB_REF;
  const results: StageResult[] = [];
  // The module's directory is every stage's workspace, also when the workflow's context comes along.
  let env: Record<string, string> = { ...(opts.env ?? {}), GITHUB_WORKSPACE: opts.workspace };
  let pathAdds: string[] = [];
  // What earlier stages exported (setup-go-cross's Go on PATH, its GOTOOLCHAIN) reaches later ones.
  const stageEnv = () => ({
    ...env,
    PATH: [...pathAdds, env.PATH ?? process.env.PATH ?? ''].join(delimiter),
  });
  const outputsOf = (s: string) => results.find((r) => r.stage === s)?.outputs ?? {};
  // Files one stage leaves for a later one (the test results coverage-gate shows); each step's own
  // RUNNER_TEMP goes when its step ends.
  const temp = mkdtempSync(join(process.env.RUNNER_TEMP ?? tmpdir(), 'go-ship-pipeline-'));
  try {
    return await runStages();
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }

  async function runStages(): Promise<StageResult[]> {
    for (const [stage, record] of opts.stages ?? STAGES.map((s) => [s, STAGE_RECORDS[s]] as const)) {
      const started = Date.now();
      const ctx: StageContext = {
        workspace: opts.workspace,
        config,
        environments,
        ref,
        secrets: opts.secrets ?? {},
        version: outputsOf('tag').version ?? '',
        outputsOf,
        env: stageEnv,
        passEnv: opts.passEnv ?? [],
        temp,
        line: (text, phase = 'run') => opts.onLine?.(text, stage, phase),
        action: async (name, withs) => {
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
        },
      };
      const skipped = !record.events.includes(opts.event)
        ? `not on ${opts.event === 'pull_request' ? 'pull requests' : 'this event'}`
        : opts.skip.has(stage as Stage)
          ? 'turned off'
          : results.some((r) => r.status === 'failed')
            ? 'an earlier stage failed'
            : await record.skipWhy?.(ctx);
      let result: StageResult;
      if (skipped) result = { stage, status: 'skipped', detail: skipped, outputs: {}, summary: '', ms: 0 };
      else {
        opts.onStage?.(stage, 'start');
        const r = await record.run(ctx);
        result = {
          stage,
          status: r.passed ? 'passed' : 'failed',
          detail: r.passed ? record.describe(r.outputs) : (r.failure ?? 'failed'),
          outputs: r.outputs,
          summary: r.summary,
          ms: Date.now() - started,
        };
      }
      results.push(result);
      opts.onStage?.(stage, result);
    }
    return results;
  }
}
