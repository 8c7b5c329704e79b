import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { UserError } from './errors.js';

export interface InputSpec {
  description?: string;
  required?: boolean;
  default?: string;
  deprecationMessage?: string;
}

export interface ActionMetadata {
  name: string;
  description?: string;
  inputs: Record<string, InputSpec>;
  outputs: Record<string, { description?: string }>;
  runs: { using: string; main: string; pre?: string; post?: string; 'post-if'?: string };
}

/**
 * Whether an input holds a secret. action.yml is the one place that says so: the description starts
 * with `Secret.` (the runner's schema has no key for it, and the README shows it). `.go-ship.yml`
 * refuses every such input, and the schema leaves them out.
 */
export const isSecretInput = (spec: InputSpec | undefined): boolean =>
  /^Secret\./.test(spec?.description?.trim() ?? '');

/** Reads an action.yml the way the runner does: defaults are strings, inputs and outputs optional. */
export function readActionMetadata(file: string): ActionMetadata {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`Cannot read action metadata ${file}: ${(e as Error).message}`);
  }
  const meta = doc as Partial<ActionMetadata> | null;
  if (!meta || typeof meta !== 'object' || !meta.runs || typeof meta.runs.main !== 'string') {
    throw new UserError(`${file} is not a JavaScript action: it needs \`runs.using\` and \`runs.main\`.`);
  }
  const inputs: Record<string, InputSpec> = {};
  for (const [name, spec] of Object.entries(meta.inputs ?? {})) {
    const s = (spec ?? {}) as InputSpec;
    inputs[name] = {
      ...s,
      default: s.default === undefined || s.default === null ? undefined : String(s.default),
    };
  }
  return {
    name: meta.name ?? file,
    description: meta.description,
    inputs,
    outputs: meta.outputs ?? {},
    runs: meta.runs,
  };
}
