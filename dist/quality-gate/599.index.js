export const id = 599;
export const ids = [599];
export const modules = {

/***/ 8599:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  actionsIn: () => (/* binding */ actionsIn),
  projectInputs: () => (/* binding */ projectInputs),
  readProjectConfig: () => (/* binding */ readProjectConfig)
});

// UNUSED EXPORTS: PROJECT_CONFIG_FILES, findProjectConfig, projectSchema

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

// EXTERNAL MODULE: ./src/runner/inputs.ts + 1 modules
var inputs = __webpack_require__(8047);
;// CONCATENATED MODULE: ./src/runner/suggest.ts
/** "Did you mean" suggestions for names a user mistyped (inputs, targets, actions). */
function suggest(name, candidates, max = 3) {
    const limit = Math.max(2, Math.floor(name.length / 3));
    return candidates
        .map((c) => ({ c, d: editDistance(name.toLowerCase(), c.toLowerCase()) }))
        .filter((x) => x.d <= limit)
        .sort((a, b) => a.d - b.d || (a.c < b.c ? -1 : 1))
        .slice(0, max)
        .map((x) => x.c);
}
function editDistance(a, b) {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const cur = [i];
        for (let j = 1; j <= b.length; j++) {
            cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        prev = cur;
    }
    return prev[b.length];
}

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
        if (section === '$schema')
            continue;
        const meta = actions[section];
        if (!meta) {
            const near = suggest(section, Object.keys(actions), 1)[0];
            throw new errors/* UserError */.y(`${file}: unknown section \`${section}\`.${near ? ` Did you mean \`${near}\`?` : ''} Sections are action names: ${Object.keys(actions).join(', ')}.`);
        }
        if (body === null || body === undefined)
            continue;
        if (typeof body !== 'object' || Array.isArray(body))
            throw new errors/* UserError */.y(`${file}: \`${section}\` must be a mapping of its inputs to values.`);
        out[section] = {};
        for (const [key, value] of Object.entries(body)) {
            if (!(key in meta.inputs)) {
                const near = suggest(key, Object.keys(meta.inputs), 1)[0];
                throw new errors/* UserError */.y(`${file}: \`${section}\` has no input \`${key}\`.${near ? ` Did you mean \`${near}\`?` : ''} Its inputs: ${Object.keys(meta.inputs).join(', ')}.`);
            }
            if (action_metadata_isSecretInput(meta.inputs[key]))
                throw new errors/* UserError */.y(`${file}: \`${section}.${key}\` holds a secret, and a committed file is readable by everyone who can read the repository. Remove it and pass it from the workflow's secrets as an input instead: \`with: ${ROOT_SECRET_INPUT[key] ?? key}: \${{ secrets.NAME }}\`${ROOT_SECRET_INPUT[key] ? ' on the root action (or the same input on the action itself)' : ''}.`);
            out[section][key] = asInput(file, `${section}.${key}`, value);
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
    return {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        $id: 'go-ship.schema.json',
        title: '.go-ship.yml',
        description: 'Defaults for every go-ship action; inputs given in the workflow win.',
        type: 'object',
        additionalProperties: false,
        properties: Object.fromEntries(Object.entries(actions).map(([name, meta]) => [
            name,
            {
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
            },
        ])),
    };
}


/***/ })

};
