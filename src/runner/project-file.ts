import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where `.go-ship.yml` lives. Apart from project-config.ts so that an action bundle can look for the
 * file without loading the YAML parser (most of a bundle's start-up) when there is none.
 */
export const PROJECT_CONFIG_FILES = ['.go-ship.yml', '.go-ship.yaml'];

export function findProjectConfig(workspace: string): string | undefined {
  return PROJECT_CONFIG_FILES.map((f) => join(workspace, f)).find((f) => existsSync(f));
}
