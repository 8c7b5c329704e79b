import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runAction, tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { testRepo } from '../helpers/git.js';

// build-matrix `sign`: GoReleaser's signs, run with Debian's gnupg against a key made for the test,
// and checked the way a user checks a release: gpg --verify.
describeWith(
  'go, git and gpg',
  hasCommand('go', ['version']) && hasCommand('git') && hasCommand('gpg', ['--version']),
  'build-matrix signing',
  () => {
    // gpg-agent's socket path must be short: a home under /tmp, not the test's deep temp dir.
    const gnupg = mkdtempSync(join(tmpdir(), 'gs-gpg-'));
    const gpg = (args: string[]) =>
      spawnSync('gpg', ['--batch', '--homedir', gnupg, ...args], { encoding: 'utf8' });
    beforeAll(() => {
      const made = gpg([
        '--passphrase',
        '',
        '--quick-gen-key',
        'go-ship test <sign@example.com>',
        'ed25519',
        'sign',
        'never',
      ]);
      expect(made.status).toBe(0);
    });
    afterAll(() => {
      spawnSync('gpgconf', ['--homedir', gnupg, '--kill', 'gpg-agent']);
      rmSync(gnupg, { recursive: true, force: true });
    });
    const repo = () =>
      testRepo(join(tempDir('sign'), 'hello-svc'), {
        from: join(ROOT, 'examples', 'hello-svc'),
        files: { '.gitignore': '/dist/\n' },
        message: 'feat: hello',
      });
    const build = (dir: string, withs: string[]) =>
      runAction('build-matrix', {
        workspace: dir,
        with: ['targets=linux/amd64', 'version=1.2.3', ...withs],
        env: { GNUPGHOME: gnupg },
      });

    test('sign: checksum writes a detached signature that gpg --verify accepts, and rejects once the file changes', async () => {
      const { dir } = repo();
      const r = await build(dir, ['sign=checksum']);
      expect(r.code).toBe(0);
      const dist = join(dir, 'dist');
      const checksums = join(dist, 'hello-svc_1.2.3_checksums.txt');
      expect(JSON.parse(r.outputs.signatures)).toEqual([`${checksums}.sig`]);
      const ok = gpg(['--verify', `${checksums}.sig`, checksums]);
      expect(ok.status).toBe(0);
      expect(ok.stderr).toContain('Good signature from "go-ship test <sign@example.com>"');
      writeFileSync(checksums, `${readFileSync(checksums, 'utf8')}0000  extra\n`);
      const bad = gpg(['--verify', `${checksums}.sig`, checksums]);
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toContain('BAD signature');
    }, 300_000);

    test('sign: all signs every archive, SBOM and the checksums file; a re-run signs again over the old signatures', async () => {
      const { dir } = repo();
      for (let i = 0; i < 2; i++) {
        const r = await build(dir, ['sign=all', 'sbom=true']);
        expect(r.code).toBe(0);
        const sigs = JSON.parse(r.outputs.signatures) as string[];
        expect(sigs.map((s) => s.split('/').pop()).sort()).toEqual([
          'hello-svc_1.2.3_checksums.txt.sig',
          'hello-svc_1.2.3_linux_amd64.tar.gz.sbom.json.sig',
          'hello-svc_1.2.3_linux_amd64.tar.gz.sig',
        ]);
        for (const s of sigs) expect(gpg(['--verify', s, s.slice(0, -4)]).status).toBe(0);
      }
    }, 300_000);

    test('a signing failure names the command and leaves no signature; bad templates and shards are refused first', async () => {
      const { dir } = repo();
      const failed = await build(dir, [
        'sign=all',
        'sign-args=--local-user\nnobody@example.com\n--output\n${signature}\n--detach-sign\n${artifact}',
      ]);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain(
        'Signing hello-svc_1.2.3_linux_amd64.tar.gz failed: `gpg --local-user nobody@example.com',
      );
      expect(failed.stderr).toContain('Check that the key is imported in this job');
      expect(execFileSync('ls', [join(dir, 'dist')], { encoding: 'utf8' })).not.toContain('.sig');
      const template = await build(dir, ['sign=checksum', 'sign-args=--sign\n${file}']);
      expect(template.stderr).toContain('Input `sign-args` got `${file}`');
      const shard = await build(dir, ['sign=checksum', 'shard=1']);
      expect(shard.stderr).toContain('Input `sign` got `checksum`; it accepts `none` on a shard');
    }, 300_000);
  },
);
