import { join } from 'node:path';
import { readActionMetadata } from '../../src/runner/action-metadata.js';
import { Inputs } from '../../src/runner/inputs.js';
import { ROOT } from './cli.js';

/**
 * An action's inputs as the runner passes them: action.yml's defaults, then `with:`, as INPUT_*
 * variables beside `env`. Returns the Inputs and the environment, for `getInputs(inputs, env)`.
 */
export function actionInputs(
  action: string,
  withs: Record<string, string>,
  env: Record<string, string> = {},
): { inputs: Inputs; env: Record<string, string> } {
  const all: Record<string, string> = { ...env };
  const defaults: Record<string, string> = {};
  for (const [name, spec] of Object.entries(readActionMetadata(join(ROOT, action, 'action.yml')).inputs))
    if (spec.default !== undefined) all[Inputs.envName(name)] = defaults[name] = String(spec.default);
  for (const [k, v] of Object.entries(withs)) all[Inputs.envName(k)] = v;
  return { inputs: new Inputs(all, defaults), env: all };
}
