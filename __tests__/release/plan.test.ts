import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RULES } from '../../src/release/commits.js';
import {
  Git,
  fetchAndScanTags,
  latestReachable,
  reachableTags,
  scanTags,
} from '../../src/release/git-tags.js';
import type { GoModule } from '../../src/release/module.js';
import { planRelease, type ReleaseRules } from '../../src/release/plan.js';
import { compareVersions, parseVersion } from '../../src/release/semver.js';
import { testRepo } from '../helpers/git.js';

// The rules that decide the next version, tested straight against planRelease on a real git
// history (milliseconds), not only through the semver-tag bundle.
const root: GoModule = { path: 'example.com/lib', dir: '.', tagPrefix: '', nested: [], isGo: true };

function history(commits: (string | { tag: string })[]) {
  const repo = testRepo(mkdtempSync(join(tmpdir(), 'plan-')), {
    files: { 'go.mod': 'module example.com/lib\n' },
  });
  repo.git('add', '-A');
  repo.git('commit', '-q', '-m', 'chore: start');
  // Each commit changes a file in the module: commits that touch nothing of it do not count.
  commits.forEach((c, i) => {
    if (typeof c !== 'string') return void repo.git('tag', c.tag);
    writeFileSync(join(repo.dir, `f${i}.go`), 'package lib\n');
    repo.git('add', '-A');
    repo.git('commit', '-q', '-m', c);
  });
  return new Git(repo.dir);
}

const rules = (over: Partial<ReleaseRules> = {}): ReleaseRules => ({
  mod: root,
  rules: DEFAULT_RULES,
  defaultBump: 'patch',
  initialVersion: parseVersion('v0.1.0')!,
  majorZeroBreaking: 'minor',
  ...over,
});

test('the highest bump since the last release decides, and says which commit', async () => {
  const plan = await planRelease(
    history([{ tag: 'v1.2.3' }, 'fix: a', 'feat: b', 'docs: c']),
    rules({ defaultBump: 'none' }),
  );
  expect(plan.previous?.name).toBe('v1.2.3');
  expect(plan.next?.tag).toBe('v1.3.0');
  expect(plan.decidedBy).toMatch(/^commit [0-9a-f]{7} “feat: b” \(.* → minor\)$/);
  expect(plan.decisions).toHaveLength(3);
});

test('a breaking change before v1 bumps the minor unless major-zero-breaking says major', async () => {
  const git = history([{ tag: 'v0.4.1' }, 'feat!: drop the old API']);
  expect((await planRelease(git, rules())).next?.tag).toBe('v0.5.0');
  expect((await planRelease(git, rules({ majorZeroBreaking: 'major' }))).next?.tag).toBe('v1.0.0');
});

test('the first release is initial-version; HEAD already tagged releases nothing', async () => {
  expect((await planRelease(history(['feat: first']), rules())).next?.tag).toBe('v0.1.0');
  const tagged = await planRelease(history(['feat: first', { tag: 'v0.3.0' }]), rules());
  expect(tagged.next).toBeUndefined();
  expect(tagged.existing?.name).toBe('v0.3.0');
  expect(tagged.decidedBy).toBe('HEAD is already tagged v0.3.0');
});

test('pre-release branches count up their identifier from the tags already made', async () => {
  const git = history([{ tag: 'v1.0.0' }, 'feat: x', { tag: 'v1.1.0-rc.1' }, 'fix: y']);
  expect((await planRelease(git, rules({ prerelease: 'rc' }))).next?.tag).toBe('v1.1.0-rc.2');
});

test("a PR's release label overrides the commits; commits that ask for nothing release nothing", async () => {
  const git = history([{ tag: 'v1.4.0' }, 'docs: typo']);
  const none = await planRelease(git, rules({ defaultBump: 'none' }));
  expect(none.next).toBeUndefined();
  expect(none.decidedBy).toBe('1 commit(s) since v1.4.0, none asks for a release');
  const labelled = await planRelease(
    git,
    rules({ defaultBump: 'none', label: { bump: 'minor', pr: 7, name: 'release:minor' } }),
  );
  expect([labelled.next?.tag, labelled.decidedBy]).toEqual(['v1.5.0', 'label release:minor on PR #7']);
});

test('a major past the module path is refused: example.com/lib cannot be tagged v2', async () => {
  await expect(planRelease(history([{ tag: 'v1.9.0' }, 'feat!: break']), rules())).rejects.toThrow(/v2/);
});

// The last release is found with git describe (a walk from HEAD to the nearest release) instead of
// asking which of every tag HEAD contains (a walk of the whole history). It must give the same answer
// as asking about every tag, on the histories where the nearest release is not the highest.
test('latestReachable agrees with asking git about every tag: branches, merges, backports, odd tags, annotated tags', async () => {
  const repo = testRepo(mkdtempSync(join(tmpdir(), 'latest-')), {
    files: { 'go.mod': 'module example.com/lib\n' },
    message: 'chore: start',
  });
  let n = 0;
  const commit = () => {
    writeFileSync(join(repo.dir, `f${n++}.go`), 'package lib\n');
    repo.git('add', '-A');
    repo.git('commit', '-q', '-m', `fix: ${n}`);
    return repo.git('rev-parse', 'HEAD');
  };
  repo.git('tag', 'v1.0.0');
  const tagged = commit();
  repo.git('tag', '-a', '-m', 'annotated', 'v1.1.0');
  const forked = commit();
  // A release of another branch, never merged: higher, not in main's history.
  repo.git('checkout', '-q', '-b', 'next');
  commit();
  repo.git('tag', 'v2.0.0');
  // A side branch with a release that is merged back: reachable only through a merge's second parent.
  repo.git('checkout', '-q', '-b', 'side', forked);
  commit();
  repo.git('tag', 'v1.3.0');
  repo.git('checkout', '-q', 'main');
  commit();
  const beforeMerge = repo.git('rev-parse', 'HEAD');
  repo.git('merge', '-q', '--no-ff', '-m', 'merge side', 'side');
  // A backport tagged later with a lower version: the nearest release, not the highest.
  commit();
  repo.git('tag', 'v1.2.5');
  // Tags the version pattern matches that are not stable versions, nearest of all.
  commit();
  for (const odd of ['v1.4.0.1', 'v1.4.0-rc.1', 'v7', 'sub/v9.0.0']) repo.git('tag', odd);
  // An annotated tag the scan ignores, right after a release tag: its peeled line is not that release's.
  repo.git('tag', '-a', '-m', 'not a version', 'v1.4');
  commit();
  const git = new Git(repo.dir);
  const brute = async (under?: string) => {
    const { tags } = await scanTags(git, root);
    const reachable = await reachableTags(git, root);
    const u = under ? parseVersion(under) : undefined;
    return tags
      .filter(
        (t) => reachable.has(t.name) && !t.version.pre.length && (!u || compareVersions(t.version, u) < 0),
      )
      .sort((a, b) => compareVersions(b.version, a.version))[0]?.name;
  };
  const fast = async (under?: string) =>
    (
      await latestReachable(git, root, (await scanTags(git, root)).tags, {
        under: under ? parseVersion(under)! : undefined,
      })
    )?.name;
  const cases: [string, string | undefined, string | undefined][] = [
    ['main', undefined, 'v1.3.0'],
    ['main', 'v1.3.0', 'v1.2.5'],
    ['main', 'v1.1.0', 'v1.0.0'],
    ['main', 'v1.0.0', undefined],
    ['next', undefined, 'v2.0.0'],
    [beforeMerge, undefined, 'v1.1.0'],
    ['side', undefined, 'v1.3.0'],
  ];
  // The same with describe's first answer asked alongside the scan (it may name a tag that is not a
  // candidate: at or above `under`).
  const ahead = async (under?: string) => {
    const scan = await scanTags(git, root, { nearest: true });
    expect((await scan.nearest)?.code).toBeDefined();
    return (
      await latestReachable(git, root, scan.tags, {
        under: under ? parseVersion(under)! : undefined,
        nearest: scan.nearest,
      })
    )?.name;
  };
  for (const [at, under, want] of cases) {
    repo.git('checkout', '-q', at);
    expect([at, under, await fast(under)]).toEqual([at, under, want]);
    expect([at, under, await ahead(under)]).toEqual([at, under, want]);
    expect(await brute(under)).toBe(want);
  }
  // The annotated tag's commit is the commit, not the tag object; the same read says HEAD.
  const scan = await scanTags(git, root);
  const annotated = scan.tags.find((t) => t.name === 'v1.1.0')!;
  expect(annotated.commit).toBe(tagged);
  expect(scan.head).toBe(repo.git('rev-parse', 'HEAD'));
  expect(scan.tags.some((t) => t.name === 'HEAD')).toBe(false);
  for (const t of scan.tags)
    expect([t.name, t.commit]).toEqual([t.name, repo.git('rev-parse', `${t.name}^{commit}`)]);
  // A module in a subdirectory sees only its own tags.
  const sub: GoModule = {
    path: 'example.com/lib/sub',
    dir: 'sub',
    tagPrefix: 'sub/',
    nested: [],
    isGo: true,
  };
  repo.git('checkout', '-q', 'main');
  expect((await latestReachable(git, sub, (await scanTags(git, sub)).tags))?.name).toBe('sub/v9.0.0');
});

test("the remote's tags are fetched only when one of the module's releases is new there or moved", async () => {
  const repo = testRepo(mkdtempSync(join(tmpdir(), 'fetch-')), {
    files: { 'go.mod': 'module example.com/lib\n' },
    message: 'chore: start',
    origin: true,
  });
  repo.git('tag', 'v1.0.0');
  repo.git('push', '-q', 'origin', 'v1.0.0');
  const other = testRepo(mkdtempSync(join(tmpdir(), 'fetch-other-')));
  other.git('fetch', '-q', repo.origin!, '+refs/heads/main:refs/remotes/o/main', '+refs/tags/*:refs/tags/*');
  other.git('reset', '-q', '--hard', 'o/main');
  const otherCommit = (message: string) => {
    other.git('commit', '-q', '--allow-empty', '-m', message);
    return other.git('rev-parse', 'HEAD');
  };
  const git = new Git(repo.dir);
  // git writes FETCH_HEAD on every fetch: its absence says none ran.
  const fetchHead = join(repo.dir, '.git', 'FETCH_HEAD');
  const read = async (shallow = false) => {
    rmSync(fetchHead, { force: true });
    const scan = await fetchAndScanTags(git, 'origin', root, shallow);
    return {
      fetched: existsSync(fetchHead),
      tags: scan.tags.map((t) => `${t.name} ${t.commit.slice(0, 7)}`),
      scan,
    };
  };
  const start = repo.git('rev-parse', 'HEAD').slice(0, 7);

  // Up to date: no fetch, and describe's answer came with the scan.
  const same = await read();
  expect(same.fetched).toBe(false);
  expect(same.tags).toEqual([`v1.0.0 ${start}`]);
  expect((await same.scan.nearest)?.stdout.trim()).toBe('v1.0.0');
  // A tag that is not a release of the module is not a reason to fetch.
  otherCommit('chore: nightly');
  other.git('tag', 'latest');
  other.git('tag', 'v1.4');
  other.git('push', '-q', repo.origin!, 'latest', 'v1.4');
  expect(await read()).toMatchObject({ fetched: false, tags: [`v1.0.0 ${start}`] });
  // A new annotated release is fetched, taken at its commit.
  const released = otherCommit('feat: more');
  other.git('tag', '-a', '-m', 'v1.1.0', 'v1.1.0');
  other.git('push', '-q', repo.origin!, 'HEAD:main', 'v1.1.0');
  expect(await read()).toMatchObject({
    fetched: true,
    tags: [`v1.0.0 ${start}`, `v1.1.0 ${released.slice(0, 7)}`],
  });
  // A release tag moved on the remote is fetched again (as +refs/tags/* always did).
  const moved = otherCommit('fix: again');
  other.git('tag', '-f', 'v1.1.0', moved);
  other.git('push', '-q', '-f', repo.origin!, 'HEAD:main', 'v1.1.0');
  expect(await read()).toMatchObject({
    fetched: true,
    tags: [`v1.0.0 ${start}`, `v1.1.0 ${moved.slice(0, 7)}`],
  });
  expect(await read()).toMatchObject({ fetched: false });
  // A shallow clone always fetches, and describe is not asked ahead (the clone may be deepened).
  const shallow = await read(true);
  expect(shallow.fetched).toBe(true);
  expect(shallow.scan.nearest).toBeUndefined();
  // A remote that cannot be listed fails as the fetch does, naming it.
  repo.git('remote', 'set-url', 'origin', join(repo.dir, 'gone.git'));
  await expect(fetchAndScanTags(git, 'origin', root, false)).rejects.toThrow(/gone\.git/);
});
