import { runCommand } from '../runner/command.js';
import { UserError, inputError } from '../runner/errors.js';
import { log } from '../runner/log.js';
import { existsSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';

/** Which files get signed: GoReleaser's `signs[].artifacts` values go-ship supports. */
export type SignWhat = 'none' | 'checksum' | 'all';

export interface SignSpec {
  what: SignWhat;
  /** The signing program, run directly (never through a shell). */
  cmd: string;
  /** Its arguments, one per line, with `${artifact}` and `${signature}` filled in per file. */
  args: string[];
  /** The signature's file name, with `${artifact}`. */
  signature: string;
  /** Written to the command's stdin (a passphrase): never logged. */
  stdin?: string;
}

/** GoReleaser's default `signs` entry: a detached GPG signature, `<file>.sig`. */
export const DEFAULT_SIGN_ARGS = ['--output', '${signature}', '--detach-sign', '${artifact}'];
export const DEFAULT_SIGNATURE = '${artifact}.sig';

const FIELDS = ['artifact', 'signature'];

/** Fills `${artifact}` / `${signature}`; any other `${...}` is refused by name, before anything runs. */
export function fillSignTemplate(input: string, text: string, values: Record<string, string>): string {
  return text.replace(/\$\{([^}]*)\}/g, (_m, name: string) => {
    if (!FIELDS.includes(name) || values[name] === undefined)
      throw inputError(
        input,
        text,
        `text with \${artifact} and \${signature} (GoReleaser's signs fields)`,
        `\${${name}} is not one of them.`,
      );
    return values[name];
  });
}

/**
 * Signs each file in `dir` with the user's command, GoReleaser's way (`signs`): one run per file,
 * the signature written beside it. A failure removes the signatures this call wrote, so a release
 * never gets half of them, and names the command and what it printed.
 */
export async function signFiles(dir: string, files: string[], spec: SignSpec): Promise<string[]> {
  const written: string[] = [];
  try {
    for (const file of files) {
      const artifact = join(dir, file);
      const signature = join(
        dir,
        fillSignTemplate('sign-signature', spec.signature, { artifact: file, signature: '' }),
      );
      const args = spec.args.map((a) => fillSignTemplate('sign-args', a, { artifact, signature }));
      rmSync(signature, { force: true }); // gpg --output refuses to overwrite a re-run's signature
      const r = await runCommand(spec.cmd, args, {
        cwd: dir,
        input: spec.stdin,
        check: false,
        timeoutMs: 5 * 60_000,
      });
      if (r.code !== 0 || !existsSync(signature))
        throw new UserError(
          `Signing ${file} failed: \`${r.display}\` ${r.code !== 0 ? `exited with code ${r.code}` : `wrote no ${basename(signature)}`}:\n${(r.stderr || r.stdout).trim().split('\n').slice(-10).join('\n')}\nCheck that the key is imported in this job (gpg --list-secret-keys) and that sign-args name it; nothing was signed.`,
        );
      written.push(signature);
      log.info(`  signed ${file} -> ${basename(signature)}`);
    }
    return written;
  } catch (e) {
    for (const s of written) rmSync(s, { force: true });
    throw e;
  }
}
