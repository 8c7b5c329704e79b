import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runAction, tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { greetApp, vulnDb } from '../helpers/go-modules.js';
import { goTool } from '../helpers/go-tools.js';

// build-matrix `vulncheck`: the real govulncheck (from the Go module proxy) on the built binaries,
// against a vulnerability database the test writes in the documented layout, with a fixture module
// version marked vulnerable.
describeWith(
  'go and git',
  hasCommand('go', ['version']) && hasCommand('git'),
  'build-matrix vulncheck',
  () => {
    test('a vulnerable function in the binary fails the build naming the ID, module and fixed version; below the gate it passes and is reported; without the entry it passes', async () => {
      const root = tempDir('vulncheck');
      const { dir, env: goEnv } = await greetApp(root, 'vulnapp');
      const db = vulnDb(join(root, 'db'), [
        {
          id: 'GO-2026-9001',
          module: 'example.com/greet',
          fixed: 'v1.4.3',
          symbols: ['Hello'],
          summary: 'Hello leaks secrets',
        },
      ]);
      const empty = vulnDb(join(root, 'empty-db'), []);
      // govulncheck built once into ~/.cache/go-ship/tools and put on PATH, as a runner would have it.
      const bin = goTool('golang.org/x/vuln/cmd/govulncheck', 'v1.9.0');
      const build = (withs: string[]) =>
        runAction('build-matrix', {
          workspace: dir,
          with: ['targets=linux/amd64,windows/amd64', 'version=1.0.0', ...withs],
          env: goEnv,
          processEnv: { PATH: `${dirname(bin)}:${process.env.PATH}` },
        });

      const failed = await build(['vulncheck=symbol', `vulncheck-db=${db}`]);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain(
        'vulncheck: 1 known vulnerability at or above `symbol` in the built binaries; nothing was written.',
      );
      expect(failed.stderr).toContain(
        'GO-2026-9001 in example.com/greet@v1.4.2 (symbol: greet.Hello) — fixed in v1.4.3: `go get example.com/greet@v1.4.3`; Hello leaks secrets',
      );
      expect(existsSync(join(dir, 'dist'))).toBe(false);

      // Only Bye (never called, so not linked) is vulnerable. A stripped binary has no symbol table:
      // govulncheck counts every vulnerable function of the linked package, Bye too.
      const byeOnly = vulnDb(join(root, 'bye-db'), [
        {
          id: 'GO-2026-9002',
          module: 'example.com/greet',
          fixed: 'v1.5.0',
          symbols: ['Bye'],
          summary: 'Bye is rude',
        },
      ]);
      const stripped = await build(['vulncheck=symbol', `vulncheck-db=${byeOnly}`]);
      expect(stripped.code).toBe(1);
      expect(stripped.stderr).toContain('GO-2026-9002 in example.com/greet@v1.4.2 (symbol: greet.Bye)');
      // With the symbol table (strip: false) it sees Bye is absent (and Hello inlined): module level,
      // below a symbol gate, reported; a module gate fails on it.
      const below = await build(['strip=false', 'vulncheck=symbol', `vulncheck-db=${byeOnly}`]);
      expect(below.code).toBe(0);
      const found = JSON.parse(below.outputs.vulnerabilities) as {
        id: string;
        reach: string;
        binaries: string[];
      }[];
      expect(found).toEqual([
        expect.objectContaining({
          id: 'GO-2026-9002',
          reach: 'module',
          binaries: ['linux/amd64 vulnapp', 'windows/amd64 vulnapp.exe'],
        }),
      ]);
      expect(below.summary).toContain('govulncheck: 1 known vulnerabilities below the gate');
      const stricter = await build(['strip=false', 'vulncheck=module', `vulncheck-db=${byeOnly}`]);
      expect(stricter.code).toBe(1);
      expect(stricter.stderr).toContain('GO-2026-9002 in example.com/greet@v1.4.2 (module)');

      const clean = await build(['vulncheck=symbol', `vulncheck-db=${empty}`]);
      expect(clean.code).toBe(0);
      expect(JSON.parse(clean.outputs.vulnerabilities)).toEqual([]);

      const missing = await build(['vulncheck=symbol', 'vulncheck-db=no/such/db']);
      expect(missing.stderr).toContain('Input `vulncheck-db` got `no/such/db`; it accepts a database URL');
    }, 300_000);
  },
);
