import { headCommit } from '../runner/git.js';
import { runCommand } from '../runner/command.js';
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
  let project = given.project;
  if (!project) {
    const m = await runCommand('go', ['list', '-m'], { cwd: dir, check: false });
    const mod = m.code === 0 ? m.stdout.trim().split('\n')[0] : basename(dir);
    // The module path's last element that is not a /vN suffix, as GoReleaser names the project.
    project =
      mod
        .split('/')
        .filter((p) => !/^v[2-9]\d*$/.test(p))
        .at(-1) ?? 'project';
  }
  return { version, commit, shortCommit, commitTime, project, tag, snapshot: !tag || described !== tag };
}
