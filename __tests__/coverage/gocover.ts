import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../../src/runner/command.js';
import { ROOT, tempDir } from '../helpers/cli.js';

export const COVMOD = join(ROOT, '__tests__', 'fixtures', 'covmod');

/** A scratch copy of the fixture module (go test writes profiles next to it). */
export function covmodCopy(): string {
  const dir = join(tempDir('covmod'), 'covmod');
  cpSync(COVMOD, dir, { recursive: true });
  return dir;
}

export const goEnv = { GOFLAGS: '-buildvcs=false', GOTOOLCHAIN: 'local' };

export async function goTest(dir: string, args: string[]): Promise<string> {
  return (await runCommand('go', ['test', ...args], { cwd: dir, env: goEnv })).stdout;
}

export interface GoFuncLine {
  file: string;
  line: number;
  name: string;
  percent: string;
}

/** `go tool cover -func` output, parsed: one entry per function and the total. */
export async function goToolCoverFunc(dir: string, profile: string): Promise<{ funcs: GoFuncLine[]; total: string }> {
  const out = (await runCommand('go', ['tool', 'cover', `-func=${profile}`], { cwd: dir, env: goEnv })).stdout;
  const funcs: GoFuncLine[] = [];
  let total = '';
  for (const line of out.trim().split('\n')) {
    const cols = line.split('\t').filter(Boolean);
    if (cols[0] === 'total:') total = cols[2];
    else {
      const m = /^(.*):(\d+):$/.exec(cols[0]);
      funcs.push({ file: m![1], line: Number(m![2]), name: cols[1], percent: cols[2] });
    }
  }
  return { funcs, total };
}
