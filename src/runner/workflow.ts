import * as core from '@actions/core';

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
export function neutralise(text: string): string {
  return text.replace(/(^|[\r\n])([^\S\r\n]*)::/g, '$1$2:\u200b:').replace(/##\[/g, '#\u200b#[');
}

export function info(message: string): void {
  core.info(neutralise(message));
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
