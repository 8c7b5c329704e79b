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
    if (section === '$schema' || section === ENVIRONMENTS) continue; // environments: readEnvironments
    const inputs = readSection(file, section, body, actions);
    if (inputs) out[section] = inputs;
  }
  return out;
}

/** One action's section: its inputs as strings, each checked against its action.yml. */
function readSection(
  file: string,
  section: string,
  body: unknown,
  actions: Record<string, ActionMetadata>,
  where = section,
): Record<string, string> | undefined {
  const meta = actions[section];
  if (!meta) {
    const near = suggest(section, Object.keys(actions), 1)[0];
    throw new UserError(
      `${file}: unknown section \`${section}\`.${near ? ` Did you mean \`${near}\`?` : ''} Sections are action names: ${Object.keys(actions).join(', ')}, and \`${ENVIRONMENTS}\`.`,
    );
  }
  if (body === null || body === undefined) return undefined;
  if (typeof body !== 'object' || Array.isArray(body))
    throw new UserError(`${file}: \`${where}\` must be a mapping of its inputs to values.`);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (!(key in meta.inputs)) {
      const near = suggest(key, Object.keys(meta.inputs), 1)[0];
      throw new UserError(
        `${file}: \`${where}\` has no input \`${key}\`.${near ? ` Did you mean \`${near}\`?` : ''} Its inputs: ${Object.keys(meta.inputs).join(', ')}.`,
      );
    }
    if (isSecretInput(meta.inputs[key]))
      throw new UserError(
        `${file}: \`${where}.${key}\` holds a secret, and a committed file is readable by everyone who can read the repository. Remove it and pass it from the workflow's secrets as an input instead: \`with: ${ROOT_SECRET_INPUT[key] ?? key}: \${{ secrets.NAME }}\`${ROOT_SECRET_INPUT[key] ? ' on the root action (or the same input on the action itself)' : ''}.`,
      );
    out[key] = asInput(file, `${where}.${key}`, value);
  }
  return out;
}

const ENVIRONMENTS = 'environments';

/**
 * What the file gives one action: its section, and for deploy-bluegreen with `environment` set to
 * one of the file's environments, that environment's own inputs over the section (so a workflow step
 * with `environment: production` deploys with production's settings).
 */
export function projectSection(
  file: string,
  actions: Record<string, ActionMetadata>,
  action: string,
  environment?: string,
): Record<string, string> {
  const section = readProjectConfig(file, actions)[action] ?? {};
  if (action !== 'deploy-bluegreen' || !environment) return section;
  const env = readEnvironments(file, actions).find((e) => e.name === environment);
  return env ? { ...section, ...env.deploy } : section;
}

/**
 * A named place the app runs (`staging`, `production`): its own deploy-bluegreen inputs over the
 * shared `deploy-bluegreen` section, and the one rule that deploys it: pushes to some branches or
 * tags, or promotion of what another environment runs (then nothing else reaches it).
 */
export interface Environment {
  name: string;
  /** Pushes to these branches deploy it (globs: `release/*`). */
  branches: string[];
  /** Pushed tags matching these globs deploy it (`v*`). */
  tags: string[];
  /** It only takes promotions of what this environment runs, live and healthy. */
  from?: string;
  /** Its deploy-bluegreen inputs, over the shared section. */
  deploy: Record<string, string>;
}

/**
 * `.go-ship.yml`'s `environments`: each name with `branch`, `tags` or `from`, and its
 * `deploy-bluegreen` inputs. Checked as a whole: a rule missing or mixed with `from`, a `from` that
 * names no environment or goes round in a circle, an unknown key, are errors naming the key.
 */
export function readEnvironments(file: string, actions: Record<string, ActionMetadata>): Environment[] {
  const doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown> | null;
  const body = doc && typeof doc === 'object' ? doc[ENVIRONMENTS] : undefined;
  if (body === undefined || body === null) return [];
  if (typeof body !== 'object' || Array.isArray(body))
    throw new UserError(
      `${file}: \`${ENVIRONMENTS}\` must be a mapping of environment names to their settings, e.g. \`staging: {branch: develop, deploy-bluegreen: {...}}\`.`,
    );
  const list = (v: unknown, where: string): string[] => {
    if (v === undefined || v === null) return [];
    const items = Array.isArray(v) ? v : [v];
    if (!items.every((x) => typeof x === 'string' && x.trim()))
      throw new UserError(
        `${file}: \`${where}\` got ${JSON.stringify(v)}; it accepts a name or a list of names (globs allowed).`,
      );
    return (items as string[]).map((x) => x.trim());
  };
  const out: Environment[] = [];
  for (const [name, raw] of Object.entries(body as Record<string, unknown>)) {
    const where = `${ENVIRONMENTS}.${name}`;
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name))
      throw new UserError(
        `${file}: environment name \`${name}\` must be letters, digits, \`.\`, \`_\` or \`-\` (as GitHub's environment names).`,
      );
    if (!raw || typeof raw !== 'object' || Array.isArray(raw))
      throw new UserError(
        `${file}: \`${where}\` must be a mapping with \`branch\`, \`tags\` or \`from\`, and \`deploy-bluegreen\`.`,
      );
    const e = raw as Record<string, unknown>;
    for (const key of Object.keys(e))
      if (!['branch', 'tags', 'from', 'deploy-bluegreen'].includes(key))
        throw new UserError(
          `${file}: \`${where}\` has no setting \`${key}\`; it has \`branch\`, \`tags\`, \`from\` and \`deploy-bluegreen\`.`,
        );
    const env: Environment = {
      name,
      branches: list(e.branch, `${where}.branch`),
      tags: list(e.tags, `${where}.tags`),
      from: e.from === undefined ? undefined : list(e.from, `${where}.from`)[0],
      deploy:
        readSection(file, 'deploy-bluegreen', e['deploy-bluegreen'], actions, `${where}.deploy-bluegreen`) ??
        {},
    };
    if (env.from && (env.branches.length || env.tags.length))
      throw new UserError(
        `${file}: \`${where}\` has \`from: ${env.from}\` and a branch or tag rule; an environment fed by promotion takes nothing else, so that nothing reaches it that did not pass ${env.from}. Keep one.`,
      );
    if (!env.from && !env.branches.length && !env.tags.length)
      throw new UserError(
        `${file}: \`${where}\` needs a rule: \`branch\` (pushes to it deploy here), \`tags\`, or \`from\` (promotion from another environment).`,
      );
    for (const key of ['environment', 'action', 'image', 'from'])
      if (key in env.deploy)
        throw new UserError(
          `${file}: \`${where}.deploy-bluegreen.${key}\` is set by go-ship for each deploy (the environment's name, what was built or promoted); remove it.`,
        );
    out.push(env);
  }
  for (const env of out) {
    const seen = [env.name];
    for (let cur = env; cur.from;) {
      const next = out.find((x) => x.name === cur.from);
      if (!next)
        throw new UserError(
          `${file}: \`${ENVIRONMENTS}.${cur.name}.from\` names \`${cur.from}\`, which is not an environment here (${out.map((x) => x.name).join(', ')}).`,
        );
      if (seen.includes(next.name))
        throw new UserError(
          `${file}: environments promote round in a circle (${[...seen, next.name].join(' → ')}); one of them needs a branch or tag rule.`,
        );
      seen.push(next.name);
      cur = next;
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
  const section = (meta: ActionMetadata) => ({
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
  });
  const names = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };
  const environments = {
    description:
      'Named environments: each deployed by pushes to `branch` or `tags`, or by promotion `from` another, with its own deploy-bluegreen inputs.',
    type: 'object',
    propertyNames: { pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$' },
    additionalProperties: {
      type: 'object',
      additionalProperties: false,
      properties: {
        branch: { description: 'Pushes to these branches deploy this environment (globs).', ...names },
        tags: { description: 'Pushed tags matching these globs deploy this environment.', ...names },
        from: {
          description: 'Only promotions of what this environment runs, live and healthy, reach it.',
          type: 'string',
        },
        ...(actions['deploy-bluegreen'] ? { 'deploy-bluegreen': section(actions['deploy-bluegreen']) } : {}),
      },
    },
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'go-ship.schema.json',
    title: '.go-ship.yml',
    description: 'Defaults for every go-ship action; inputs given in the workflow win.',
    type: 'object',
    additionalProperties: false,
    properties: {
      ...Object.fromEntries(Object.entries(actions).map(([name, meta]) => [name, section(meta)])),
      environments,
    },
  };
}
