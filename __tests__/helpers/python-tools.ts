import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * A Python package installed once into its own virtual environment under ~/.cache/go-ship/tools
 * (from the machine's package index), for checks someone else wrote; returns the venv's python.
 */
export function pythonTool(pkg: string, version: string): string {
  const venv = join(homedir(), '.cache', 'go-ship', 'tools', `py-${pkg}-${version}`);
  const python = join(venv, 'bin', 'python');
  if (!existsSync(python)) {
    execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
    execFileSync(python, ['-m', 'pip', 'install', '-q', `${pkg}==${version}`], { stdio: 'inherit' });
  }
  return python;
}
