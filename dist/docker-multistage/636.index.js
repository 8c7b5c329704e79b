export const id = 636;
export const ids = [636];
export const modules = {

/***/ 8636:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  actionsIn: () => (/* binding */ actionsIn),
  projectInputs: () => (/* binding */ projectInputs),
  projectSection: () => (/* binding */ projectSection)
});

// UNUSED EXPORTS: PROJECT_CONFIG_FILES, findProjectConfig, projectSchema, readEnvironments, readProjectConfig

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
// EXTERNAL MODULE: ./node_modules/yaml/dist/index.js
var dist = __webpack_require__(8815);
// EXTERNAL MODULE: ./src/runner/errors.ts
var errors = __webpack_require__(5507);
;// CONCATENATED MODULE: ./src/runner/action-metadata.ts



/**
 * Whether an input holds a secret. action.yml is the one place that says so: the description starts
 * with `Secret.` (the runner's schema has no key for it, and the README shows it). `.go-ship.yml`
 * refuses every such input, and the schema leaves them out.
 */
const action_metadata_isSecretInput = (spec) => /^Secret\./.test(spec?.description?.trim() ?? '');
/** Reads an action.yml the way the runner does: defaults are strings, inputs and outputs optional. */
function readActionMetadata(file) {
    let doc;
    try {
        doc = (0,dist/* parse */.qg)((0,external_node_fs_.readFileSync)(file, 'utf8'));
    }
    catch (e) {
        throw new errors/* UserError */.y(`Cannot read action metadata ${file}: ${e.message}`);
    }
    const meta = doc;
    if (!meta || typeof meta !== 'object' || !meta.runs || typeof meta.runs.main !== 'string') {
        throw new errors/* UserError */.y(`${file} is not a JavaScript action: it needs \`runs.using\` and \`runs.main\`.`);
    }
    const inputs = {};
    for (const [name, spec] of Object.entries(meta.inputs ?? {})) {
        const s = (spec ?? {});
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

// EXTERNAL MODULE: ./src/runner/inputs.ts
var inputs = __webpack_require__(9205);
// EXTERNAL MODULE: ./src/runner/suggest.ts
var suggest = __webpack_require__(8848);
// EXTERNAL MODULE: ./src/runner/project-file.ts
var project_file = __webpack_require__(2722);
;// CONCATENATED MODULE: ./src/runner/project-config.ts







/**
 * `.go-ship.yml` in the user's repository: one optional file whose sections hold the defaults of
 * every action (`build-matrix: {targets: ...}`). Inputs given in the workflow (or `--with`) win.
 */

/** Every action of this go-ship: the folders of `root` that hold an action.yml. */
function actionsIn(root) {
    const out = {};
    for (const d of (0,external_node_fs_.readdirSync)(root).sort())
        if ((0,external_node_fs_.existsSync)((0,external_node_path_.join)(root, d, 'action.yml')))
            out[d] = readActionMetadata((0,external_node_path_.join)(root, d, 'action.yml'));
    return out;
}
/**
 * Reads and checks the file against the actions' inputs: an unknown section or input, or a value
 * that is not a string, number, boolean, list or (for KEY=value inputs) mapping, is an error that
 * names the file, the key and what would fit. Values come back as the strings a runner would pass.
 */
function readProjectConfig(file, actions) {
    let doc;
    try {
        doc = (0,dist/* parse */.qg)((0,external_node_fs_.readFileSync)(file, 'utf8'));
    }
    catch (e) {
        throw new errors/* UserError */.y(`${file} is not valid YAML: ${e.message.split('\n')[0]}`);
    }
    if (doc === null || doc === undefined)
        return {};
    if (typeof doc !== 'object' || Array.isArray(doc))
        throw new errors/* UserError */.y(`${file} must be a mapping of action names to their inputs (e.g. \`build-matrix: {targets: linux/amd64}\`).`);
    const out = {};
    for (const [section, body] of Object.entries(doc)) {
        if (section === '$schema' || section === ENVIRONMENTS)
            continue; // environments: readEnvironments
        const inputs = readSection(file, section, body, actions);
        if (inputs)
            out[section] = inputs;
    }
    return out;
}
/** One action's section: its inputs as strings, each checked against its action.yml. */
function readSection(file, section, body, actions, where = section) {
    const meta = actions[section];
    if (!meta) {
        const near = (0,suggest/* suggest */.Z)(section, Object.keys(actions), 1)[0];
        throw new errors/* UserError */.y(`${file}: unknown section \`${section}\`.${near ? ` Did you mean \`${near}\`?` : ''} Sections are action names: ${Object.keys(actions).join(', ')}, and \`${ENVIRONMENTS}\`.`);
    }
    if (body === null || body === undefined)
        return undefined;
    if (typeof body !== 'object' || Array.isArray(body))
        throw new errors/* UserError */.y(`${file}: \`${where}\` must be a mapping of its inputs to values.`);
    const out = {};
    for (const [key, value] of Object.entries(body)) {
        if (!(key in meta.inputs)) {
            const near = (0,suggest/* suggest */.Z)(key, Object.keys(meta.inputs), 1)[0];
            throw new errors/* UserError */.y(`${file}: \`${where}\` has no input \`${key}\`.${near ? ` Did you mean \`${near}\`?` : ''} Its inputs: ${Object.keys(meta.inputs).join(', ')}.`);
        }
        if (action_metadata_isSecretInput(meta.inputs[key]))
            throw new errors/* UserError */.y(`${file}: \`${where}.${key}\` holds a secret, and a committed file is readable by everyone who can read the repository. Remove it and pass it from the workflow's secrets as an input instead: \`with: ${ROOT_SECRET_INPUT[key] ?? key}: \${{ secrets.NAME }}\`${ROOT_SECRET_INPUT[key] ? ' on the root action (or the same input on the action itself)' : ''}.`);
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
function projectSection(file, actions, action, environment) {
    const section = readProjectConfig(file, actions)[action] ?? {};
    if (action !== 'deploy-bluegreen' || !environment)
        return section;
    const env = readEnvironments(file, actions).find((e) => e.name === environment);
    return env ? { ...section, ...env.deploy } : section;
}
/**
 * `.go-ship.yml`'s `environments`: each name with `branch`, `tags` or `from`, and its
 * `deploy-bluegreen` inputs. Checked as a whole: a rule missing or mixed with `from`, a `from` that
 * names no environment or goes round in a circle, an unknown key, are errors naming the key.
 */
function readEnvironments(file, actions) {
    const doc = (0,dist/* parse */.qg)((0,external_node_fs_.readFileSync)(file, 'utf8'));
    const body = doc && typeof doc === 'object' ? doc[ENVIRONMENTS] : undefined;
    if (body === undefined || body === null)
        return [];
    if (typeof body !== 'object' || Array.isArray(body))
        throw new errors/* UserError */.y(`${file}: \`${ENVIRONMENTS}\` must be a mapping of environment names to their settings, e.g. \`staging: {branch: develop, deploy-bluegreen: {...}}\`.`);
    const list = (v, where) => {
        if (v === undefined || v === null)
            return [];
        const items = Array.isArray(v) ? v : [v];
        if (!items.every((x) => typeof x === 'string' && x.trim()))
            throw new errors/* UserError */.y(`${file}: \`${where}\` got ${JSON.stringify(v)}; it accepts a name or a list of names (globs allowed).`);
        return items.map((x) => x.trim());
    };
    const out = [];
    for (const [name, raw] of Object.entries(body)) {
        const where = `${ENVIRONMENTS}.${name}`;
        if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name))
            throw new errors/* UserError */.y(`${file}: environment name \`${name}\` must be letters, digits, \`.\`, \`_\` or \`-\` (as GitHub's environment names).`);
        if (!raw || typeof raw !== 'object' || Array.isArray(raw))
            throw new errors/* UserError */.y(`${file}: \`${where}\` must be a mapping with \`branch\`, \`tags\` or \`from\`, and \`deploy-bluegreen\`.`);
        const e = raw;
        for (const key of Object.keys(e))
            if (!['branch', 'tags', 'from', 'deploy-bluegreen'].includes(key))
                throw new errors/* UserError */.y(`${file}: \`${where}\` has no setting \`${key}\`; it has \`branch\`, \`tags\`, \`from\` and \`deploy-bluegreen\`.`);
        const env = {
            name,
            branches: list(e.branch, `${where}.branch`),
            tags: list(e.tags, `${where}.tags`),
            from: e.from === undefined ? undefined : list(e.from, `${where}.from`)[0],
            deploy: readSection(file, 'deploy-bluegreen', e['deploy-bluegreen'], actions, `${where}.deploy-bluegreen`) ??
                {},
        };
        if (env.from && (env.branches.length || env.tags.length))
            throw new errors/* UserError */.y(`${file}: \`${where}\` has \`from: ${env.from}\` and a branch or tag rule; an environment fed by promotion takes nothing else, so that nothing reaches it that did not pass ${env.from}. Keep one.`);
        if (!env.from && !env.branches.length && !env.tags.length)
            throw new errors/* UserError */.y(`${file}: \`${where}\` needs a rule: \`branch\` (pushes to it deploy here), \`tags\`, or \`from\` (promotion from another environment).`);
        for (const key of ['environment', 'action', 'image', 'from'])
            if (key in env.deploy)
                throw new errors/* UserError */.y(`${file}: \`${where}.deploy-bluegreen.${key}\` is set by go-ship for each deploy (the environment's name, what was built or promoted); remove it.`);
        out.push(env);
    }
    for (const env of out) {
        const seen = [env.name];
        for (let cur = env; cur.from;) {
            const next = out.find((x) => x.name === cur.from);
            if (!next)
                throw new errors/* UserError */.y(`${file}: \`${ENVIRONMENTS}.${cur.name}.from\` names \`${cur.from}\`, which is not an environment here (${out.map((x) => x.name).join(', ')}).`);
            if (seen.includes(next.name))
                throw new errors/* UserError */.y(`${file}: environments promote round in a circle (${[...seen, next.name].join(' → ')}); one of them needs a branch or tag rule.`);
            seen.push(next.name);
            cur = next;
        }
    }
    return out;
}
/** What the root action calls an action's secret inputs, where its name differs or it passes them on. */
const ROOT_SECRET_INPUT = {
    password: 'registry-password',
    'github-token': 'github-token',
    kubeconfig: 'kubeconfig',
    'ssh-key': 'ssh-key',
};
function asInput(file, where, value) {
    if (typeof value === 'string')
        return value;
    if (typeof value === 'number' || typeof value === 'boolean')
        return String(value);
    if (Array.isArray(value) && value.every((v) => ['string', 'number', 'boolean'].includes(typeof v)))
        return value.map(String).join('\n');
    if (value && typeof value === 'object' && !Array.isArray(value))
        return Object.entries(value)
            .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
            .join('\n');
    throw new errors/* UserError */.y(`${file}: \`${where}\` got ${JSON.stringify(value)}; it accepts a string, number, boolean, a list of them, or a KEY: value mapping.`);
}
/**
 * The values `.go-ship.yml` gives one action, as `INPUT_*` variables to put where the workflow left an
 * input empty or at its action.yml default. (The runner passes defaults like given values, so an
 * input set in `with:` to exactly its default is indistinguishable from an absent one; the file wins
 * then.) `given` names inputs known to be given (the CLI's `--with`): those always win.
 */
function projectInputs(config, action, meta, env, given = new Set()) {
    const out = {};
    for (const [key, value] of Object.entries(config[action] ?? {})) {
        if (given.has(key))
            continue;
        const name = inputs/* Inputs */.G0.envName(key);
        const current = env[name];
        if (current === undefined || current === '' || current === (meta.inputs[key]?.default ?? ''))
            out[name] = value;
    }
    return out;
}
/** A JSON Schema (draft 2020-12) of `.go-ship.yml`, generated from the actions' inputs for editor completion. */
function projectSchema(actions) {
    const value = {
        anyOf: [
            { type: 'string' },
            { type: 'number' },
            { type: 'boolean' },
            { type: 'array', items: { type: ['string', 'number', 'boolean'] } },
            { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
        ],
    };
    const clean = (s) => (s ?? '').trim().replace(/\s*\n\s*/g, ' ');
    const section = (meta) => ({
        description: clean(meta.description),
        type: 'object',
        additionalProperties: false,
        properties: Object.fromEntries(Object.entries(meta.inputs)
            .filter(([, spec]) => !isSecretInput(spec))
            .map(([input, spec]) => [
            input,
            {
                description: clean(spec.description) + (spec.default ? ` (default: ${spec.default})` : ''),
                ...value,
            },
        ])),
    });
    const names = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };
    const environments = {
        description: 'Named environments: each deployed by pushes to `branch` or `tags`, or by promotion `from` another, with its own deploy-bluegreen inputs.',
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


/***/ })

};
