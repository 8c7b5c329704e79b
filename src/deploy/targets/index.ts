import { inputError } from '../../runner/errors.js';
import type { Inputs } from '../../runner/inputs.js';
import { docker } from './docker/index.js';
import { hosts } from './hosts/index.js';
import { kubernetes } from './kubernetes/index.js';
import type { TargetPlugin } from './plugin.js';

export { APP_INPUTS } from './plugin.js';

/** Every deploy target, by the `target` input's value: one line each. */
export const TARGETS: readonly TargetPlugin[] = [docker, kubernetes, hosts];

/**
 * The target the `target` input names. Inputs that only other targets read are refused by name
 * when they are set to anything but action.yml's default: `nginx-conf` with `target: kubernetes`
 * would otherwise be silently ignored.
 */
export function chooseTarget(inputs: Inputs): TargetPlugin {
  const name = inputs.oneOf(
    'target',
    TARGETS.map((t) => t.name),
    { required: true },
  );
  const chosen = TARGETS.find((t) => t.name === name)!;
  for (const other of TARGETS)
    for (const input of other.inputs)
      if (!chosen.inputs.includes(input) && inputs.isSet(input)) {
        const owners = TARGETS.filter((t) => t.inputs.includes(input)).map((t) => `\`${t.name}\``);
        const who =
          owners.length > 1 ? `targets ${owners.join(' and ')} read it` : `target ${owners[0]} reads it`;
        throw inputError(
          input,
          inputs.string(input),
          `nothing with target: ${chosen.name}; only ${who}`,
          `Remove it, or set target to ${owners.join(' or ')}.`,
        );
      }
  return chosen;
}
