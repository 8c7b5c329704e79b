import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PIPELINE_INPUTS, pipelineRequest, runPipeline } from '../pipeline/pipeline.js';
import { promote } from '../pipeline/environments.js';
import { type PipelineSecrets, STAGES } from '../pipeline/stages.js';
import { Inputs } from '../runner/inputs.js';
import { defaultsModule, updateReadme } from '../host/action-docs.js';
import { DEFAULTS as PIPELINE_DEFAULTS } from '../actions/pipeline/defaults.js';
import { readActionMetadata } from '../runner/action-metadata.js';
import { UserError } from '../runner/errors.js';
import { actionsIn, projectSchema } from '../runner/project-config.js';
import { runLocalAction } from '../host/local-runner.js';
import { CommandRenderer, makeStyle, renderMarkdown } from './render.js';
import { initFiles, inspectRepository, writeInitFiles } from './init.js';

const USAGE = `Usage: go-ship <action> [--with name=value]... [--env NAME=value]... [--workspace DIR] [--node PATH]
                        [--json | --result FILE] [--debug] [-- COMMAND [ARG]...]
       go-ship <action> --help     inputs and outputs of one action
       go-ship list                the actions in this go-ship
       go-ship pipeline [--with event=pull_request|push] [--with skip=STAGE,...] [--with working-directory=DIR]
                        [--with test-env=NAME,...] [--workspace DIR] [--json]
         (secrets from the environment: GITHUB_TOKEN, GO_SHIP_REGISTRY_USERNAME, GO_SHIP_REGISTRY_PASSWORD, GO_SHIP_KUBECONFIG,
          GO_SHIP_SSH_KEY, GO_SHIP_NOTIFY)
                                   the stages a workflow runs for that event (default pull_request: setup,
                                   test, coverage, build; push adds tag, image and deploy), as the root action does
       go-ship promote FROM TO [--with version=V] [--with from=DIR] [--workspace DIR] [--json]
         (secrets as for pipeline)
                                   deploy exactly what environment FROM runs (live, healthy, by image
                                   digest) to TO, through TO's own gate, switch and verify; TO must be
                                   \`from: FROM\` in .go-ship.yml's environments; with version, refused
                                   unless FROM runs that version; to servers, from is the release's
                                   build-matrix output-dir, refused unless FROM's servers run its binaries
       go-ship init [--workspace DIR] [--force]
                                   look at a Go repository and write .go-ship.yml and the pr, coverage
                                   comment and release workflows that use it (--force replaces them)
       go-ship docs                regenerate the inputs/outputs tables in each action's README and
                                   schema/go-ship.schema.json (for .go-ship.yml)

<action> is an action name (see \`go-ship list\`) or a path to a folder with an action.yml.
The action runs in a child process with the Actions runner's contract (INPUT_*, GITHUB_OUTPUT,
GITHUB_ENV, GITHUB_PATH, GITHUB_STATE, GITHUB_STEP_SUMMARY, RUNNER_TEMP, RUNNER_TOOL_CACHE) and
GITHUB_REPOSITORY/SHA/REF read from the workspace's git checkout. The exit code is the action's.
--json prints the result (outputs, exported env, PATH additions, summary) as JSON instead of the
terminal view; --result FILE writes that JSON to FILE as well as showing the terminal view.
After --, COMMAND runs between the action's main and post steps, in the workspace, with what the
action exported (e.g. \`go-ship setup-go-cross -- go build ./...\`: Go installed, caches restored
before the build and saved after it).`;

/** Help for the commands that are not actions, taken from the usage text so the two never differ. */
const COMMAND_HELP: Record<string, string> = Object.fromEntries(
  (['list', 'pipeline', 'promote', 'init', 'docs'] as const).map((command) => {
    const lines = USAGE.split('\n');
    const start = lines.findIndex((l) => l.trimStart().startsWith(`go-ship ${command}`));
    let end = start + 1;
    while (end < lines.length && lines[end].startsWith(' ') && !lines[end].trimStart().startsWith('go-ship '))
      end++;
    const text = lines
      .slice(start, end)
      .map((l) => l.replace(/^ {7}/, ''))
      .join('\n');
    return [command, `Usage: ${text.replace(/^Usage: /, '').trimStart()}`];
  }),
);
COMMAND_HELP.version = 'Usage: go-ship version     the version of this go-ship';
COMMAND_HELP['--version'] = COMMAND_HELP.version;

export interface CliArgs {
  action?: string;
  with: Record<string, string>;
  env: Record<string, string>;
  workspace?: string;
  node?: string;
  json: boolean;
  /** Also write the run's result (outputs, env, path, summary) as JSON to this file. */
  resultFile?: string;
  help: boolean;
  debug: boolean;
  /** init: replace files that exist. */
  force: boolean;
  /** The command after `--`, run between main and post. */
  then: string[];
  /** Words after the command (promote: FROM TO). */
  operands: string[];
}

/** Options that take a value, and switches, by the CliArgs field they set. */
const VALUE_OPTIONS: Record<string, 'workspace' | 'node' | 'resultFile'> = {
  '--workspace': 'workspace',
  '--node': 'node',
  '--result': 'resultFile',
};
const SWITCHES: Record<string, 'json' | 'debug' | 'force' | 'help'> = {
  '--json': 'json',
  '--debug': 'debug',
  '--force': 'force',
  '--help': 'help',
  '-h': 'help',
};

function parseArgs(argv: string[]): CliArgs {
  const args: CliArgs = {
    with: {},
    env: {},
    json: false,
    help: false,
    debug: false,
    force: false,
    then: [],
    operands: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      args.then = argv.slice(i + 1);
      if (!args.then.length) throw new UserError(`-- needs a command after it.\n\n${USAGE}`);
      break;
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const [flag, inline] = eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UserError(`${flag} needs a value.\n\n${USAGE}`);
      return v;
    };
    if (Object.hasOwn(VALUE_OPTIONS, flag)) {
      args[VALUE_OPTIONS[flag]] = value();
      continue;
    }
    if (Object.hasOwn(SWITCHES, flag)) {
      args[SWITCHES[flag]] = true;
      continue;
    }
    switch (flag) {
      case '--with':
      case '-w':
        addPair(args.with, value(), '--with', 'name=value');
        break;
      case '--env':
      case '-e':
        addPair(args.env, value(), '--env', 'NAME=value');
        break;
      default:
        if (a.startsWith('-')) throw new UserError(`Unknown option ${a}.\n\n${USAGE}`);
        if (args.action === 'promote') args.operands.push(a);
        else if (args.action)
          throw new UserError(`Unexpected argument ${a}: one action at a time.\n\n${USAGE}`);
        else args.action = a;
    }
  }
  return args;
}

function addPair(into: Record<string, string>, pair: string, flag: string, form: string): void {
  const eq = pair.indexOf('=');
  if (eq <= 0) throw new UserError(`${flag} takes ${form}; got \`${pair}\`.`);
  into[pair.slice(0, eq)] = pair.slice(eq + 1);
}

/** The go-ship package root: dist/cli/index.js (bundle) or src/cli/main.ts (tests) are two levels down. */
function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

function listActions(root = packageRoot()): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'action.yml')))
    .map((d) => d.name)
    .sort();
}

function resolveActionDir(action: string, root: string): string {
  if (action.includes('/') || action.startsWith('.') || isAbsolute(action)) {
    const dir = resolve(action);
    if (!existsSync(join(dir, 'action.yml'))) throw new UserError(`No action.yml in ${dir}.`);
    return dir;
  }
  const actions = listActions(root);
  if (!actions.includes(action)) {
    throw new UserError(
      `Unknown action \`${action}\`. Available: ${actions.join(', ') || '(none)'}; or give a path to a folder with an action.yml.`,
    );
  }
  return join(root, action);
}

export async function main(argv: string[]): Promise<number> {
  const style = makeStyle(Boolean(process.stdout.isTTY) && !process.env.NO_COLOR);
  const root = packageRoot();
  const args = parseArgs(argv);
  if (!args.action) {
    process.stdout.write(`${USAGE}\n`);
    return args.help ? 0 : 2;
  }
  // `--help` answers with help and does nothing else, whatever the command (init writes files, pipeline
  // runs stages: neither may start on a request for help).
  if (args.help && Object.hasOwn(COMMAND_HELP, args.action)) {
    const extra = args.action === 'pipeline' ? `\n${describeAction(root, style)}` : '';
    process.stdout.write(`${COMMAND_HELP[args.action]}\n${extra}`);
    return 0;
  }
  if (args.action === 'list') {
    for (const a of listActions(root)) {
      const meta = readActionMetadata(join(root, a, 'action.yml'));
      process.stdout.write(`${style.bold(a.padEnd(20))} ${meta.description ?? ''}\n`);
    }
    return 0;
  }
  if (args.action === 'docs') return writeDocs(root);
  if (args.action === 'init') return init(args, style);
  if (args.action === 'pipeline') return pipeline(args, root, style);
  if (args.action === 'promote') return promoteCommand(args, root, style);
  if (args.action === 'version' || args.action === '--version') {
    process.stdout.write(`${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}\n`);
    return 0;
  }
  const actionDir = resolveActionDir(args.action, root);
  if (args.help) {
    process.stdout.write(describeAction(actionDir, style));
    return 0;
  }

  const renderer = new CommandRenderer(style, args.debug || process.env.RUNNER_DEBUG === '1');
  const log = args.json ? process.stderr : process.stdout;
  const result = await runLocalAction({
    actionDir,
    with: args.with,
    env: args.env,
    workspace: args.workspace,
    node: args.node,
    then: args.then,
    onLine: (line, phase) => {
      if (phase === 'then') return void log.write(`${line}\n`);
      const shown = renderer.render(line);
      if (shown !== undefined) log.write(`${shown}\n`);
    },
  });

  const json = `${JSON.stringify(result, (_key, v) => (typeof v === 'string' ? renderer.mask(v) : v), 2)}\n`;
  if (args.resultFile) writeFileSync(args.resultFile, json);
  if (args.json) {
    process.stdout.write(json);
    return result.exitCode;
  }
  const out: string[] = [''];
  const outputs = Object.entries(result.outputs);
  if (outputs.length) {
    out.push(style.bold('Outputs'));
    const width = Math.max(...outputs.map(([k]) => k.length));
    // A terminal shows the start of a long value (JSON lists run to hundreds of characters);
    // --json and --result carry them whole.
    const fit = (line: string) =>
      line.length > 100 ? `${line.slice(0, 80)}… (${line.length} characters; --json shows all)` : line;
    for (const [k, v] of outputs) {
      const [first, ...rest] = renderer.mask(v).split('\n').map(fit);
      out.push(`  ${k.padEnd(width)}  ${first}`, ...rest.map((r) => `  ${' '.repeat(width)}  ${r}`));
    }
  }
  const exported = Object.entries(result.exportedEnv);
  if (exported.length)
    out.push(
      style.bold('Environment for later steps'),
      ...exported.map(([k, v]) => `  ${k}=${renderer.mask(v)}`),
    );
  if (result.addedPath.length)
    out.push(style.bold('Added to PATH'), ...result.addedPath.map((p) => `  ${p}`));
  if (result.summary.trim())
    out.push('', style.bold('── Job summary ──'), renderer.mask(renderMarkdown(result.summary, style)));
  const seconds = (result.phases.reduce((s, p) => s + p.durationMs, 0) / 1000).toFixed(1);
  out.push(
    '',
    result.exitCode === 0
      ? style.green(`✔ ${args.action} succeeded in ${seconds}s`)
      : style.red(`✖ ${args.action} failed (exit code ${result.exitCode}) after ${seconds}s`),
  );
  process.stdout.write(`${out.join('\n')}\n`);
  return result.exitCode;
}

function describeAction(actionDir: string, style: ReturnType<typeof makeStyle>): string {
  const meta = readActionMetadata(join(actionDir, 'action.yml'));
  const lines = [style.bold(meta.name), meta.description ?? '', '', style.bold('Inputs')];
  for (const [name, spec] of Object.entries(meta.inputs)) {
    const tag = spec.required
      ? ' (required)'
      : spec.default !== undefined && spec.default !== ''
        ? ` (default: ${spec.default})`
        : '';
    lines.push(
      `  --with ${name}=...${tag}`,
      `      ${(spec.description ?? '').trim().replace(/\s*\n\s*/g, ' ')}`,
    );
  }
  lines.push('', style.bold('Outputs'));
  for (const [name, spec] of Object.entries(meta.outputs))
    lines.push(`  ${name}: ${(spec.description ?? '').trim()}`);
  return `${lines.join('\n')}\n`;
}

/** Maintainers' command: regenerates the interface tables in every action README from action.yml. */
function writeDocs(root: string): number {
  // The stage list is said once, in src/pipeline/stages.ts: the root action's `skip` text follows it.
  const rootActionPath = join(root, 'action.yml');
  const rootAction = readFileSync(rootActionPath, 'utf8');
  const listed = rootAction.replace(/\(stages are [^)]*\)/, `(stages are ${STAGES.join(', ')})`);
  if (listed !== rootAction) writeFileSync(rootActionPath, listed);
  process.stdout.write(`action.yml (the stage list) ${listed === rootAction ? 'up to date' : 'updated'}\n`);
  for (const a of listActions(root)) {
    const readmePath = join(root, a, 'README.md');
    const readme = existsSync(readmePath) ? readFileSync(readmePath, 'utf8') : '';
    const updated = updateReadme(readme, readActionMetadata(join(root, a, 'action.yml')));
    if (updated === undefined) throw new UserError(`${readmePath} has no generated:interface markers.`);
    if (updated !== readme) writeFileSync(readmePath, updated);
    process.stdout.write(`${a}/README.md ${updated === readme ? 'up to date' : 'updated'}\n`);
  }
  // action.yml's defaults as each action's module (the root action's is src/actions/pipeline/).
  for (const [a, dir] of [...listActions(root).map((a) => [a, a]), ['action.yml', 'pipeline']]) {
    const yml = a === 'action.yml' ? a : `${a}/action.yml`;
    const file = join(root, 'src', 'actions', dir, 'defaults.ts');
    if (!existsSync(dirname(file))) continue;
    const text = defaultsModule(readActionMetadata(join(root, yml)), yml);
    const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (text !== old) writeFileSync(file, text);
    process.stdout.write(`src/actions/${dir}/defaults.ts ${text === old ? 'up to date' : 'updated'}\n`);
  }
  // The root action (uses: org/go-ship@v1) is documented in the top-level README.
  const rootReadme = readFileSync(join(root, 'README.md'), 'utf8');
  const rootUpdated = updateReadme(rootReadme, readActionMetadata(join(root, 'action.yml')));
  if (rootUpdated === undefined) throw new UserError('README.md has no generated:interface markers.');
  if (rootUpdated !== rootReadme) writeFileSync(join(root, 'README.md'), rootUpdated);
  process.stdout.write(`README.md (root action) ${rootUpdated === rootReadme ? 'up to date' : 'updated'}\n`);
  const schemaPath = join(root, 'schema', 'go-ship.schema.json');
  const schema = `${JSON.stringify(projectSchema(actionsIn(root)), null, 2)}\n`;
  const before = existsSync(schemaPath) ? readFileSync(schemaPath, 'utf8') : '';
  if (schema !== before) {
    mkdirSync(dirname(schemaPath), { recursive: true });
    writeFileSync(schemaPath, schema);
  }
  process.stdout.write(`schema/go-ship.schema.json ${schema === before ? 'up to date' : 'updated'}\n`);
  return 0;
}

/** `go-ship pipeline`: the root action's stages, locally or in another CI (GitLab). */
async function pipeline(args: CliArgs, root: string, style: ReturnType<typeof makeStyle>): Promise<number> {
  const unknown = Object.keys(args.with).filter((k) => !PIPELINE_INPUTS.includes(k));
  if (unknown.length)
    throw new UserError(
      `go-ship pipeline takes --with ${PIPELINE_INPUTS.map((k) => `${k}=...`).join(', ')}; not ${unknown.join(', ')}.`,
    );
  // The same reading as the root action's inputs; outside a workflow the event defaults to a check.
  const { workspace, event, skip, passEnv } = pipelineRequest(
    new Inputs(
      Object.fromEntries(Object.entries(args.with).map(([k, v]) => [Inputs.envName(k), v])),
      PIPELINE_DEFAULTS,
    ),
    resolve(args.workspace ?? process.cwd()),
    'pull_request',
  );
  const renderer = new CommandRenderer(style, args.debug || process.env.RUNNER_DEBUG === '1');
  const log = args.json ? process.stderr : process.stdout;
  const results = await runPipeline({
    root,
    workspace,
    event,
    skip,
    passEnv,
    env: args.env,
    node: args.node,
    secrets: secretsFromEnv(),
    onStage: (stage, state) => {
      if (state === 'start') log.write(`${style.bold(`\n▶ ${stage}`)}\n`);
    },
    onLine: (line) => {
      const shown = renderer.render(line);
      if (shown !== undefined) log.write(`  ${shown}\n`);
    },
  });
  const failed = results.some((r) => r.status === 'failed');
  if (args.json) process.stdout.write(`${JSON.stringify({ event, stages: results }, null, 2)}\n`);
  else {
    const w = Math.max(...results.map((r) => r.stage.length));
    log.write(`\n${style.bold(`Pipeline (${event})`)}\n`);
    for (const r of results)
      log.write(
        `  ${r.stage.padEnd(w)}  ${r.status === 'passed' ? style.green('✔') : r.status === 'failed' ? style.red('✖') : '–'} ${renderer.mask(r.detail)}\n`,
      );
  }
  return failed ? 1 : 0;
}

/** Outside GitHub the secrets come from the environment (CI variables), never from the command line. */
function secretsFromEnv(): PipelineSecrets {
  return {
    githubToken: process.env.GITHUB_TOKEN,
    registryUsername: process.env.GO_SHIP_REGISTRY_USERNAME,
    registryPassword: process.env.GO_SHIP_REGISTRY_PASSWORD,
    kubeconfig: process.env.GO_SHIP_KUBECONFIG,
    sshKey: process.env.GO_SHIP_SSH_KEY,
    notify: process.env.GO_SHIP_NOTIFY,
  };
}

/** `go-ship promote FROM TO`: what FROM runs, by digest, to TO. */
async function promoteCommand(
  args: CliArgs,
  root: string,
  style: ReturnType<typeof makeStyle>,
): Promise<number> {
  const [from, to, ...rest] = args.operands;
  const unknown = Object.keys(args.with).filter((k) => k !== 'version' && k !== 'from');
  if (!from || !to || rest.length || unknown.length)
    throw new UserError(
      `${COMMAND_HELP.promote}\n\nGot: go-ship promote ${args.operands.join(' ')}${unknown.length ? ` (--with ${unknown.join(', ')})` : ''}.`,
    );
  const renderer = new CommandRenderer(style, args.debug || process.env.RUNNER_DEBUG === '1');
  const log = args.json ? process.stderr : process.stdout;
  const r = await promote({
    root,
    workspace: resolve(args.workspace ?? process.cwd()),
    from,
    to,
    version: args.with.version,
    build: args.with.from ? resolve(args.with.from) : undefined,
    secrets: secretsFromEnv(),
    env: args.env,
    node: args.node,
    onLine: (line) => {
      const shown = renderer.render(line);
      if (shown !== undefined) log.write(`  ${shown}\n`);
    },
  });
  if (args.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  else
    log.write(
      `\n${r.passed ? style.green('✔') : style.red('✖')} ${style.bold(`promote ${from} → ${to}`)}: ${r.passed ? `${r.version ?? ''} by ${r.digest}` : renderer.mask(r.reason ?? '')}\n`,
    );
  return r.passed ? 0 : 1;
}

/** `go-ship init`: inspect the repository, then write the config and workflows (all or none). */
async function init(args: CliArgs, style: ReturnType<typeof makeStyle>): Promise<number> {
  const dir = resolve(args.workspace ?? '.');
  const facts = await inspectRepository(dir);
  const written = writeInitFiles(dir, initFiles(facts), args.force);
  process.stdout.write(
    `${style.bold('go-ship init')} in ${dir}: module ${facts.module}, ${facts.mains.length} main package(s), tests in ${facts.testedPackages} of ${facts.packages} packages${facts.dockerfile ? ', a Dockerfile' : ''}${facts.goreleaserFile ? `, ${facts.goreleaserFile}` : ''}\n`,
  );
  for (const f of written) process.stdout.write(`  wrote ${f}\n`);
  if (facts.releaseWorkflows.length)
    process.stdout.write(
      `  not written: .github/workflows/go-ship-release.yml (${facts.releaseWorkflows.join(', ')} already releases this repository; remove it and run \`go-ship init --force\` to release with go-ship)\n`,
    );
  if (facts.goreleaser?.refused)
    process.stdout.write(
      `  ${facts.goreleaser.file} is not used by build-matrix: ${facts.goreleaser.refused}\n`,
    );
  process.stdout.write(
    `Next: review .go-ship.yml, replace org/go-ship with the go-ship repository you use (pin it by commit SHA if your policy asks), commit, and open a pull request.\n`,
  );
  return 0;
}
