import { gitLocation } from '../runner/git.js';
import { inBackground, runCommand, type CommandResult } from '../runner/command.js';
import { UserError } from '../runner/errors.js';
import { log } from '../runner/log.js';
import type { Commit } from './commits.js';
import type { GoModule } from './module.js';
import { compareVersions, isOutOfRange, parseVersion, type SemVer } from './semver.js';

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
  /** The commit HEAD was at when the tags were read (undefined before the first commit). */
  head?: string;
  /**
   * `git describe`'s nearest release tag of HEAD, asked alongside the read and still under way when
   * the scan returns (see nearestTag).
   */
  nearest?: Promise<CommandResult>;
}

/**
 * This module's release tags: `<prefix>vX.Y.Z[-pre]`. Tags of other modules are not looked at; tags
 * that look like ours but are not valid Go versions are reported (never a crash). Read with
 * `git show-ref --tags -d`, which takes annotated tags' commits from packed-refs' peel records
 * instead of opening every tag object (20,000 tags: 23 ms, against 378 ms for for-each-ref's
 * `%(*objectname)`). `--head` adds HEAD's commit to the same answer: one git process less.
 */
export async function scanTags(
  git: Git,
  mod: Pick<GoModule, 'tagPrefix'>,
  /**
   * Also ask describe for HEAD's nearest release tag, at the same time: latestReachable's first
   * question, answered while the tags are read and parsed (at 20,000 tags that read and parse grew
   * with the tags; describe takes longer, and both run at once). Not for a shallow clone that may
   * still be deepened.
   */
  o: { nearest?: boolean } = {},
): Promise<TagScan> {
  const nearest = o.nearest ? inBackground(nearestTag(git, mod.tagPrefix, [])) : undefined;
  const r = await git.run(['show-ref', '--head', '--tags', '-d'], { check: false });
  if (r.code !== 0 && r.code !== 1)
    throw new Error(`git show-ref --tags failed (exit code ${r.code}): ${r.stderr.trim().slice(-400)}`);
  const tags: ModuleTag[] = [];
  const ignored: TagScan['ignored'] = [];
  let head: string | undefined;
  const out = r.stdout;
  // `<commit> HEAD` first, then `<object> refs/tags/<name>`, each annotated tag's `<commit>
  // refs/tags/<name>^{}` right after it. One pass over the text, without a list of its lines: at
  // 20,000 tags that list and two maps of every tag were most of the scan's time.
  for (let at = 0, end = 0; at < out.length; at = end + 1) {
    end = out.indexOf('\n', at);
    if (end < 0) end = out.length;
    const space = out.indexOf(' ', at);
    if (space < 0 || space > end || space - at < 40) continue;
    if (!out.startsWith('refs/tags/', space + 1)) {
      if (end - space === 5 && out.startsWith('HEAD', space + 1)) head = out.slice(at, space);
      continue;
    }
    const name = out.slice(space + 11, end);
    if (name.endsWith('^{}')) {
      const last = tags.at(-1);
      if (last?.name === name.slice(0, -3)) last.commit = out.slice(at, space);
      continue;
    }
    if (!name.startsWith(mod.tagPrefix)) continue;
    const rest = name.slice(mod.tagPrefix.length);
    if (rest.includes('/')) continue; // a nested module's tag
    const version = parseVersion(rest);
    if (version) {
      tags.push({ name, version, commit: out.slice(at, space) });
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
  return { tags, ignored, head, ...(nearest ? { nearest } : {}) };
}

/** Names of tags reachable from HEAD (the history this release contains); `refs` narrows the tags asked about. */
export async function reachableTags(git: Git, mod: GoModule, refs?: string[]): Promise<Set<string>> {
  const out = await git.out([
    'for-each-ref',
    '--merged',
    'HEAD',
    '--format=%(refname:strip=2)',
    ...(refs ?? [mod.tagPrefix ? `refs/tags/${mod.tagPrefix}` : 'refs/tags/']),
  ]);
  return new Set(out ? out.split('\n') : []);
}

/**
 * The highest stable release in HEAD's history, below `under` when given, not counting the tags in
 * `skip` (the ones at HEAD). Asking git which of thousands of tags HEAD contains walks the whole
 * history (1.6 s at 200,000 commits); `git describe` walks back from HEAD only as far as the nearest
 * release, as a person finding the last release would. The nearest release is nearly always the
 * highest; the few stable tags above it (a release of another branch) are then asked about by name
 * in one walk, so the answer is the same as asking about every tag.
 */
export async function latestReachable(
  git: Git,
  mod: GoModule,
  tags: ModuleTag[],
  o: {
    under?: SemVer;
    skip?: string[];
    /** describe's answer with nothing excluded, asked beforehand (TagScan.nearest): its first question. */
    nearest?: Promise<CommandResult>;
  } = {},
): Promise<ModuleTag | undefined> {
  const skip = new Set(o.skip ?? []);
  // Not sorted: describe names the nearest tag, and only the few versions above it are ordered
  // (sorting 20,000 tags took longer than reading them).
  const stable = tags.filter(
    (t) =>
      !t.version.pre.length && !skip.has(t.name) && (!o.under || compareVersions(t.version, o.under) < 0),
  );
  if (!stable.length) return undefined;
  // Tag names cannot hold glob characters (git check-ref-format), so a name is its own pattern.
  const excluded = [...skip];
  let nearest: ModuleTag | undefined;
  let found = false;
  // After 20 tags that are not candidates (an unusual history), every candidate is asked about.
  for (let tries = 0; tries < 20 && !found; tries++) {
    // A skipped tag in the answer given beforehand is passed over below, as any non-candidate is.
    const r = tries === 0 && o.nearest ? await o.nearest : await nearestTag(git, mod.tagPrefix, excluded);
    if (r.code !== 0)
      found = true; // no such tag in HEAD's history
    else {
      const name = r.stdout.trim();
      nearest = stable.find((t) => t.name === name);
      // A tag the pattern matches that is not a candidate (vX.Y, a version at or above `under`): past it.
      if (nearest) found = true;
      else excluded.push(name);
    }
  }
  // describe found none: every candidate matches its pattern, so none is in HEAD's history.
  if (found && !nearest) return undefined;
  const above = (
    nearest ? stable.filter((t) => compareVersions(t.version, nearest.version) > 0) : stable
  ).sort((a, b) => compareVersions(b.version, a.version));
  if (!above.length) return nearest;
  const reachable = await reachableTags(
    git,
    mod,
    above.map((t) => `refs/tags/${t.name}`),
  );
  return above.find((t) => reachable.has(t.name)) ?? nearest;
}

/** The nearest tag in HEAD's history that looks like a stable release of the module, but `excluded`. */
function nearestTag(git: Git, prefix: string, excluded: string[]): Promise<CommandResult> {
  return git.run(
    [
      'describe',
      '--tags',
      '--abbrev=0',
      `--match=${prefix}v[0-9]*`,
      `--exclude=${prefix}v*-*`,
      `--exclude=${prefix}v*/*`,
      ...excluded.map((name) => `--exclude=${name}`),
      'HEAD',
    ],
    { check: false },
  );
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
  /** Whether the checkout is shallow, asked before the tags were fetched (fetching them does not change it). */
  shallow: boolean,
): Promise<void> {
  if (!shallow) return;
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
    if (!(await isShallow(git))) return;
  }
  if ((await reachableTags(git, mod)).size) return;
  log.info('Shallow clone: fetching the full history');
  await git.run(['fetch', '--quiet', '--unshallow', '--no-tags', remote]);
}

export async function isShallow(git: Git): Promise<boolean> {
  return (await git.out(['rev-parse', '--is-shallow-repository'])) === 'true';
}

/**
 * The remote's tags fetched, then this module's scanned. A full clone often has them all already
 * (actions/checkout with fetch-depth: 0 fetches tags; so does a re-run): the remote's list (`git
 * ls-remote --tags`) is read while the local tags are scanned, and the fetch runs only when one of
 * this module's release tags is new there or points elsewhere. At 20,000 tags and 200,000 commits
 * the list took 40 ms and a fetch that found nothing new 350 ms (its connectivity check walks every
 * tag). A shallow clone fetches at once: checkout's default fetched no tags.
 */
export async function fetchAndScanTags(
  git: Git,
  remote: string,
  mod: Pick<GoModule, 'tagPrefix'>,
  shallow: boolean,
): Promise<TagScan> {
  if (!shallow) {
    const listed = inBackground(git.run(['ls-remote', '--tags', remote], { check: false }));
    const scan = await scanTags(git, mod, { nearest: true });
    const l = await listed;
    // A failed list falls through to the fetch, which reports the remote's problem.
    const news = l.code === 0 ? newOnRemote(l.stdout, scan, mod.tagPrefix) : undefined;
    if (news?.length === 0) return scan;
    // Only the new tags when they are few: fetch checks every tip it is given against every ref
    // (20,000 tags: 190 ms for one tag, 410 ms for all of them).
    if (news && news.length <= 100) {
      await fetchTags(git, remote, news);
      return scanTags(git, mod, { nearest: true });
    }
  }
  await fetchTags(git, remote);
  // A shallow clone may be deepened next, which can change describe's answer: not asked ahead there.
  return scanTags(git, mod, { nearest: !shallow });
}

/**
 * The release tags of the module (versions Go accepts) that ls-remote lists and the scan lacks or
 * has on another commit. Other tags (`latest`, other modules') are not what a plan reads.
 */
function newOnRemote(listing: string, scan: TagScan, prefix: string): string[] {
  const remote = new Map<string, string>();
  // `<object>\trefs/tags/<name>`, and after an annotated tag `<commit>\trefs/tags/<name>^{}`.
  for (const line of listing.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0 || !line.startsWith(`refs/tags/${prefix}`, tab + 1)) continue;
    const ref = line.slice(tab + 11);
    const name = ref.endsWith('^{}') ? ref.slice(0, -3) : ref;
    if (parseVersion(name.slice(prefix.length))) remote.set(name, line.slice(0, tab));
  }
  const local = new Map(scan.tags.map((t) => [t.name, t.commit]));
  return [...remote].filter(([name, commit]) => local.get(name) !== commit).map(([name]) => name);
}

/**
 * The remote's tags, or only those named (versions: no glob or `:` in them), replacing local copies
 * that differ (the remote is the record of releases).
 */
export async function fetchTags(git: Git, remote: string, names?: string[]): Promise<void> {
  const refspecs = names ? names.map((n) => `+refs/tags/${n}:refs/tags/${n}`) : ['+refs/tags/*:refs/tags/*'];
  await git.run(['fetch', '--quiet', '--no-recurse-submodules', remote, ...refspecs]);
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
