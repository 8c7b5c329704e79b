import { CACHE_SAVE, type CacheSave } from '../../go/caches.js';
import { type DownloadSource } from '../../go/installer.js';
import { DEFAULT_DOWNLOAD_BASE_URL } from '../../go/listing.js';
import { type HostPlatform, hostPlatform } from '../../go/platform.js';
import { readVersionFile } from '../../go/version-file.js';
import { type VersionSpec, parseVersionSpec } from '../../go/version.js';
import { UserError } from '../../runner/errors.js';
import { Inputs } from '../../runner/inputs.js';
import { DEFAULTS } from './defaults.js';
import { log } from '../../runner/log.js';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface Config {
  spec: VersionSpec;
  reason: string;
  source: DownloadSource;
  baseUrl: string;
  checkLatest: boolean;
  platform: HostPlatform;
  targets: string[];
  pinToolchain: boolean;
  toolCacheRoot: string;
  tempDir: string;
  workspace: string;
  cache: boolean;
  /** When the post step saves the caches (restoreOnlyReason). */
  cacheSave: CacheSave;
  /** Globs for the files whose hash keys the module cache; explicit ones must match something. */
  cacheDependencyPath: { patterns: string[]; explicit: boolean };
}

export function getInputs(inputs = new Inputs(process.env, DEFAULTS), env = process.env): Config {
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd();
  const version = inputs.optional('go-version');
  const versionFile = inputs.optional('go-version-file');
  let spec: VersionSpec;
  let reason: string;
  if (version) {
    if (versionFile)
      log.warning('Both go-version and go-version-file are set; go-version wins (as in actions/setup-go).');
    spec = parseVersionSpec(version);
    reason = `go-version is ${version}`;
  } else {
    const file = versionFile ?? (existsSync(join(workspace, 'go.mod')) ? 'go.mod' : undefined);
    if (!file) {
      throw new UserError(
        'setup-go-cross needs a Go version: set `go-version` (e.g. `1.22`, `stable`) or `go-version-file` (e.g. `go.mod`); there is no go.mod at the workspace root to default to.',
      );
    }
    ({ spec, reason } = readVersionFile(resolve(workspace, file)));
  }
  const toolCacheRoot = env.RUNNER_TOOL_CACHE;
  if (!toolCacheRoot)
    throw new UserError(
      'RUNNER_TOOL_CACHE is not set; run setup-go-cross on an Actions runner or through the go-ship CLI, which set it.',
    );
  const tempDir = env.RUNNER_TEMP ?? join(toolCacheRoot, '.tmp');
  mkdirSync(tempDir, { recursive: true });
  return {
    spec,
    reason,
    source: inputs.oneOf('go-download-source', ['auto', 'dl', 'proxy'] as const, { required: true }),
    baseUrl: inputs.optional('go-download-base-url') ?? env.GO_DOWNLOAD_BASE_URL ?? DEFAULT_DOWNLOAD_BASE_URL,
    checkLatest: inputs.boolean('check-latest'),
    platform: hostPlatform(inputs.optional('architecture')),
    targets: inputs.list('targets'),
    pinToolchain: inputs.boolean('pin-toolchain'),
    toolCacheRoot,
    tempDir,
    workspace,
    cache: inputs.boolean('cache'),
    cacheSave: inputs.oneOf('cache-save', CACHE_SAVE, { required: true }),
    cacheDependencyPath: cacheDependencyPath(inputs),
  };
}

function cacheDependencyPath(inputs: Inputs): Config['cacheDependencyPath'] {
  const given = inputs.list('cache-dependency-path');
  return given.length ? { patterns: given, explicit: true } : { patterns: ['**/go.sum'], explicit: false };
}
