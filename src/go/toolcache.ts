import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../runner/errors.js';

/**
 * The runner's tool cache (RUNNER_TOOL_CACHE), laid out as @actions/tool-cache does:
 * `<root>/<tool>/<semver>/<arch>/` plus an `<arch>.complete` marker, so Go that GitHub's images
 * pre-install is found, and what go-ship installs is found by setup-go too.
 */
export class ToolCache {
  constructor(readonly root: string) {}

  dir(tool: string, version: string, arch: string): string {
    return join(this.root, tool, version, arch);
  }

  /** The installed directory, only when its completion marker exists. */
  find(tool: string, version: string, arch: string): string | undefined {
    const dir = this.dir(tool, version, arch);
    return existsSync(dir) && existsSync(`${dir}.complete`) ? dir : undefined;
  }

  versions(tool: string, arch: string): string[] {
    const base = join(this.root, tool);
    if (!existsSync(base)) return [];
    return readdirSync(base).filter((v) => !v.startsWith('.') && this.find(tool, v, arch));
  }

  /**
   * Installs atomically: `fill` writes into a staging folder inside the cache (same filesystem, so the
   * final move is a rename) and returns the folder to publish. Any failure removes the staging folder;
   * the marker is written last, so a crash never leaves something that looks installed.
   */
  async install(
    tool: string,
    version: string,
    arch: string,
    fill: (staging: string) => Promise<string>,
  ): Promise<string> {
    const base = join(this.root, tool);
    try {
      mkdirSync(base, { recursive: true });
      accessSync(base, constants.W_OK);
    } catch (e) {
      throw new UserError(
        `The tool cache ${this.root} is not writable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Make it writable for the runner's user or point RUNNER_TOOL_CACHE at a writable directory.`,
      );
    }
    const staging = mkdtempSync(join(base, '.staging-'));
    try {
      const ready = await fill(staging);
      const dest = this.dir(tool, version, arch);
      rmSync(dest, { recursive: true, force: true });
      rmSync(`${dest}.complete`, { force: true });
      mkdirSync(join(base, version), { recursive: true });
      renameSync(ready, dest);
      writeFileSync(`${dest}.complete`, '');
      return dest;
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }
}
