import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { delimiter as PATH_DELIMITER } from 'node:path';

/**
 * The Actions runner's protocol from the action's side: workflow commands on stdout (`::warning::`,
 * `::group::`, `::add-mask::`) and file commands (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH,
 * GITHUB_STATE, GITHUB_STEP_SUMMARY). It writes exactly what @actions/core writes (a test compares
 * the two) without loading core's HTTP and OIDC clients, which cost ~100 ms of every cold start.
 * The CLI's local runner reads the same files (file-commands.ts).
 */

type Properties = Record<string, string | number | undefined>;

function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function issueCommand(command: string, properties: Properties, message: string): void {
  const props = Object.entries(properties)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(',');
  process.stdout.write(`::${command}${props ? ` ${props}` : ''}::${escapeData(message)}\n`);
}

/** Appends `name<<delimiter ... delimiter` to a file command, refusing values that contain the delimiter. */
function issueFileCommand(envName: string, name: string, value: string): boolean {
  const file = process.env[envName];
  if (!file) return false;
  const delimiter = `ghadelimiter_${randomUUID()}`;
  if (name.includes(delimiter) || value.includes(delimiter))
    throw new Error(`Unexpected input: the value contains the delimiter ${delimiter}`);
  appendFileSync(file, `${name}<<${delimiter}\n${value}\n${delimiter}\n`, 'utf8');
  return true;
}

export function setOutput(name: string, value: string): void {
  if (!issueFileCommand('GITHUB_OUTPUT', name, value)) {
    process.stdout.write('\n');
    issueCommand('set-output', { name }, value);
  }
}

/** Sets a variable for this step and every later one. */
export function exportVariable(name: string, value: string): void {
  process.env[name] = value;
  if (!issueFileCommand('GITHUB_ENV', name, value)) issueCommand('set-env', { name }, value);
}

/** Prepends a directory to PATH for this step and every later one. */
export function addPath(dir: string): void {
  const file = process.env.GITHUB_PATH;
  if (file) appendFileSync(file, `${dir}\n`, 'utf8');
  else issueCommand('add-path', {}, dir);
  process.env.PATH = `${dir}${PATH_DELIMITER}${process.env.PATH ?? ''}`;
}

/** State for this action's post step (read there as STATE_<name>). */
export function saveState(name: string, value: string): void {
  if (!issueFileCommand('GITHUB_STATE', name, value)) issueCommand('save-state', { name }, value);
}

export function getState(name: string): string {
  return process.env[`STATE_${name}`] ?? '';
}

/** Masks a secret in all later log output; call before anything could print it. */
export function setSecret(secret: string): void {
  if (secret) issueCommand('add-mask', {}, secret);
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
  process.stdout.write(`${neutralise(message)}\n`);
}

export function debug(message: string): void {
  issueCommand('debug', {}, message);
}

export function warning(message: string, props: { file?: string; line?: number; title?: string } = {}): void {
  issueCommand('warning', props, message);
}

export function error(message: string, props: { file?: string; line?: number; title?: string } = {}): void {
  issueCommand('error', props, message);
}

export function notice(message: string): void {
  issueCommand('notice', {}, message);
}

export async function group<T>(title: string, fn: () => Promise<T>): Promise<T> {
  issueCommand('group', {}, title);
  try {
    return await fn();
  } finally {
    issueCommand('endgroup', {}, '');
  }
}

/** Fails the step: an error annotation and a non-zero exit code once the process ends. */
export function setFailed(message: string): void {
  process.exitCode = 1;
  error(message);
}

/** Appends Markdown to the job summary, when the runner provides one. */
export function appendSummary(markdown: string): void {
  const file = process.env.GITHUB_STEP_SUMMARY;
  if (file) appendFileSync(file, markdown.endsWith('\n') ? markdown : `${markdown}\n`, 'utf8');
}
