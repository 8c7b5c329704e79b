import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { isSecretInput, readActionMetadata, type ActionMetadata } from './action-metadata.js';
import { UserError } from './errors.js';
import { Inputs } from './inputs.js';
import { suggest } from './suggest.js';

/**
 * `.go-ship.yml` in the user's repository: one optional file whose sections hold the defaults of
 * every action (`build-matrix: {targets: ...}`). Inputs given in the workflow (or `--with`) win.
 */
export { findProjectConfig, PROJECT_CONFIG_FILES } from './project-file.js';

export type ProjectConfig = Record<string, Record<string, string>>;

/** Every action of this go-ship: the folders of `root` that hold an action.yml. */
export function actionsIn(root: string): Record<string, ActionMetadata> {
  const out: Record<string, ActionMetadata> = {};
  for (const d of readdirSync(root).sort())
    if (existsSync(join(root, d, 'action.yml'))) out[d] = readActionMetadata(join(root, d, 'action.yml'));
  return out;
}

/**
 * Reads and checks the file against the actions' inputs: an unknown section or input, or a value
 * that is not a string, number, boolean, list or (for KEY=value inputs) mapping, is an error that
 * names the file, the key and what would fit. Values come back as the strings a runner would pass.
 */
export function readProjectConfig(file: string, actions: Record<string, ActionMetadata>): ProjectConfig {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new UserError(
      `${file} must be a mapping of action names to their inputs (e.g. \`build-matrix: {targets: linux/amd64}\`).`,
    );
  const out: ProjectConfig = {};
  for (const [section, body] of Object.entries(doc as Record<string, unknown>)) {
    if (section === '$schema') continue;
    const meta = actions[section];
    if (!meta) {
      const near = suggest(section, Object.keys(actions), 1)[0];
      throw new UserError(
        `${file}: unknown section \`${section}\`.${near ? ` Did you mean \`${near}\`?` : ''} Sections are action names: ${Object.keys(actions).join(', ')}.`,
      );
    }
    if (body === null || body === undefined) continue;
    if (typeof body !== 'object' || Array.isArray(body))
      throw new UserError(`${file}: \`${section}\` must be a mapping of its inputs to values.`);
    out[section] = {};
    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      if (!(key in meta.inputs)) {
        const near = suggest(key, Object.keys(meta.inputs), 1)[0];
        throw new UserError(
          `${file}: \`${section}\` has no input \`${key}\`.${near ? ` Did you mean \`${near}\`?` : ''} Its inputs: ${Object.keys(meta.inputs).join(', ')}.`,
        );
      }
      if (isSecretInput(meta.inputs[key]))
        throw new UserError(
          `${file}: \`${section}.${key}\` holds a secret, and a committed file is readable by everyone who can read the repository. Remove it and pass it from the workflow's secrets as an input instead: \`with: ${ROOT_SECRET_INPUT[key] ?? key}: \${{ secrets.NAME }}\`${ROOT_SECRET_INPUT[key] ? ' on the root action (or the same input on the action itself)' : ''}.`,
        );
      out[section][key] = asInput(file, `${section}.${key}`, value);
    }
  }
  return out;
}

/** What the root action calls an action's secret inputs, where its name differs or it passes them on. */
const ROOT_SECRET_INPUT: Record<string, string> = {
  password: 'registry-password',
  'github-token': 'github-token',
  kubeconfig: 'kubeconfig',
  'ssh-key': 'ssh-key',
};

function asInput(file: string, where: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => ['string', 'number', 'boolean'].includes(typeof v)))
    return value.map(String).join('\n');
  if (value && typeof value === 'object' && !Array.isArray(value))
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join('\n');
  throw new UserError(
    `${file}: \`${where}\` got ${JSON.stringify(value)}; it accepts a string, number, boolean, a list of them, or a KEY: value mapping.`,
  );
}

/**
 * The values `.go-ship.yml` gives one action, as `INPUT_*` variables to put where the workflow left an
 * input empty or at its action.yml default. (The runner passes defaults like given values, so an
 * input set in `with:` to exactly its default is indistinguishable from an absent one; the file wins
 * then.) `given` names inputs known to be given (the CLI's `--with`): those always win.
 */
export function projectInputs(
  config: ProjectConfig,
  action: string,
  meta: ActionMetadata,
  env: NodeJS.ProcessEnv,
  given: ReadonlySet<string> = new Set(),
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config[action] ?? {})) {
    if (given.has(key)) continue;
    const name = Inputs.envName(key);
    const current = env[name];
    if (current === undefined || current === '' || current === (meta.inputs[key]?.default ?? ''))
      out[name] = value;
  }
  return out;
}

/** A JSON Schema (draft 2020-12) of `.go-ship.yml`, generated from the actions' inputs for editor completion. */
export function projectSchema(actions: Record<string, ActionMetadata>): Record<string, unknown> {
  const value = {
    anyOf: [
      { type: 'string' },
      { type: 'number' },
      { type: 'boolean' },
      { type: 'array', items: { type: ['string', 'number', 'boolean'] } },
      { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
    ],
  };
  const clean = (s?: string) => (s ?? '').trim().replace(/\s*\n\s*/g, ' ');
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'go-ship.schema.json',
    title: '.go-ship.yml',
    description: 'Defaults for every go-ship action; inputs given in the workflow win.',
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(
      Object.entries(actions).map(([name, meta]) => [
        name,
        {
          description: clean(meta.description),
          type: 'object',
          additionalProperties: false,
          properties: Object.fromEntries(
            Object.entries(meta.inputs)
              .filter(([, spec]) => !isSecretInput(spec))
              .map(([input, spec]) => [
                input,
                {
                  description: clean(spec.description) + (spec.default ? ` (default: ${spec.default})` : ''),
                  ...value,
                },
              ]),
          ),
        },
      ]),
    ),
  };
}
