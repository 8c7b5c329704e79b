import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from '../helpers/cli.js';
import { testRepo } from '../helpers/git.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { goTool } from '../helpers/go-tools.js';

/** actionlint, built once from the Go module proxy into go-ship's tool cache. */
const actionlint = () => goTool('github.com/rhysd/actionlint/cmd/actionlint', 'v1.7.12');

const lint = (files: string[], cwd = ROOT) =>
  spawnSync(actionlint(), ['-no-color', '-shellcheck=', '-pyflakes=', ...files], { cwd, encoding: 'utf8' });

describeWith('go (to build actionlint)', hasCommand('go', ['version']), 'workflows pass actionlint', () => {
  test('every workflow in .github/workflows, the reusable ones included, passes', () => {
    const files = readdirSync(join(ROOT, '.github', 'workflows'))
      .filter((f) => f.endsWith('.yml'))
      .map((f) => join('.github', 'workflows', f));
    expect(files).toEqual(
      expect.arrayContaining([
        '.github/workflows/go-ship-pr.yml',
        '.github/workflows/go-ship-release.yml',
        '.github/workflows/go-ship-coverage-comment.yml',
        '.github/workflows/go-ship-promote.yml',
      ]),
    );
    const r = lint(files);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 300_000);

  test('the check has teeth: a misspelt input of a local go-ship action is caught from its action.yml', () => {
    const project = tempDir('actionlint');
    const dir = join(project, '.github', 'workflows');
    mkdirSync(dir, { recursive: true });
    symlinkSync(join(ROOT, 'build-matrix'), join(project, 'build-matrix'));
    testRepo(project);
    const file = join(dir, 'bad.yml');
    writeFileSync(
      file,
      'on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: ./build-matrix\n        with:\n          targts: linux/amd64\n',
    );
    const r = lint([file], project);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/input "targts" is not defined in action "go-ship build-matrix"/);
  }, 300_000);
});
