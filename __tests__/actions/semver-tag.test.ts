import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir, runAction } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { notifyReceiver } from '../helpers/notify-receiver.js';
import { startGitHubApi, type GitHubApi } from '../helpers/github-api.js';
import { githubServerOf } from '../../src/host/local-runner.js';
import { testRepo } from '../helpers/git.js';

const IDENTITY = {
  GIT_AUTHOR_NAME: 'Dev',
  GIT_AUTHOR_EMAIL: 'dev@example.com',
  GIT_COMMITTER_NAME: 'Dev',
  GIT_COMMITTER_EMAIL: 'dev@example.com',
};

/** A bare remote and a clone of it on `main`, with helpers to commit, push and read tags. */
function repository(modulePath = 'example.com/lib') {
  const root = tempDir('semver');
  const repo = testRepo(join(root, 'work'), { origin: true, env: IDENTITY });
  const [work, remote] = [repo.dir, repo.origin!];
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...IDENTITY } }).trim();
  const r = {
    root,
    remote,
    work,
    git: repo.git,
    write(file: string, text: string) {
      mkdirSync(dirname(join(work, file)), { recursive: true });
      writeFileSync(join(work, file), text);
    },
    /** Commits a change to `file` (default: a file in the root module) and pushes it. */
    commit(message: string, file = 'lib.go') {
      r.write(file, `package lib\n\n// ${Math.random()}\n`);
      git(work, 'add', '-A');
      git(work, 'commit', '-q', '-m', message);
      git(work, 'push', '-q', 'origin', 'HEAD');
      return git(work, 'rev-parse', 'HEAD');
    },
    tag(name: string, at = 'HEAD') {
      git(work, 'tag', '-a', '-m', name, name, at);
      git(work, 'push', '-q', 'origin', `refs/tags/${name}`);
    },
    remoteTags(): Record<string, string> {
      const out = git(root, 'ls-remote', '--tags', remote);
      return Object.fromEntries(
        out
          .split('\n')
          .filter((l) => l.endsWith('^{}'))
          .map((l) => {
            const [sha, ref] = l.split('\t');
            return [ref.slice('refs/tags/'.length, -3), sha];
          }),
      );
    },
  };
  r.write('go.mod', `module ${modulePath}\n\ngo 1.22\n`);
  return r;
}

const semverTag = (work: string, withs: string[] = [], env: Record<string, string> = {}) =>
  runAction('semver-tag', { workspace: work, with: withs, env: { GITHUB_TOKEN: '', ...env } });

describeWith('git', hasCommand('git'), 'semver-tag on real repositories', () => {
  test('the first release is v0.1.0; a re-run on the same commit creates nothing', async () => {
    const r = repository();
    r.commit('feat: first');
    const first = await semverTag(r.work);
    expect(first.code).toBe(0);
    expect(first.outputs).toMatchObject({
      tag: 'v0.1.0',
      version: '0.1.0',
      created: 'true',
      'previous-tag': '',
    });
    expect(r.remoteTags()).toEqual({ 'v0.1.0': r.git('rev-parse', 'HEAD') });
    expect(r.git('cat-file', '-t', 'v0.1.0')).toBe('tag'); // annotated
    const again = await semverTag(r.work);
    expect(again.code).toBe(0);
    expect(again.outputs).toMatchObject({ tag: 'v0.1.0', created: 'false', bump: 'none' });
    expect(again.stderr).toContain('HEAD is already tagged v0.1.0: nothing to create.');
    expect(Object.keys(r.remoteTags())).toEqual(['v0.1.0']);
  }, 60_000);

  test('a new release is told to notify (release-published); a run that tags nothing tells no one', async () => {
    const r = repository();
    r.commit('feat: first');
    const hook = await notifyReceiver();
    try {
      const first = await semverTag(r.work, [`notify=${hook.line}`], { GITHUB_ACTOR: 'octocat' });
      expect(first.outputs).toMatchObject({ tag: 'v0.1.0', created: 'true' });
      await semverTag(r.work, [`notify=${hook.line}`]);
    } finally {
      await hook.close();
    }
    expect(hook.told.map((t) => [t.event, t.body.version, t.body.actor, t.signed])).toEqual([
      ['release-published', 'v0.1.0', 'octocat', true],
    ]);
    expect(hook.told[0].body.subject).toBe('example.com/lib');
  }, 60_000);

  test('every bullet of a squash merge counts; the changelog groups them with PR links', async () => {
    const r = repository();
    r.commit('chore: start');
    r.tag('v1.2.3');
    r.commit(
      'Parser improvements (#12)\n\n* fix: handle empty input\n\n* feat(parse): accept tabs\n\n* docs: typo',
    );
    const res = await semverTag(r.work, [], {
      GITHUB_REPOSITORY: 'o/r',
      GITHUB_SERVER_URL: 'https://github.com',
    });
    expect(res.outputs).toMatchObject({
      tag: 'v1.3.0',
      bump: 'minor',
      'previous-tag': 'v1.2.3',
      created: 'true',
    });
    expect(res.outputs.changelog).toContain(
      '### Features\n\n- **parse:** accept tabs ([#12](https://github.com/o/r/pull/12))',
    );
    expect(res.outputs.changelog).toContain('### Fixes\n\n- handle empty input ([#12]');
    expect(res.outputs.changelog).not.toContain('typo');
    expect(res.summary).toContain('feat(parse) (of 3 changes)');
  }, 60_000);

  test('breaking changes: minor while at v0; at v1 a v2 without /v2 is refused with the fix; with /v2 it is tagged', async () => {
    const r = repository();
    r.commit('feat: a');
    r.tag('v0.3.1');
    r.commit('feat!: drop the old API');
    expect((await semverTag(r.work)).outputs).toMatchObject({ tag: 'v0.4.0', bump: 'major' });

    const v1 = repository();
    v1.commit('feat: a');
    v1.tag('v1.4.0');
    v1.commit('refactor: new client\n\nBREAKING CHANGE: Client.Do takes a context');
    const refused = await semverTag(v1.work);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('The next version is v2.0.0, but example.com/lib cannot be tagged v2');
    expect(refused.stderr).toContain('go mod edit -module example.com/lib/v2');
    expect(Object.keys(v1.remoteTags())).toEqual(['v1.4.0']);
    expect(v1.git('tag', '--list')).toBe('v1.4.0');

    v1.write('go.mod', 'module example.com/lib/v2\n\ngo 1.22\n');
    v1.git('add', '-A');
    v1.git('commit', '-q', '-m', 'feat!: module path example.com/lib/v2');
    v1.git('push', '-q', 'origin', 'HEAD');
    expect((await semverTag(v1.work)).outputs).toMatchObject({ tag: 'v2.0.0', created: 'true' });
  }, 60_000);

  // Untrusted/odd input (#29 item 8): a tag past 2^53 was read as a JS number, and
  // v1.9007199254740993.0 plus a fix came out as a lower version.
  test('a tag with a number past 2^53 - 1 stops the release with a clear error; nothing is tagged', async () => {
    const r = repository();
    r.commit('feat: a');
    r.tag('v1.9007199254740993.0');
    r.commit('fix: b');
    const run = await semverTag(r.work);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'The tag v1.9007199254740993.0 has a version number past 9007199254740991, more than go-ship counts exactly',
    );
    expect(run.stderr).not.toContain('go-ship bug');
    expect(Object.keys(r.remoteTags())).toEqual(['v1.9007199254740993.0']);
  }, 60_000);

  test('a release history of bot dependency updates (bodies quoting feat! and feat lines) and fixes is a patch, as maintainers released it', async () => {
    const fixture = (name: string) =>
      readFileSync(join(import.meta.dirname, '../fixtures/commits', name), 'utf8');
    const r = repository('example.com/lib/v2');
    r.commit('feat: a');
    r.tag('v2.3.0');
    const history = [
      `chore(deps): bump github.com/spf13/cobra from 1.8.1 to 1.9.0 (#801)\n\n${fixture('dependabot-squash.txt')}`,
      `build(deps): bump golang.org/x/net from 0.30.0 to 0.33.0 (#812)\n\n${fixture('dependabot-pr-body.txt')}`,
      `fix(deps): update module github.com/prometheus/client_golang to v1.21.0 (#815)\n\n${fixture('renovate-pr-body.txt')}`,
      'fix: a nil map in the handler (#820)',
    ];
    for (const message of history) r.commit(message);
    const run = await semverTag(r.work);
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({ tag: 'v2.3.1', bump: 'patch', 'previous-tag': 'v2.3.0' });
    expect(run.outputs.changelog).not.toContain('a breaking change in client_golang');
    expect(run.outputs.changelog).not.toContain('quoted release notes');

    // Only dependency updates, and a team that releases them as patches (bump-rules with a scope).
    r.commit(
      `chore(deps): bump github.com/spf13/cobra from 1.9.0 to 1.9.1 (#830)\n\n${fixture('dependabot-squash.txt')}`,
    );
    expect((await semverTag(r.work, ['dry-run=true'])).outputs).toMatchObject({ bump: 'none' });
    const deps = await semverTag(r.work, ['bump-rules=chore(deps): patch']);
    expect(deps.outputs).toMatchObject({ tag: 'v2.3.2', bump: 'patch' });
  }, 60_000);

  test('nested modules: dir/vX.Y.Z tags, each module counts only its own commits', async () => {
    const r = repository();
    r.write('tools/go.mod', 'module example.com/lib/tools\n\ngo 1.22\n');
    r.commit('feat: both');
    r.tag('v1.0.0');
    r.tag('tools/v0.1.0');
    r.commit('fix(tools): flag parsing', 'tools/main.go');
    const root = await semverTag(r.work);
    expect(root.outputs).toMatchObject({ bump: 'none', created: 'false', tag: 'v1.0.0' });
    expect(root.stderr).toContain('Nothing to release');
    const tools = await semverTag(join(r.work, 'tools'));
    expect(tools.outputs).toMatchObject({
      tag: 'tools/v0.1.1',
      'previous-tag': 'tools/v0.1.0',
      version: '0.1.1',
    });
    r.commit('feat: root only');
    expect((await semverTag(r.work)).outputs).toMatchObject({ tag: 'v1.1.0' });
    expect((await semverTag(join(r.work, 'tools'))).outputs).toMatchObject({
      tag: 'tools/v0.1.1',
      created: 'false',
    });
  }, 90_000);

  test('a major-version subdirectory is not part of the tag (v2/ with module path .../v2)', async () => {
    const r = repository();
    r.write('v2/go.mod', 'module example.com/lib/v2\n\ngo 1.22\n');
    r.commit('feat: v2 line', 'v2/lib.go');
    const res = await semverTag(join(r.work, 'v2'), ['initial-version=v2.0.0']);
    expect(res.outputs).toMatchObject({ tag: 'v2.0.0', created: 'true' });
  }, 60_000);

  test('pre-release branches get -rc.N, counting up', async () => {
    const r = repository();
    r.commit('feat: a');
    r.tag('v1.0.0');
    r.git('checkout', '-q', '-b', 'next');
    r.commit('feat: b');
    const one = await semverTag(r.work, ['prerelease-branches=next: rc']);
    expect(one.outputs).toMatchObject({ tag: 'v1.1.0-rc.1', created: 'true' });
    r.commit('fix: c');
    expect((await semverTag(r.work, ['prerelease-branches=next: rc'])).outputs).toMatchObject({
      tag: 'v1.1.0-rc.2',
    });
    const other = await semverTag(r.work);
    expect(other.outputs).toMatchObject({ tag: 'v1.1.0', created: 'false' });
    expect(other.stderr).toContain('Branch next is not a release branch: v1.1.0 computed, not tagged.');
  }, 60_000);

  test('a depth-1 clone is deepened until the last release is found; no fetch-depth: 0 needed', async () => {
    const r = repository();
    r.commit('feat: a');
    r.tag('v1.0.0');
    for (let i = 0; i < 60; i++) r.commit(i === 30 ? 'feat: middle' : `fix: ${i}`);
    const shallow = join(r.root, 'shallow');
    execFileSync('git', ['clone', '-q', '--depth', '1', '--no-tags', `file://${r.remote}`, shallow]);
    execFileSync('git', ['-C', shallow, 'config', 'user.email', 'ci@example.com']);
    execFileSync('git', ['-C', shallow, 'config', 'user.name', 'CI']);
    const res = await semverTag(shallow);
    expect(res.code).toBe(0);
    expect(res.outputs).toMatchObject({ tag: 'v1.1.0', 'previous-tag': 'v1.0.0', created: 'true' });
    expect(res.stderr).toContain('Shallow clone: no release tag reachable yet; deepening by 50 commits');
    expect(res.summary).toContain('Commits since v1.0.0 (60)');
  }, 60_000);

  test('malformed tags are warned about and ignored', async () => {
    const r = repository();
    r.commit('feat: a');
    for (const t of ['1.9.0', 'v1.2', 'v1.10.0+meta', 'v01.2.3']) r.tag(t);
    r.tag('v0.5.0');
    r.commit('fix: b');
    const res = await semverTag(r.work);
    expect(res.code).toBe(0);
    expect(res.outputs.tag).toBe('v0.5.1');
    expect(res.stderr).toContain('warning: Ignoring tag 1.9.0: no `v` prefix; Go ignores it.');
    expect(res.stderr).toContain('warning: Ignoring tag v1.2: vX.Y is not a module version');
    expect(res.stderr).toContain('warning: Ignoring tag v1.10.0+meta: build metadata');
    expect(res.stderr).toContain('warning: Ignoring tag v01.2.3: not a semantic version');
  }, 60_000);

  test('a lost race: the push is rejected, tags are fetched, the next version is tagged; nothing is forced', async () => {
    const r = repository();
    r.commit('feat: a');
    r.tag('v1.0.0');
    const a = r.commit('fix: one');
    r.commit('fix: two');
    // Another run tags commit A as v1.0.1 between our plan and our push (a pre-push hook does it once).
    const other = join(r.root, 'other');
    execFileSync('git', ['clone', '-q', r.remote, other]);
    const hook = join(r.work, '.git', 'hooks', 'pre-push');
    writeFileSync(
      hook,
      `#!/bin/sh\n[ -f "${r.root}/raced" ] && exit 0\ntouch "${r.root}/raced"\ncd "${other}" && git -c user.name=o -c user.email=o@e tag -a -m other v1.0.1 ${a} && git push -q origin refs/tags/v1.0.1\n`,
    );
    chmodSync(hook, 0o755);
    const res = await semverTag(r.work);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain(
      'Another run pushed v1.0.1 first; fetching tags and planning again (attempt 2 of 5)',
    );
    expect(res.outputs).toMatchObject({ tag: 'v1.0.2', 'previous-tag': 'v1.0.1', created: 'true' });
    expect(r.remoteTags()).toEqual({
      'v1.0.0': expect.any(String),
      'v1.0.1': a,
      'v1.0.2': r.git('rev-parse', 'HEAD'),
    });
  }, 60_000);

  test('two concurrent runs that want the same version: no tag overwritten, each commit released once', async () => {
    const r = repository();
    r.commit('feat: a');
    r.tag('v1.0.0');
    // Both runs plan v1.0.1 (a fix each since v1.0.0); whoever pushes second loses the race.
    const a = r.commit('fix: one');
    const b = r.commit('fix: two');
    const clone = (name: string, sha: string) => {
      const dir = join(r.root, name);
      execFileSync('git', ['clone', '-q', r.remote, dir]);
      execFileSync('git', ['-C', dir, 'reset', '-q', '--hard', sha]);
      return dir;
    };
    const [ra, rb] = await Promise.all([semverTag(clone('run-a', a)), semverTag(clone('run-b', b))]);
    expect([ra.code, rb.code]).toEqual([0, 0]);
    const tags = r.remoteTags();
    if (ra.outputs.created === 'true') {
      // A won v1.0.1 (or ran first); B planned again on top of it.
      expect(tags).toEqual({ 'v1.0.0': expect.any(String), 'v1.0.1': a, 'v1.0.2': b });
      expect(rb.outputs).toMatchObject({ tag: 'v1.0.2', 'previous-tag': 'v1.0.1', created: 'true' });
    } else {
      // B won v1.0.1, which contains A's commit: A creates nothing rather than an older v1.0.2.
      expect(tags).toEqual({ 'v1.0.0': expect.any(String), 'v1.0.1': b });
      expect(ra.stderr).toContain('v1.0.1 was pushed meanwhile');
      expect(rb.outputs).toMatchObject({ tag: 'v1.0.1', created: 'true' });
    }
  }, 60_000);

  test('a version another branch released: a dry run warns, a release run fails and tags nothing', async () => {
    const r = repository();
    r.commit('feat: a');
    r.tag('v1.0.0');
    // A maintenance branch released v1.0.1; main, without it, asks for the same version.
    r.git('checkout', '-q', '-b', 'release-1.0');
    const fix = r.commit('fix: backport');
    r.tag('v1.0.1');
    r.git('checkout', '-q', 'main');
    r.commit('fix: on main');
    const dry = await semverTag(r.work, ['dry-run=true']);
    expect(dry.code).toBe(0);
    expect(dry.outputs).toMatchObject({ tag: 'v1.0.1', created: 'false' });
    expect(dry.stderr).toContain(
      `v1.0.1 already exists on ${fix.slice(0, 7)}, which is not in the history of HEAD`,
    );
    expect(dry.stderr).toContain('A release run here would fail.');
    const real = await semverTag(r.work);
    expect(real.code).not.toBe(0);
    expect(real.stderr + real.stdout).toContain('another branch released this version. Merge that branch');
    expect(Object.keys(r.remoteTags()).sort()).toEqual(['v1.0.0', 'v1.0.1']);
  }, 60_000);

  test('a push refused by the remote: a clear error, no local tag left, nothing pushed', async () => {
    const r = repository();
    r.commit('feat: a');
    const hook = join(r.remote, 'hooks', 'pre-receive');
    writeFileSync(hook, '#!/bin/sh\necho "permission denied to github-actions[bot]" >&2\nexit 1\n');
    chmodSync(hook, 0o755);
    const res = await semverTag(r.work);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('git push of tag v0.1.0 to origin was refused');
    expect(res.stderr).toContain('The token needs `contents: write`');
    expect(r.git('tag', '--list')).toBe('');
    expect(r.remoteTags()).toEqual({});
  }, 60_000);

  test('major-tag moves v1 to each new stable release, never a release tag', async () => {
    const r = repository();
    r.commit('feat: a');
    r.tag('v1.0.0');
    r.commit('feat: b');
    const first = await semverTag(r.work, ['major-tag=true']);
    expect(first.outputs).toMatchObject({ tag: 'v1.1.0', created: 'true' });
    const one = r.git('rev-parse', 'HEAD');
    r.commit('fix: c');
    await semverTag(r.work, ['major-tag=true']);
    const tags = r.remoteTags();
    expect(tags).toMatchObject({
      'v1.0.0': expect.any(String),
      'v1.1.0': one,
      'v1.1.1': r.git('rev-parse', 'HEAD'),
    });
    expect(tags.v1).toBe(r.git('rev-parse', 'HEAD'));
  }, 60_000);

  // Field report: runner work directories and checkouts are often reached through a link; the module
  // directory came out as `../../link` and `git log -- ../../link` failed as "a go-ship bug".
  test('a workspace reached through a symlink: the root module and a nested one are tagged', async () => {
    const r = repository();
    r.write('tools/go.mod', 'module example.com/lib/tools\n\ngo 1.22\n');
    r.commit('feat: both');
    r.tag('v1.0.0');
    r.commit('fix: root', 'lib.go');
    r.commit('feat(tools): flag', 'tools/main.go');
    const link = join(tempDir('semver-link'), 'checkout');
    symlinkSync(r.work, link);
    const root = await semverTag(link);
    expect(root.code).toBe(0);
    expect(root.stderr).not.toContain('go-ship bug');
    expect(root.outputs).toMatchObject({ tag: 'v1.0.1', 'previous-tag': 'v1.0.0', created: 'true' });
    const tools = await semverTag(join(link, 'tools'));
    expect(tools.code).toBe(0);
    expect(tools.outputs).toMatchObject({ tag: 'tools/v0.1.0', created: 'true' });
  }, 60_000);

  // Field report: 10 of 41 real changelogs had a squash subject repeated by its first bullet.
  test('a squash body repeating its subject gives one changelog line', async () => {
    const r = repository();
    r.commit('chore: start');
    r.tag('v1.0.0');
    r.commit('feat(api): add Client.Ping (#31)\n\n* feat(api): add Client.Ping\n\n* fix: retry on 503');
    const res = await semverTag(r.work);
    expect(res.code).toBe(0);
    expect(res.outputs.changelog.match(/add Client\.Ping/g)).toHaveLength(1);
    expect(res.outputs.changelog).toContain('retry on 503');
  }, 60_000);

  // Untrusted input: commit subjects reach the changelog, the release body and the summary.
  test('Markdown and mentions in a commit subject reach the changelog and summary inert', async () => {
    const r = repository();
    r.commit('chore: start');
    r.tag('v1.0.0');
    r.commit('feat: <img src=x onerror=alert(1)> [click](https://evil.example) @org/team <details>');
    const res = await semverTag(r.work, [], {
      GITHUB_REPOSITORY: 'o/r',
      GITHUB_SERVER_URL: 'https://github.com',
    });
    expect(res.code).toBe(0);
    for (const text of [res.outputs.changelog, res.summary]) {
      // (go-ship's own collapsible sections in the summary are <details><summary>…)
      expect(text).not.toMatch(/<img|<details>(?!<summary>)|\]\(https:\/\/evil|@org/);
      expect(text).toContain('&lt;details&gt;');
      expect(text).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(text).toContain('@\u200borg/team');
    }
  }, 60_000);

  test('HEAD already tagged: previous-tag is the release before it; nothing to release keeps tag and says so', async () => {
    const r = repository();
    r.commit('feat: a');
    r.tag('v1.0.0');
    r.commit('fix: b');
    r.tag('v1.0.1');
    const tagged = await semverTag(r.work);
    expect(tagged.outputs).toMatchObject({
      tag: 'v1.0.1',
      'previous-tag': 'v1.0.0',
      created: 'false',
      bump: 'none',
    });
    r.commit('docs: readme');
    const none = await semverTag(r.work);
    expect(none.outputs).toMatchObject({ tag: 'v1.0.1', version: '1.0.1', bump: 'none', created: 'false' });
    expect(none.stderr).toContain('The tag and version outputs stay at the latest release, v1.0.1.');
  }, 60_000);

  test('outside GitHub (the CLI on a non-GitHub remote) the changelog has no github.com links', async () => {
    const r = repository();
    r.commit('chore: start');
    r.tag('v1.0.0');
    r.commit('feat: thing (#4)');
    // The remote is a path here; the CLI used to call it github.com/<dir>/remote.
    const res = await semverTag(r.work);
    expect(res.outputs.changelog).toContain('- thing (#4) (');
    expect(res.outputs.changelog).not.toContain('https://');
  }, 60_000);

  test.each([
    ['https://github.com/o/r.git', {}, 'https://github.com'],
    ['git@github.com:o/r.git', {}, 'https://github.com'],
    ['ssh://git@github.com/o/r', {}, 'https://github.com'],
    ['https://gitlab.com/g/p.git', {}, undefined],
    ['git@gitlab.example.com:g/p.git', {}, undefined],
    ['/srv/git/p.git', {}, undefined],
    [
      'https://ghe.example.com/o/r.git',
      { GITHUB_SERVER_URL: 'https://ghe.example.com' },
      'https://ghe.example.com',
    ],
  ])('the GitHub server of remote %s', (remote, env, web) => {
    expect(githubServerOf(remote, env)?.web).toBe(web);
  });

  // A failing git fetch (a broken remote) was reported as "a go-ship bug".
  test('a remote that cannot be fetched fails with git’s own message, not as a go-ship bug', async () => {
    const r = repository();
    r.commit('feat: a');
    r.git('remote', 'set-url', 'origin', join(r.root, 'gone.git'));
    const res = await semverTag(r.work);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/does not appear to be a git repository|Could not read from remote/);
    expect(res.stderr).toContain("This is git's own message");
    expect(res.stderr).not.toContain('go-ship bug');
  }, 60_000);

  test('outside a git checkout: says so, without blaming an input the user never set', async () => {
    const dir = tempDir('semver-nogit');
    writeFileSync(join(dir, 'go.mod'), 'module example.com/x\n\ngo 1.22\n');
    const res = await semverTag(dir);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      `${dir} is not inside a git checkout: semver-tag reads the history and tags with git`,
    );
    expect(res.stderr).not.toContain('working-directory');
  }, 60_000);

  test('bad input and faults', async () => {
    const r = repository();
    r.commit('feat: a');
    const rule = await semverTag(r.work, ['bump-rules=feat: huge']);
    expect(rule.stderr).toContain(
      'Input `bump-rules` got `feat: huge`; it accepts lines `type: bump` or `type(scope): bump` where bump is major, minor, patch, none',
    );
    const init = await semverTag(r.work, ['initial-version=1.0']);
    expect(init.stderr).toContain('Input `initial-version` got `1.0`; it accepts a stable Go module version');
    r.write('docs/README.md', 'docs');
    const nomod = await semverTag(r.work, ['working-directory=docs']);
    expect(nomod.stderr).toContain('which has no go.mod');
    r.git('checkout', '-q', '--detach');
    const detached = await semverTag(r.work, [], { GITHUB_REF: 'refs/tags/x' });
    expect(detached.code).toBe(1);
    expect(detached.stderr).toContain('HEAD is detached and GITHUB_REF is refs/tags/x, not a branch');
    expect(r.remoteTags()).toEqual({});
  }, 60_000);
});

describeWith('git', hasCommand('git'), 'semver-tag with the GitHub API', () => {
  const TOKEN = 'ghs_semverTagLoopbackToken000';
  let api: GitHubApi;
  afterEach(async () => api?.close());
  const env = () => ({ GITHUB_API_URL: api.url, GITHUB_REPOSITORY: 'o/r', GITHUB_TOKEN: TOKEN });

  test('the merged PR label decides the bump; an unknown release label is an error', async () => {
    api = await startGitHubApi({ token: TOKEN });
    const r = repository();
    r.commit('feat: a');
    r.tag('v1.0.0');
    const sha = r.commit('fix: tiny');
    api.commitPulls.set(sha, [
      {
        number: 9,
        merged_at: '2026-11-20T00:00:00Z',
        merge_commit_sha: sha,
        labels: [{ name: 'release:major' }],
      },
    ]);
    // A GITHUB_REPOSITORY the job set wrongly is the user's to fix, named as such.
    const malformed = await semverTag(r.work, ['dry-run=true'], { ...env(), GITHUB_REPOSITORY: 'o/r/extra' });
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain('GITHUB_REPOSITORY is `o/r/extra`; it must be owner/repo');
    expect(malformed.stderr).not.toContain('go-ship bug');
    // v2 needs /v2; use a v0 module to see the label win over `fix`.
    const dry = await semverTag(r.work, ['dry-run=true', 'major-zero-breaking=major'], env());
    expect(dry.code).toBe(1);
    expect(dry.stderr).toContain('cannot be tagged v2');
    api.commitPulls.set(sha, [
      {
        number: 9,
        merged_at: '2026-11-20T00:00:00Z',
        merge_commit_sha: sha,
        labels: [{ name: 'release:minor' }],
      },
    ]);
    const minor = await semverTag(r.work, ['dry-run=true'], env());
    expect(minor.outputs).toMatchObject({ tag: 'v1.1.0', bump: 'minor', created: 'false' });
    expect(minor.summary).toContain('label release:minor on PR #9');
    api.commitPulls.set(sha, [
      {
        number: 9,
        merged_at: '2026-11-20T00:00:00Z',
        merge_commit_sha: sha,
        labels: [{ name: 'release:huge' }],
      },
    ]);
    const bad = await semverTag(r.work, [], env());
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      'PR #9 has the label `release:huge`; release labels are release:major, release:minor, release:patch, release:none',
    );
    expect(r.remoteTags()).toEqual({ 'v1.0.0': expect.any(String) });
  }, 60_000);

  test('a GitHub Release with the changelog; a re-run finds it instead of making another', async () => {
    api = await startGitHubApi({ token: TOKEN });
    const r = repository();
    r.commit('feat: first');
    const res = await semverTag(r.work, ['create-release=true'], env());
    expect(res.code).toBe(0);
    expect(api.releases).toEqual([expect.objectContaining({ tag_name: 'v0.1.0', prerelease: false })]);
    expect(api.releases[0].body).toContain('### Features');
    const again = await semverTag(r.work, ['create-release=true'], env());
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('GitHub Release exists');
    expect(api.releases).toHaveLength(1);
    for (const out of [res.stdout, res.stderr]) expect(out).not.toContain(TOKEN);
  }, 60_000);

  test('create-release: draft leaves the release a draft for build-matrix to publish; a re-run finds the draft', async () => {
    api = await startGitHubApi({ token: TOKEN });
    const r = repository();
    r.commit('feat: first');
    const res = await semverTag(r.work, ['create-release=draft'], env());
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('GitHub Release created (draft)');
    expect(api.releases).toEqual([expect.objectContaining({ tag_name: 'v0.1.0', draft: true })]);
    // GET /releases/tags/{tag} does not see drafts; the list does, so no second draft appears.
    const again = await semverTag(r.work, ['create-release=draft'], env());
    expect(again.code).toBe(0);
    expect(api.releases).toHaveLength(1);
    const bad = await semverTag(r.work, ['create-release=maybe'], env());
    expect(bad.stderr).toContain('Input `create-release` got `maybe`');
  }, 60_000);
});

describeWith('go and git', hasCommand('go', ['version']) && hasCommand('git'), 'semver-tag api-check', () => {
  test('an incompatible API change under a fix: commit is refused before tagging; an addition as a patch warns', async () => {
    const r = repository();
    r.write('lib.go', 'package lib\n\nfunc Parse(s string) int { return len(s) }\n');
    r.git('add', '-A');
    r.git('commit', '-q', '-m', 'feat: parse');
    r.git('push', '-q', 'origin', 'HEAD');
    r.tag('v1.0.0');
    r.write('lib.go', 'package lib\n\nfunc Parse(s string, strict bool) int { return len(s) }\n');
    r.git('commit', '-q', '-am', 'fix: strict parsing');
    r.git('push', '-q', 'origin', 'HEAD');
    const refused = await semverTag(r.work, ['api-check=true']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'api-check: the exported API of example.com/lib has incompatible changes since v1.0.0',
    );
    expect(refused.stderr).toContain('Parse: changed from func(string) int to func(string, bool) int');
    expect(r.remoteTags()).toEqual({ 'v1.0.0': expect.any(String) });

    r.write(
      'lib.go',
      'package lib\n\nfunc Parse(s string) int { return len(s) }\n\nfunc ParseStrict(s string) int { return len(s) }\n',
    );
    r.git('commit', '-q', '-am', 'fix: add strict parsing beside Parse');
    r.git('push', '-q', 'origin', 'HEAD');
    const ok = await semverTag(r.work, ['api-check=true']);
    expect(ok.code).toBe(0);
    expect(ok.outputs).toMatchObject({ tag: 'v1.0.1', created: 'true' });
    expect(ok.stderr).toContain(
      'warning: api-check: 1 exported addition(s) since v1.0.0 (ParseStrict: added), released as a patch',
    );
    expect(r.git('worktree', 'list').split('\n')).toHaveLength(1); // the temporary worktree is gone
  }, 600_000);
});

describeWith(
  'git and ssh-keygen',
  hasCommand('git') && hasCommand('sh', ['-c', 'command -v ssh-keygen']),
  'semver-tag signing',
  () => {
    test('sign: the tag is signed with the configured key (SSH signing, verified by git)', async () => {
      const r = repository();
      const key = join(r.root, 'signing');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'dev@example.com', '-f', key]);
      writeFileSync(join(r.root, 'allowed'), `dev@example.com ${readFileSync(`${key}.pub`, 'utf8')}`);
      r.git('config', 'gpg.format', 'ssh');
      r.git('config', 'user.signingkey', key);
      r.git('config', 'gpg.ssh.allowedSignersFile', join(r.root, 'allowed'));
      r.commit('feat: signed');
      const res = await semverTag(r.work, ['sign=true']);
      expect(res.outputs).toMatchObject({ tag: 'v0.1.0', created: 'true' });
      expect(() =>
        execFileSync('git', ['-C', r.work, 'tag', '-v', 'v0.1.0'], { stdio: 'pipe' }),
      ).not.toThrow();
      expect(r.git('cat-file', '-p', 'v0.1.0')).toContain('-----BEGIN SSH SIGNATURE-----');
    }, 60_000);
  },
);
