import type { Inputs } from '../../runner/inputs.js';
import type { DeployConfig } from '../engine.js';
import type { Fleet } from '../fleet.js';
import type { Target } from '../target.js';

/** Inputs every target reads: how the app itself runs, wherever that is. */
export const APP_INPUTS: readonly string[] = ['container-port', 'env', 'args'];

/** What every target is built from besides its own inputs. */
export interface TargetContext {
  app: string;
  /** Where relative paths in inputs point (GITHUB_WORKSPACE, else the current directory). */
  workspace: string;
  config: DeployConfig;
  env: NodeJS.ProcessEnv;
}

/**
 * A deploy target as the action sees it: its name (the `target` input), the inputs only it reads,
 * and how it is built from them. Adding a target is a folder under `src/deploy/targets/` holding
 * this, the `Target` it builds, and one line in `targets/index.ts`.
 */
export interface TargetPlugin {
  name: string;
  /**
   * The inputs this target reads beyond the shared ones (deploy-bluegreen's own `inputs.ts`).
   * Given with another target they are refused by name, never silently ignored.
   */
  inputs: readonly string[];
  /** Whether `image` may be left out of a deploy (a Helm chart names its own). */
  imageOptional?(inputs: Inputs): boolean;
  /**
   * Checks what can be checked without touching anything, then returns how to build the target
   * (which may read a kubeconfig, render a chart or call an API): one target, or a fleet of them
   * that the engine rolls out in batches.
   */
  configure(inputs: Inputs, ctx: TargetContext): () => Promise<Target | Fleet>;
}
