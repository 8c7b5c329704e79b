import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { UserError } from '../runner/errors.js';
import { parseGoVersion, parseVersionSpec, type VersionSpec } from './version.js';

export interface VersionFromFile {
  spec: VersionSpec;
  /** Why this version: shown in the log and the summary. */
  reason: string;
}

/**
 * Reads the Go version a repository asks for: go.mod / go.work (`toolchain` line first, then the `go`
 * line), .go-version, or .tool-versions (`golang` or `go` entry).
 */
export function readVersionFile(file: string): VersionFromFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(
      `Input \`go-version-file\` points at ${file}, which cannot be read (${(e as NodeJS.ErrnoException).code}). Check the path; it is relative to the workspace.`,
    );
  }
  const name = basename(file);
  if (name === 'go.mod' || name === 'go.work' || name.endsWith('.mod') || name.endsWith('.work'))
    return fromModFile(file, text);
  if (name === '.tool-versions') {
    const line = text.split('\n').find((l) => /^\s*(golang|go)\s+\S/.test(l));
    if (!line) throw malformed(file, 'no `golang <version>` line');
    const version = line.trim().split(/\s+/)[1];
    return {
      spec: parseVersionSpec(version, 'go-version-file'),
      reason: `${name} asks for golang ${version}`,
    };
  }
  const version = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith('#'));
  if (!version) throw malformed(file, 'it is empty');
  return { spec: parseVersionSpec(version, 'go-version-file'), reason: `${name} says ${version}` };
}

function fromModFile(file: string, text: string): VersionFromFile {
  const name = basename(file);
  const goLine = /^go\s+(\S+)\s*(?:\/\/.*)?$/m.exec(text)?.[1];
  const toolchain = /^toolchain\s+(\S+)\s*(?:\/\/.*)?$/m.exec(text)?.[1];
  if (toolchain && toolchain !== 'default') {
    const v = parseGoVersion(toolchain.replace(/\+.*$/, ''));
    if (!v || !toolchain.startsWith('go'))
      throw malformed(file, `its toolchain line \`${toolchain}\` is not a Go release name such as go1.22.5`);
    return {
      spec: { kind: 'exact', version: v, text: toolchain },
      reason: `${name}'s toolchain line asks for ${v.name}${goLine ? ` (its go line is ${goLine}, the minimum)` : ''}`,
    };
  }
  if (!goLine) throw malformed(file, 'no `go` line');
  if (!parseGoVersion(goLine)) throw malformed(file, `its go line \`${goLine}\` is not a Go version`);
  // `go 1.22` means any 1.22.x (newest wins); `go 1.22.3` is an exact minimum, used exactly, as setup-go does.
  return {
    spec: parseVersionSpec(goLine, 'go-version-file'),
    reason: `${name}'s go line is ${goLine} (no toolchain line)`,
  };
}

function malformed(file: string, what: string): UserError {
  return new UserError(
    `Input \`go-version-file\`: ${file} is not usable: ${what}. Fix the file or pass \`go-version\` instead.`,
  );
}
