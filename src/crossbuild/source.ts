import { headCommit } from '../runner/git.js';
import { runCommand } from '../runner/command.js';
import { withoutCredentials } from '../runner/text.js';
import { basename } from 'node:path';

/** What a build stamps into binaries and names archives after. */
export interface Source {
  version: string;
  commit: string;
  /** git's own abbreviation (`%h`, as `git rev-parse --short`): 7 characters or more as the repository grows. */
  shortCommit?: string;
  commitTime: number;
  project: string;
  /** The newest tag HEAD descends from (`git describe --tags --abbrev=0`), '' without one. */
  tag: string;
  /** HEAD is not exactly at a version tag: GoReleaser calls such a build a snapshot. */
  snapshot: boolean;
  /** What GoReleaser's templates know of the checkout (its internal/git context), for the same fields. */
  git: GitFacts;
}

/** GoReleaser's git template fields, as its own git calls read them. */
export interface GitFacts {
  branch: string;
  /** The release tag before `tag` ('' without one). */
  previousTag: string;
  /** `git describe --tags --dirty --always`. */
  summary: string;
  /** The origin's URL, without credentials. */
  url: string;
  dirty: boolean;
  /** The tag's annotation: its first line, the whole message, the rest after the subject. */
  tagSubject: string;
  tagContents: string;
  tagBody: string;
  /** The main module's path (`go list -m`). */
  modulePath: string;
}

/**
 * Version, commit and commit time from git; SOURCE_DATE_EPOCH, `version` and `project` win when
 * given. Outside a git checkout the commit is empty and the version `0.0.0-dev`.
 */
export async function readSource(
  dir: string,
  given: { version?: string; project?: string },
): Promise<Source> {
  const git = (args: string[]) => runCommand('git', args, { cwd: dir, check: false });
  const out = async (args: string[]) => {
    const r = await git(args);
    return r.code === 0 ? r.stdout.trim() : '';
  };
  // Asked all at once: each is a process start, and none needs another's answer but the tag's two.
  const lastTag = out(['describe', '--tags', '--abbrev=0', '--match', 'v[0-9]*']);
  const tagFacts = lastTag.then((tag) =>
    Promise.all([
      tag ? out(['describe', '--tags', '--abbrev=0', '--match', 'v[0-9]*', `${tag}^`]) : '',
      tag ? out(['tag', '-l', '--format=%(contents)', tag]) : '',
    ]),
  );
  const [head, described, tag, [previous, contents], modulePath, branch, url] = await Promise.all([
    headCommit(dir),
    out(['describe', '--tags', '--match', 'v[0-9]*', '--always', '--dirty']),
    lastTag,
    tagFacts,
    runCommand('go', ['list', '-m'], { cwd: dir, check: false }).then((m) =>
      m.code === 0 ? m.stdout.trim().split('\n')[0] : '',
    ),
    out(['rev-parse', '--abbrev-ref', 'HEAD']),
    out(['remote', 'get-url', 'origin']),
  ]);
  const { sha: commit, shortSha: shortCommit, time: commitTime } = head;
  const version =
    given.version ?? (/^v\d/.test(described) ? described.slice(1) : `0.0.0-${described || 'dev'}`);
  let project = given.project;
  if (!project) {
    const mod = modulePath || basename(dir);
    // The module path's last element that is not a /vN suffix, as GoReleaser names the project.
    project =
      mod
        .split('/')
        .filter((p) => !/^v[2-9]\d*$/.test(p))
        .at(-1) ?? 'project';
  }
  const [subject = '', ...body] = contents.split('\n');
  const facts: GitFacts = {
    branch,
    previousTag: previous,
    summary: described,
    url: withoutCredentials(url),
    dirty: described.endsWith('-dirty'),
    tagSubject: subject,
    tagContents: contents,
    tagBody: body.join('\n').trim(),
    modulePath,
  };
  return {
    version,
    commit,
    shortCommit,
    commitTime,
    project,
    tag,
    snapshot: !tag || described !== tag,
    git: facts,
  };
}
