import { readFileSync } from 'node:fs';
import { inertText } from './text.js';
import * as core from '@actions/core';
import { EOL } from 'node:os';

/**
 * The Actions runner's protocol from the action's side, through @actions/core: workflow commands on
 * stdout (`::warning::`, `::group::`, `::add-mask::`) and file commands (GITHUB_OUTPUT, GITHUB_ENV,
 * GITHUB_PATH, GITHUB_STATE, GITHUB_STEP_SUMMARY). go-ship adds one rule on top: outside text in a
 * plain log line cannot start a workflow command (`neutralise`). The CLI's local runner reads the
 * same files (host side: file-commands.ts).
 */

export const setOutput = (name: string, value: string): void => core.setOutput(name, value);

/** Sets a variable for this step and every later one. */
export const exportVariable = (name: string, value: string): void => core.exportVariable(name, value);

/** Prepends a directory to PATH for this step and every later one. */
export const addPath = (dir: string): void => core.addPath(dir);

/** State for this action's post step (read there as STATE_<name>). */
export const saveState = (name: string, value: string): void => core.saveState(name, value);

export const getState = (name: string): string => core.getState(name);

/** Masks a secret in all later log output; call before anything could print it. */
export function setSecret(secret: string): void {
  if (secret) core.setSecret(secret);
}

/**
 * Outside text (file names, commit messages, a command's output) in a plain log line must not start
 * a workflow command: the runner takes any line that begins, after blanks, with `::`, and `##[`
 * anywhere in a line (the old syntax). A zero-width space breaks both; the line reads the same.
 */
function neutralise(text: string): string {
  // Control characters first (inertText): then no line can begin with `::` behind any whitespace.
  return inertText(text)
    .replace(/(^|[\r\n])([^\S\r\n]*)::/g, '$1$2:\u200b:')
    .replace(/##\[/g, '#\u200b#[');
}

export function info(message: string): void {
  core.info(neutralise(message));
}

/** The commands a go-ship action, run as a child step, may pass up to the runner through its parent. */
const RELAYED = /^::(add-mask|warning|error|notice|debug|group|endgroup)( [^:]*)?::/;

/**
 * A line from a go-ship action that another go-ship action runs as a child (the pipeline's stages).
 * Its masks, annotations and groups were issued by go-ship code and must reach the runner as such
 * (a relayed `::add-mask::` that arrived neutralised would print the secret it hides); every other
 * line is neutralised as plain text is.
 */
export function relay(line: string): void {
  if (RELAYED.test(line)) process.stdout.write(`${line}${EOL}`);
  else info(line);
}

export const debug = (message: string): void => core.debug(message);

type Annotation = { file?: string; line?: number; title?: string };
const annotation = (p: Annotation): core.AnnotationProperties => ({
  ...(p.title ? { title: p.title } : {}),
  ...(p.file ? { file: p.file } : {}),
  ...(p.line ? { startLine: p.line } : {}),
});

export const warning = (message: string, props: Annotation = {}): void =>
  core.warning(message, annotation(props));

export const error = (message: string, props: Annotation = {}): void =>
  core.error(message, annotation(props));

export const notice = (message: string): void => core.notice(message);

export const group = <T>(title: string, fn: () => Promise<T>): Promise<T> => core.group(title, fn);

/** Fails the step: an error annotation and a non-zero exit code once the process ends. */
export const setFailed = (message: string): void => core.setFailed(message);

/** Appends Markdown to the job summary, when the runner provides one. */
export async function appendSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  await core.summary.addRaw(markdown, !markdown.endsWith('\n')).write();
}

/**
 * The event payload the runner wrote (GITHUB_EVENT_PATH), or {} outside a workflow. Here, not beside
 * the GitHub client, so an action that only reads its event (setup-go-cross) does not bundle Octokit.
 */
export function eventPayload(env = process.env): Record<string, unknown> {
  if (!env.GITHUB_EVENT_PATH) return {};
  try {
    return JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** The repository's default branch, as the event payload names it (`repository.default_branch`). */
export function defaultBranch(env = process.env): string | undefined {
  return (eventPayload(env).repository as { default_branch?: string } | undefined)?.default_branch;
}
