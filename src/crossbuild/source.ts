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
  const { sha: commit, shortSha: shortCommit, time: commitTime } = await headCommit(dir);
  const d = await git(['describe', '--tags', '--match', 'v[0-9]*', '--always', '--dirty']);
  const described = d.code === 0 ? d.stdout.trim() : '';
  const last = await git(['describe', '--tags', '--abbrev=0', '--match', 'v[0-9]*']);
  const tag = last.code === 0 ? last.stdout.trim() : '';
  const version =
    given.version ?? (/^v\d/.test(described) ? described.slice(1) : `0.0.0-${described || 'dev'}`);
  const m = await runCommand('go', ['list', '-m'], { cwd: dir, check: false });
  const modulePath = m.code === 0 ? m.stdout.trim().split('\n')[0] : '';
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
  const out = async (args: string[]) => {
    const r = await git(args);
    return r.code === 0 ? r.stdout.trim() : '';
  };
  const previous = tag
    ? await out(['describe', '--tags', '--abbrev=0', '--match', 'v[0-9]*', `${tag}^`])
    : '';
  const contents = tag ? await out(['tag', '-l', '--format=%(contents)', tag]) : '';
  const [subject = '', ...body] = contents.split('\n');
  const facts: GitFacts = {
    branch: await out(['rev-parse', '--abbrev-ref', 'HEAD']),
    previousTag: previous,
    summary: described,
    url: withoutCredentials(await out(['remote', 'get-url', 'origin'])),
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
