import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../runner/command.js';
import { UserError } from '../runner/errors.js';
import { log } from '../runner/log.js';

export interface DockerCredentials {
  username: string;
  password: string;
  /** Where they came from, for the log (never the secret). */
  source: string;
}

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** The keys the docker CLI files a registry under: the host, with or without a scheme; Docker Hub's legacy URL. */
function keysFor(registry: string): string[] {
  const hub = ['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(registry);
  const hosts = hub ? ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io'] : [registry];
  return hosts.flatMap((h) => (h.includes('://') ? [h] : [h, `https://${h}`, `http://${h}`]));
}

/**
 * Registry credentials as the docker CLI finds them, so a `docker login` or docker/login-action step
 * before go-ship is enough: `DOCKER_CONFIG` (or ~/.docker)/config.json, a credential helper for the
 * registry (`credHelpers`, else `credsStore`) spoken to by the docker-credential-* protocol (`get`,
 * the server on stdin, `{Username, Secret}` on stdout), else the `auths` entry. Undefined when the
 * file has nothing for this registry. Secrets are masked as soon as they are read.
 */
export async function dockerConfigCredentials(
  registry: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DockerCredentials | undefined> {
  const file = join(env.DOCKER_CONFIG || join(homedir(), '.docker'), 'config.json');
  if (!existsSync(file)) return undefined;
  let config: DockerConfigFile;
  try {
    config = JSON.parse(readFileSync(file, 'utf8')) as DockerConfigFile;
  } catch (e) {
    throw new UserError(
      `The Docker config ${file} is not valid JSON (${(e as Error).message}); fix it or run docker login again.`,
    );
  }
  const keys = keysFor(registry);
  const helperKey = keys.find((k) => config.credHelpers?.[k]);
  const helper = helperKey ? config.credHelpers![helperKey] : config.credsStore;
  if (helper) {
    const got = await fromHelper(helper, helperKey ?? keys.find((k) => config.auths?.[k]) ?? registry, file);
    if (got) return got;
  }
  for (const k of keys) {
    const entry = config.auths?.[k];
    if (!entry) continue;
    let username = entry.username;
    let password = entry.password;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        username = decoded.slice(0, colon);
        password = decoded.slice(colon + 1);
      }
    }
    if (username && password) {
      log.mask(password);
      return { username, password, source: `${file} (auths["${k}"])` };
    }
  }
  return undefined;
}

async function fromHelper(
  helper: string,
  server: string,
  file: string,
): Promise<DockerCredentials | undefined> {
  // A name with `/` would run `docker-credential-../../x` relative to the workspace: only a plain
  // program name, looked up on PATH as docker does for the helpers it ships.
  if (typeof helper !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(helper))
    throw new UserError(
      `${file} names the credential helper ${JSON.stringify(helper).slice(0, 100)}, which is not a helper name (letters, digits, \`.\`, \`_\`, \`-\`; docker runs docker-credential-NAME from PATH). Fix credsStore / credHelpers, or pass username and password.`,
    );
  const program = `docker-credential-${helper}`;
  const r = await runCommand(program, ['get'], { input: server, check: false, timeoutMs: 30_000 }).catch(
    (e: Error) => {
      throw new UserError(
        `${file} names the credential helper \`${helper}\`, but ${program} could not be run (${(e as NodeJS.ErrnoException).code ?? e.message}). Install it on the runner, or pass username and password.`,
      );
    },
  );
  // "credentials not found" is the protocol's answer for a server the helper does not know.
  if (r.code !== 0) {
    if (/not found/i.test(r.stdout + r.stderr)) return undefined;
    throw new UserError(
      `The credential helper ${program} failed for ${server} (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 300)}`,
    );
  }
  let answer: { Username?: string; Secret?: string };
  try {
    answer = JSON.parse(r.stdout) as { Username?: string; Secret?: string };
  } catch {
    throw new UserError(
      `The credential helper ${program} answered something that is not JSON for ${server}.`,
    );
  }
  if (!answer.Secret) return undefined;
  log.mask(answer.Secret);
  return { username: answer.Username ?? '', password: answer.Secret, source: `credential helper ${program}` };
}

/** The credentials inputs win; without them, what `docker login` left for this registry, if anything. */
export async function registryCredentials(
  registry: string,
  given: { username?: string; password?: string },
): Promise<{ username?: string; password?: string }> {
  if (given.username || given.password) return given;
  const found = await dockerConfigCredentials(registry);
  if (!found) return {};
  log.info(`Registry credentials for ${registry}: ${found.source}`);
  return found;
}
