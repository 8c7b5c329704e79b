import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runAction, tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { testRepo } from '../helpers/git.js';
import { type GitHubApi, startGitHubApi } from '../helpers/github-api.js';

// build-matrix's `release`: archives and checksums attached to the tag's GitHub Release, through the
// committed bundle and GitHub's own client (Octokit) against a loopback GitHub API.
const TOKEN = 'ghs_releaseAssetsLoopbackToken0';
const TARGETS = 'targets=linux/amd64,windows/amd64';
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describeWith(
  'go and git',
  hasCommand('go', ['version']) && hasCommand('git'),
  'build-matrix release assets',
  () => {
    let api: GitHubApi;
    afterEach(async () => api?.close());
    const repo = () =>
      testRepo(join(tempDir('release'), 'hello-svc'), {
        from: join(ROOT, 'examples', 'hello-svc'),
        files: { '.gitignore': '/dist/\n/shards/\n' },
        message: 'feat: hello',
      });
    const build = (dir: string, withs: string[]) =>
      runAction('build-matrix', {
        workspace: dir,
        with: ['version=1.2.3', `github-token=${TOKEN}`, ...withs],
        env: { GITHUB_API_URL: api.url, GITHUB_REPOSITORY: 'o/r' },
      });
    const uploads = () => api.calls.filter((c) => c.method === 'POST' && c.path.startsWith('/uploads/'));

    test("one runner: a draft made at the built commit, every asset attached, then published; a re-run uploads nothing; other bytes are refused on the published release and replaced in go-ship's draft", async () => {
      api = await startGitHubApi({ token: TOKEN });
      const { dir, git } = repo();
      const r = await build(dir, [TARGETS, 'release=v1.2.3']);
      expect(r.code).toBe(0);
      const dist = join(dir, 'dist');
      const files = readdirSync(dist)
        .filter((f) => f !== 'manifest.json')
        .sort();
      expect(files).toEqual([
        'hello-svc_1.2.3_checksums.txt',
        'hello-svc_1.2.3_linux_amd64.tar.gz',
        'hello-svc_1.2.3_windows_amd64.zip',
      ]);
      expect(api.releases).toHaveLength(1);
      const rel = api.releases[0];
      expect(rel).toMatchObject({
        tag_name: 'v1.2.3',
        draft: false,
        target_commitish: git('rev-parse', 'HEAD'),
      });
      // Every asset is GitHub's copy of the local file, byte for byte.
      expect(rel.assets.map((a) => [a.name, a.digest]).sort()).toEqual(
        files.map((f) => [f, `sha256:${sha256(join(dist, f))}`]),
      );
      // Published only after the last upload: the draft was never public without its assets.
      const lastUpload = api.calls.lastIndexOf(uploads().at(-1)!);
      const publish = api.calls.findIndex(
        (c) => c.method === 'PATCH' && c.path === `/repos/o/r/releases/${rel.id}`,
      );
      expect(publish).toBeGreaterThan(lastUpload);
      const assets = JSON.parse(r.outputs['release-assets']) as {
        name: string;
        url: string;
        state: string;
      }[];
      expect(assets.map((a) => a.state)).toEqual(['uploaded', 'uploaded', 'uploaded']);
      expect(assets[0].url).toBe(
        'https://github.com/o/r/releases/download/v1.2.3/hello-svc_1.2.3_linux_amd64.tar.gz',
      );
      expect(r.outputs['release-url']).toBe('https://github.com/o/r/releases/tag/v1.2.3');
      expect(r.summary).toContain('### Release v1.2.3 (published now)');
      for (const out of [r.stdout, r.stderr]) expect(out).not.toContain(TOKEN);

      // A re-run of the same commit: the same bytes are there, nothing is uploaded.
      const before = uploads().length;
      const again = await build(dir, [TARGETS, 'release=v1.2.3']);
      expect(again.code).toBe(0);
      expect(uploads()).toHaveLength(before);
      expect(
        (JSON.parse(again.outputs['release-assets']) as { state: string }[]).map((a) => a.state),
      ).toEqual(['kept', 'kept', 'kept']);
      expect(api.releases).toHaveLength(1);

      // Untrusted input (#29 item 9): different bytes under one name on a published release were
      // deleted before the replacement was up. People may have downloaded them: refused, untouched.
      const zip = api.releases[0].assets.find((a) => a.name.endsWith('.zip'))!;
      zip.data = Buffer.from('not the zip');
      zip.size = zip.data.length;
      zip.digest = `sha256:${createHash('sha256').update(zip.data).digest('hex')}`;
      const callsBefore = api.calls.length;
      const third = await build(dir, [TARGETS, 'release=v1.2.3']);
      expect(third.code).toBe(1);
      expect(third.stderr).toContain(
        `Release v1.2.3 is published and already has hello-svc_1.2.3_windows_amd64.zip (${zip.digest}; this build: sha256:${sha256(join(dist, zip.name))}) with other bytes.`,
      );
      expect(third.stderr).toContain('nothing was changed');
      const changes = api.calls.slice(callsBefore).filter((c) => c.method !== 'GET');
      expect(changes).toEqual([]);
      expect(api.releases[0].assets.find((a) => a.name === zip.name)!.data.toString()).toBe('not the zip');

      // In go-ship's own draft (a run that failed before publishing), other bytes are replaced.
      api.releases[0].draft = true;
      const fourth = await build(dir, [TARGETS, 'release=v1.2.3']);
      expect(fourth.code).toBe(0);
      expect(fourth.stderr).toContain(
        'Release v1.2.3 (a draft) already has hello-svc_1.2.3_windows_amd64.zip with other bytes',
      );
      expect(uploads()).toHaveLength(before + 1);
      const now = api.releases[0].assets.find((a) => a.name === zip.name)!;
      expect(now.digest).toBe(`sha256:${sha256(join(dist, zip.name))}`);
      expect(api.releases[0].draft).toBe(false);
    }, 300_000);

    // Untrusted input (#29 item 9): a draft someone else made for the tag (release notes being
    // written) was published by go-ship. Its assets are attached; publishing stays theirs.
    test("someone else's draft gets the assets and stays a draft", async () => {
      api = await startGitHubApi({ token: TOKEN });
      const { dir } = repo();
      await build(dir, [TARGETS, 'release=v1.2.3']);
      const rel = api.releases[0];
      Object.assign(rel, { draft: true, body: 'Notes a maintainer is still writing', assets: [] });
      const r = await build(dir, [TARGETS, 'release=v1.2.3']);
      expect(r.code).toBe(0);
      expect(rel.assets).toHaveLength(3);
      expect(rel.draft).toBe(true);
      expect(r.stdout + r.stderr).toContain(
        'Release v1.2.3 is a draft that go-ship did not make; its assets are attached and it stays a draft',
      );
    }, 300_000);

    test('a server without asset digests: same bytes are recognised by downloading them', async () => {
      api = await startGitHubApi({ token: TOKEN, noDigests: true });
      const { dir } = repo();
      expect((await build(dir, ['targets=linux/amd64', 'release=v1.2.3'])).code).toBe(0);
      const before = uploads().length;
      expect(before).toBe(2);
      const again = await build(dir, ['targets=linux/amd64', 'release=v1.2.3']);
      expect(again.code).toBe(0);
      expect(uploads()).toHaveLength(before);
      expect(api.calls.some((c) => c.method === 'GET' && /\/releases\/assets\/\d+$/.test(c.path))).toBe(true);
    }, 300_000);

    test("fan-out: shards refuse `release`; the merge attaches every shard's archives and publishes once", async () => {
      api = await startGitHubApi({ token: TOKEN });
      const { dir } = repo();
      const refused = await build(dir, ['targets=linux/amd64', 'shard=1', 'release=v1.2.3']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        'Input `release` got `v1.2.3`; it accepts a tag on the merge job, not on a shard',
      );
      for (const [shard, target] of [
        ['1', 'linux/amd64'],
        ['2', 'windows/amd64'],
      ]) {
        const s = await build(dir, [
          `targets=${target}`,
          `shard=${shard}`,
          `output-dir=shards/${shard}`,
          'sbom=true',
        ]);
        expect(s.code).toBe(0);
      }
      expect(api.calls.filter((c) => c.path.startsWith('/repos/o/r/releases'))).toEqual([]);
      const merged = await build(dir, ['mode=merge', 'merge-from=shards/*', 'release=v1.2.3']);
      expect(merged.code).toBe(0);
      expect(api.releases).toHaveLength(1);
      expect(api.releases[0].draft).toBe(false);
      // The shards' SBOMs travel through the merge (checked against their manifests) to the release.
      expect(api.releases[0].assets.map((a) => a.name).sort()).toEqual([
        'hello-svc_1.2.3_checksums.txt',
        'hello-svc_1.2.3_linux_amd64.tar.gz',
        'hello-svc_1.2.3_linux_amd64.tar.gz.sbom.json',
        'hello-svc_1.2.3_windows_amd64.zip',
        'hello-svc_1.2.3_windows_amd64.zip.sbom.json',
      ]);
      expect(api.calls.filter((c) => c.method === 'PATCH')).toHaveLength(1);
    }, 300_000);

    test('release: true outside a tag push, and a bad tag name, are refused by name', async () => {
      api = await startGitHubApi({ token: TOKEN });
      const { dir } = repo();
      const notTag = await build(dir, ['release=true']);
      expect(notTag.code).toBe(1);
      expect(notTag.stderr).toContain('Input `release` got `true`; it accepts `true` on a tag push');
      const bad = await build(dir, ['release=v1..2']);
      expect(bad.stderr).toContain('Input `release` got `v1..2`; it accepts a git tag name');
      expect(api.calls).toEqual([]);
    }, 60_000);
  },
);
