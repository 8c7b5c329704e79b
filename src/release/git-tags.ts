import { gitLocation } from '../runner/git.js';
import { runCommand, type CommandResult } from '../runner/command.js';
import { UserError } from '../runner/errors.js';
import { log } from '../runner/log.js';
import type { Commit } from './commits.js';
import type { GoModule } from './module.js';
import { isOutOfRange, parseVersion, type SemVer } from './semver.js';

/** git in one repository, always with an argument array. */
export class Git {
  constructor(readonly cwd: string) {}

  run(
    args: string[],
    opts: { check?: boolean; env?: Record<string, string | undefined> } = {},
  ): Promise<CommandResult> {
    return runCommand('git', args, {
      cwd: this.cwd,
      check: opts.check,
      env: { GIT_TERMINAL_PROMPT: '0', ...opts.env },
    });
  }

  async out(args: string[]): Promise<string> {
    return (await this.run(args)).stdout.trim();
  }

  async ok(args: string[]): Promise<boolean> {
    return (await this.run(args, { check: false })).code === 0;
  }

  /** The checkout's top and this directory's path inside it (see gitLocation). */
  location(): Promise<{ top: string; prefix: string } | undefined> {
    return gitLocation(this.cwd);
  }
}

export interface ModuleTag {
  name: string;
  version: SemVer;
  /** The commit the tag points at (peeled through annotated tags). */
  commit: string;
}

export interface TagScan {
  tags: ModuleTag[];
  /** Tags that look like this module's releases but that Go would not accept, with the reason. */
  ignored: { name: string; why: string }[];
}

/**
 * This module's release tags: `<prefix>vX.Y.Z[-pre]`. Tags of other modules are not looked at; tags
 * that look like ours but are not valid Go versions are reported (never a crash).
 */
export async function scanTags(git: Git, mod: Pick<GoModule, 'tagPrefix'>): Promise<TagScan> {
  const out = await git.out([
    'for-each-ref',
    '--format=%(refname:strip=2)%00%(objectname)%00%(*objectname)',
    mod.tagPrefix ? `refs/tags/${mod.tagPrefix}` : 'refs/tags/',
  ]);
  const tags: ModuleTag[] = [];
  const ignored: TagScan['ignored'] = [];
  for (const line of out ? out.split('\n') : []) {
    const [name, object, peeled] = line.split('\0');
    if (!name.startsWith(mod.tagPrefix)) continue;
    const rest = name.slice(mod.tagPrefix.length);
    if (rest.includes('/')) continue; // a nested module's tag
    const version = parseVersion(rest);
    if (version) {
      tags.push({ name, version, commit: peeled || object });
      continue;
    }
    if (isOutOfRange(rest))
      throw new UserError(
        `The tag ${name} has a version number past ${Number.MAX_SAFE_INTEGER}, more than go-ship counts exactly, and Go takes it as this module's latest version, so no next version can follow it. If it was a mistake, delete it (git push origin :refs/tags/${name}, then git tag -d ${name}).`,
      );
    if (/^\d+\.\d+/.test(rest)) ignored.push({ name, why: 'no `v` prefix; Go ignores it' });
    else if (/^v\d+\.\d+\.\d+\+/.test(rest))
      ignored.push({ name, why: 'build metadata (`+...`) is not allowed in a module version' });
    else if (/^v\d+(\.\d+)*([-.].*)?$/.test(rest) && !/^v\d+$/.test(rest) && !/^v\d+\.\d+$/.test(rest))
      ignored.push({ name, why: 'not a semantic version vX.Y.Z' });
    else if (/^v\d+\.\d+$/.test(rest))
      ignored.push({ name, why: 'vX.Y is not a module version (vX.Y.Z is)' });
  }
  return { tags, ignored };
}

/** Names of tags reachable from HEAD (the history this release contains). */
export async function reachableTags(git: Git, mod: GoModule): Promise<Set<string>> {
  const out = await git.out([
    'for-each-ref',
    '--merged',
    'HEAD',
    '--format=%(refname:strip=2)',
    mod.tagPrefix ? `refs/tags/${mod.tagPrefix}` : 'refs/tags/',
  ]);
  return new Set(out ? out.split('\n') : []);
}

/** Pathspecs of one module: its directory without the modules nested in it. */
function modulePathspecs(mod: GoModule): string[] {
  return [mod.dir === '.' ? '.' : mod.dir, ...mod.nested.map((d) => `:(exclude)${d}`)];
}

const FIELD = '\x1f';
const RECORD = '\x1e';

/** Commits in `from..HEAD` (all of HEAD's history without `from`) that touch the module, newest first. */
export async function commitsSince(git: Git, from: string | undefined, mod: GoModule): Promise<Commit[]> {
  const out = (
    await git.run([
      'log',
      `--format=%H${FIELD}%s${FIELD}%b${RECORD}`,
      from ? `${from}..HEAD` : 'HEAD',
      '--',
      ...modulePathspecs(mod),
    ])
  ).stdout;
  return out
    .split(RECORD)
    .map((r) => r.replace(/^\n/, ''))
    .filter((r) => r.includes(FIELD))
    .map((r) => {
      const [sha, subject, body] = r.split(FIELD);
      return { sha, subject, body: body.trim() };
    });
}

/**
 * Makes the history deep enough to see the last release: a shallow clone (actions/checkout's
 * default depth 1) is deepened step by step until a tag of this module is reachable from HEAD, then
 * unshallowed as a last resort. Users do not need `fetch-depth: 0`.
 */
export async function deepenUntilTagged(
  git: Git,
  remote: string,
  mod: GoModule,
  hasTags: boolean,
): Promise<void> {
  if ((await git.out(['rev-parse', '--is-shallow-repository'])) !== 'true') return;
  if (!hasTags) {
    log.info(
      'Shallow clone and no release tag of this module yet: fetching the full history for the changelog.',
    );
    await git.run(['fetch', '--quiet', '--unshallow', '--no-tags', remote]);
    return;
  }
  for (let depth = 50; depth <= 3200; depth *= 4) {
    if ((await reachableTags(git, mod)).size) return;
    log.info(`Shallow clone: no release tag reachable yet; deepening by ${depth} commits`);
    await git.run(['fetch', '--quiet', `--deepen=${depth}`, '--no-tags', remote]);
    if ((await git.out(['rev-parse', '--is-shallow-repository'])) !== 'true') return;
  }
  if ((await reachableTags(git, mod)).size) return;
  log.info('Shallow clone: fetching the full history');
  await git.run(['fetch', '--quiet', '--unshallow', '--no-tags', remote]);
}

/** The remote's tags, replacing local copies that differ (the remote is the record of releases). */
export async function fetchTags(git: Git, remote: string): Promise<void> {
  await git.run(['fetch', '--quiet', '--no-recurse-submodules', remote, '+refs/tags/*:refs/tags/*']);
}

export type PushOutcome = { kind: 'pushed' } | { kind: 'taken' };

/**
 * Pushes one new tag without force. When the push fails, the remote is asked whether the tag exists
 * now: if so another run tagged first (`taken`, whether git said "already exists" or the server
 * failed to lock the ref); if not, the push was refused (no permission, a protected-tag rule) and the
 * error says so.
 */
export async function pushTag(git: Git, remote: string, tag: string): Promise<PushOutcome> {
  const ref = `refs/tags/${tag}`;
  const r = await git.run(['push', '--porcelain', remote, `${ref}:${ref}`], { check: false });
  if (r.code === 0) return { kind: 'pushed' };
  const there = await git.run(['ls-remote', '--tags', remote, ref], { check: false });
  if (there.code === 0 && there.stdout.trim()) return { kind: 'taken' };
  const text = `${r.stdout}\n${r.stderr}`;
  throw new UserError(
    `git push of tag ${tag} to ${remote} was refused:\n${text.trim().split('\n').slice(-6).join('\n')}\nThe token needs \`contents: write\` (permissions in the workflow), and a tag protection rule must allow it. Nothing was tagged: the local tag was removed.`,
  );
}
