import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline } from '../../src/pipeline/pipeline.js';
import { STAGE_RECORDS, type StageRecord } from '../../src/pipeline/stages.js';
import { runCommand } from '../../src/runner/command.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { testRepo } from '../helpers/git.js';
import { quietly } from '../helpers/quiet.js';

/**
 * What docs/architecture.md says a new stage is: one record (when it runs, why it would not, what it
 * does, its line in the table). This example stage, `go vet`, goes in front of two real ones.
 */
const vet: StageRecord = {
  events: ['pull_request', 'push'],
  skipWhy: (ctx) => (ctx.config['build-matrix']?.targets === 'none' ? 'nothing to vet' : undefined),
  async run(ctx) {
    const r = await runCommand('go', ['vet', './...'], { cwd: ctx.workspace, env: ctx.env(), check: false });
    for (const line of r.stderr.split('\n').filter(Boolean)) ctx.line(line);
    return {
      passed: r.code === 0,
      failure: `go vet found problems (exit code ${r.code})`,
      outputs: {},
      summary: '',
    };
  },
  describe: () => 'go vet ./...',
};

describeWith(
  'go and git',
  hasCommand('go', ['version']) && hasCommand('git'),
  'a new pipeline stage is one record',
  () => {
    const module = () => {
      const { dir } = testRepo(join(tempDir('stages'), 'svc'), {
        from: join(ROOT, 'examples', 'hello-svc'),
        files: { '.gitignore': '/dist/\n*.out\n' },
      });
      return dir;
    };
    const run = (workspace: string, lines: string[] = []) =>
      quietly(() =>
        runPipeline({
          root: ROOT,
          workspace,
          event: 'pull_request',
          skip: new Set(),
          stages: [
            ['vet', vet],
            ['test', STAGE_RECORDS.test],
            ['build', STAGE_RECORDS.build],
          ],
          onLine: (line, stage) => lines.push(`${stage}: ${line}`),
        }),
      );

    test('the example stage runs before two real ones and gets its line in the table', async () => {
      const results = await run(module());
      expect(results.map((r) => [r.stage, r.status, r.detail])).toEqual([
        ['vet', 'passed', 'go vet ./...'],
        ['test', 'passed', expect.stringMatching(/^go test -json( -race)?: \d+ tests, 0 failed, 0 flaky$/)],
        ['build', 'passed', expect.stringMatching(/^\d+ archives, hello-svc_[\w.-]+_checksums\.txt$/)],
      ]);
    }, 300_000);

    test('when it fails, later stages are skipped with the reason and its output is in the log', async () => {
      const dir = module();
      writeFileSync(
        join(dir, 'bad.go'),
        'package main\n\nimport "fmt"\n\nfunc bad() { fmt.Printf("%d\\n", "not a number") }\n',
      );
      const lines: string[] = [];
      const results = await run(dir, lines);
      expect(results.map((r) => [r.stage, r.status, r.detail])).toEqual([
        ['vet', 'failed', 'go vet found problems (exit code 1)'],
        ['test', 'skipped', 'an earlier stage failed'],
        ['build', 'skipped', 'an earlier stage failed'],
      ]);
      expect(lines).toContainEqual(
        expect.stringMatching(
          /^vet: .*bad\.go:5:\d+: fmt\.Printf format %d has arg "not a number" of wrong type string/,
        ),
      );
    }, 300_000);
  },
);
