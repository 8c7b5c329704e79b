import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { CommandError } from './command.js';
import { UserError } from './errors.js';
import { findProjectConfig } from './project-file.js';
import type { Summary } from './summary.js';
import { appendSummary, info, setFailed } from './workflow.js';

/**
 * The bundle entry's wrapper: a UserError fails the step with its message alone (it already says how
 * to fix it); anything else is a go-ship bug and keeps its stack so it can be reported.
 */
export async function runAction(
  main: () => Promise<void>,
  opts: {
    /** True when the workspace holds someone else's files (a fork's artifact): its .go-ship.yml is not read. */
    untrustedWorkspace?: (env: NodeJS.ProcessEnv) => boolean;
  } = {},
): Promise<void> {
  try {
    if (opts.untrustedWorkspace?.(process.env))
      info(
        '.go-ship.yml is not read: this step handles files from another run, which could have written it.',
      );
    else await applyProjectConfig();
    await main();
  } catch (e) {
    if (e instanceof UserError) setFailed(e.message);
    else if (e instanceof CommandError)
      // A program go-ship ran failed (git, go, docker...): most often the setup it ran in (a broken
      // remote, no network, missing credentials). Its own words say more than a stack would.
      setFailed(
        `${e.message}\n(This is ${e.result.display.split(' ')[0]}'s own message. If it points at the repository, network or credentials, fix that; if not, report it to go-ship with this log.)`,
      );
    else if (e instanceof Error)
      setFailed(`${e.stack ?? e.message}\n(This is a go-ship bug; please report it.)`);
    else setFailed(String(e));
  }
}

/** Appends to the step summary when the runner provides one (GitHub and the go-ship CLI both do). */
export async function writeSummary(summary: Summary): Promise<void> {
  if (!summary.isEmpty()) await appendSummary(summary.toString());
}

/**
 * Fills the inputs the workflow left empty or at their default from the repository's `.go-ship.yml`.
 * The bundle runs as dist/<action>/index.js, so the action's name and the folder of every action.yml
 * (for checking the file) follow from its path.
 */
async function applyProjectConfig(env = process.env): Promise<void> {
  const bundle = process.argv[1];
  if (!bundle) return;
  const action = basename(dirname(bundle));
  const root = resolve(dirname(bundle), '..', '..');
  const file = findProjectConfig(resolve(env.GITHUB_WORKSPACE ?? process.cwd()));
  if (!file || !existsSync(root)) return;
  // Loaded only when there is a file to read: its YAML parser is most of a bundle's start-up.
  const { actionsIn, projectInputs, projectSection } = await import('./project-config.js');
  const actions = actionsIn(root);
  if (!actions[action]) return;
  // The CLI knows which inputs were given with --with (even at their default): those win.
  const given = new Set((env.GO_SHIP_GIVEN_INPUTS ?? '').split(',').filter(Boolean));
  const section = projectSection(file, actions, action, env.INPUT_ENVIRONMENT?.trim());
  const values = projectInputs({ [action]: section }, action, actions[action], env, given);
  const names = Object.keys(values);
  if (!names.length) return;
  Object.assign(env, values);
  info(
    `${basename(file)} sets ${names.map((n) => n.slice('INPUT_'.length).toLowerCase()).join(', ')} (inputs given in the workflow win)`,
  );
}
