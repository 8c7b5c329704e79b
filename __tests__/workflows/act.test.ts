import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { assertBundlesFresh, NODE24, ROOT, tempDir } from '../helpers/cli.js';

// act runs the committed bundles: a stale one would test old code.
beforeAll(() => assertBundlesFresh());
import { testRepo } from '../helpers/git.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { goTool } from '../helpers/go-tools.js';

/**
 * A real workflow engine runs go-ship: nektos/act, built from the Go module proxy, runs a workflow
 * on this host (`-P ubuntu-latest=-self-hosted`: no container, no image pull) with the local actions
 * and their committed bundles, as a user's repository would call them. act runs a node24 action
 * with whatever `node` is first on PATH; the test puts Node 24 there, the runtime GitHub uses.
 */
const act = () => goTool('github.com/nektos/act', 'v0.2.89');

const WORKFLOW = `on: push
jobs:
  ship:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: go
        uses: ./setup-go-cross
        with:
          go-version-file: examples/hello-svc/go.mod
          go-download-source: proxy
          cache: 'false'
      - name: go test
        working-directory: examples/hello-svc
        run: |
          go test -coverprofile=coverage.out ./...
          go tool cover -func coverage.out | tail -n 1
      - id: cov
        uses: ./coverage-gate
        with:
          working-directory: examples/hello-svc
          profiles: coverage.out
          threshold-total: '50'
      - id: build
        uses: ./build-matrix
        with:
          working-directory: examples/hello-svc
          targets: linux/amd64,windows/amd64
          version: 1.0.0
      - id: tag
        uses: ./semver-tag
        with:
          working-directory: examples/hello-svc
          dry-run: 'true'
      - name: outputs reach later steps
        env:
          TOTAL: \${{ steps.cov.outputs.total }}
          VERSION: \${{ steps.build.outputs.version }}
        run: echo "total=$TOTAL version=$VERSION node=$(node --version)"
`;

interface ActLine {
  msg?: string;
  command?: string;
  name?: string;
  arg?: string;
  stepID?: string[];
  jobResult?: string;
}

describeWith(
  'go and git (to build and run act)',
  hasCommand('go', ['version']) && hasCommand('git'),
  'act runs go-ship',
  () => {
    test('setup-go-cross, go test, coverage-gate, build-matrix and semver-tag on examples/hello-svc; act reports their outputs', async () => {
      const bin = act();
      const repo = join(tempDir('act'), 'repo');
      for (const d of ['setup-go-cross', 'coverage-gate', 'build-matrix', 'semver-tag', 'dist'])
        cpSync(join(ROOT, d), join(repo, d), { recursive: true });
      cpSync(join(ROOT, 'examples', 'hello-svc'), join(repo, 'examples', 'hello-svc'), { recursive: true });
      mkdirSync(join(repo, '.github', 'workflows'), { recursive: true });
      writeFileSync(join(repo, '.github', 'workflows', 'ship.yml'), WORKFLOW);
      writeFileSync(
        join(repo, '.gitignore'),
        'dist/*\n!/dist/\n!/dist/**\n/examples/hello-svc/dist/\ncoverage.out\n',
      );
      testRepo(repo, { message: 'feat: hello' });
      // Node 24 first on PATH: act starts `node` for node24 actions.
      const nodeDir = join(repo, '..', 'node24');
      mkdirSync(nodeDir);
      symlinkSync(NODE24, join(nodeDir, 'node'));

      const lines: ActLine[] = [];
      let raw = '';
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn(
          bin,
          [
            'push',
            '-P',
            'ubuntu-latest=-self-hosted',
            '--no-cache-server',
            '--action-offline-mode',
            '--json',
          ],
          {
            cwd: repo,
            env: {
              ...process.env,
              PATH: `${nodeDir}${delimiter}${process.env.PATH}`,
              XDG_CACHE_HOME: join(repo, '..', 'act-cache'), // act's tool cache and workspace copies
              GITHUB_TOKEN: '',
            },
          },
        );
        child.stdout.on('data', (b) => (raw += b));
        child.stderr.on('data', (b) => (raw += b));
        child.on('error', reject);
        child.on('close', (c) => resolve(c ?? -1));
      });
      for (const l of raw.split('\n')) {
        try {
          lines.push(JSON.parse(l) as ActLine);
        } catch {
          // act's own non-JSON start-up lines
        }
      }
      const outputs = (step: string) =>
        Object.fromEntries(
          lines
            .filter((l) => l.command === 'set-output' && l.stepID?.[0] === step)
            .map((l) => [l.name!, l.arg!]),
        );
      expect({ code, tail: code === 0 ? '' : raw.slice(-3000) }).toEqual({ code: 0, tail: '' });
      expect(lines.find((l) => l.jobResult)?.jobResult).toBe('success');

      expect(outputs('go')).toMatchObject({ 'go-version': expect.stringMatching(/^1\.22\.\d+$/) });
      const artifacts = JSON.parse(outputs('build').artifacts) as { target: string; path: string }[];
      // What go tool cover printed in the job (act removes its copy of the workspace afterwards).
      const coverLine = lines.map((l) => l.msg ?? '').find((m) => /total:\s+\(statements\)/.test(m));
      const total = /total:\s+\(statements\)\s+([\d.]+)%/.exec(coverLine ?? '')?.[1];
      expect(total).toMatch(/^\d+\.\d$/);
      expect(outputs('cov')).toMatchObject({ passed: 'true', 'go-tool-cover-func': total });
      expect(artifacts.map((a) => a.target)).toEqual(['linux/amd64', 'windows/amd64']);
      expect(artifacts[1].path).toMatch(/hello-svc_1\.0\.0_windows_amd64\.zip$/);
      expect(outputs('tag')).toMatchObject({ tag: 'examples/hello-svc/v0.1.0', created: 'false' });
      const echoed = lines.map((l) => l.msg ?? '').find((m) => m.includes(' node='));
      expect(echoed).toContain(`total=${total} version=1.0.0 node=v24.`);
    }, 600_000);
  },
);
