import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { QualityReport } from '../../src/quality/report.js';
import { runAction, tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { testRepo } from '../helpers/git.js';
import { validSarif } from './sarif-schema.js';

const GOLANGCI = 'v2.15.0';
/** Where the action's own install puts golangci-lint under the CLI (RUNNER_TOOL_CACHE's go-ship-tools). */
const golangciBinary = join(
  homedir(),
  '.cache',
  'go-ship',
  'tool-cache',
  'go-ship-tools',
  'golangci-lint',
  GOLANGCI,
  'golangci-lint',
);

const BASE = {
  'go.mod': 'module example.com/planted\n\ngo 1.22\n',
  // An old go vet finding (unreachable code) that the pull request does not touch.
  'old.go': 'package planted\n\nfunc Old() int {\n\treturn 1\n\tprintln("never")\n\treturn 2\n}\n',
  'old_test.go':
    'package planted\n\nimport "testing"\n\nfunc TestOld(t *testing.T) {\n\tif Old() != 1 {\n\t\tt.Fatal("Old")\n\t}\n}\n',
};

// The pull request: a data race, a test that fails one run in two, a gofmt problem and an unchecked
// error on changed lines.
const CHANGE = {
  'counter.go': [
    'package planted',
    '',
    'import "os"',
    '',
    '// Bump adds two from two goroutines without a lock: a data race.',
    'func Bump() int {',
    '\tn := 0',
    '\tdone := make(chan bool)',
    '\tgo func() { n++; done <- true }()',
    '\tn++',
    '\t<-done',
    '\treturn n',
    '}',
    '',
    'func Clean() {',
    '\tos.Remove("scratch")',
    '}',
    '',
    'func  Spaced() int { return 3 }',
    '',
  ].join('\n'),
  'counter_test.go': [
    'package planted',
    '',
    'import (',
    '\t"os"',
    '\t"testing"',
    ')',
    '',
    'func TestRace(t *testing.T) {',
    '\tif Bump() != 2 {',
    '\t\tt.Log("lost an update")',
    '\t}',
    '}',
    '',
    '// TestFlaky fails on every other run: the state lives beside the module.',
    'func TestFlaky(t *testing.T) {',
    '\tconst state = "../flaky-state"',
    '\tif b, _ := os.ReadFile(state); string(b) == "failed" {',
    '\t\t_ = os.WriteFile(state, []byte("passed"), 0o644)',
    '\t\treturn',
    '\t}',
    '\t_ = os.WriteFile(state, []byte("failed"), 0o644)',
    '\tt.Fatal("the odd run fails")',
    '}',
    '',
  ].join('\n'),
};

const hasRace = () => {
  try {
    return execFileSync('go', ['env', 'CGO_ENABLED'], { encoding: 'utf8' }).trim() === '1';
  } catch {
    return false;
  }
};

describeWith(
  'go, git and cgo (for -race)',
  hasCommand('go', ['version']) && hasCommand('git') && hasRace(),
  'quality-gate',
  () => {
    test('a planted race, a flaky test, a gofmt problem on a changed line and an old vet finding: each judged and placed where it is', async () => {
      const root = tempDir('quality');
      const repo = testRepo(join(root, 'mod'), { files: BASE, message: 'base' });
      const base = repo.git('rev-parse', 'HEAD');
      for (const [name, text] of Object.entries(CHANGE)) writeFileSync(join(repo.dir, name), text);
      repo.git('add', '-A');
      repo.git('commit', '-q', '-m', 'change');

      const r = await runAction('quality-gate', {
        workspace: repo.dir,
        with: [
          `base-ref=${base}`,
          `golangci-lint-version=${GOLANGCI}`,
          'retries=1',
          `report-file=${root}/quality.json`,
          `sarif-file=${root}/lint.sarif`,
          `junit-file=${root}/junit.xml`,
          'coverprofile=coverage.out',
        ],
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /Quality gate failed: 2 lint findings on changed lines; 1 failed test \(1 with a data race\): TestRace/,
      );
      expect(r.outputs).toMatchObject({
        passed: 'false',
        failed: '1',
        flaky: '1',
        race: 'true',
        'lint-failing': '2',
        'lint-listed': '1',
      });
      const report = JSON.parse(readFileSync(r.outputs['report-file'], 'utf8')) as QualityReport;

      // The race fails at the racing access (counter.go line 9 or 10, whichever the detector saw first).
      const [race] = report.test!.failed;
      expect(race).toMatchObject({ name: 'TestRace', race: true, pkg: 'example.com/planted' });
      expect(race.place?.file).toBe('counter.go');
      expect([9, 10]).toContain(race.place?.line);
      // The flaky test is named as flaky and does not fail the step.
      expect(report.test!.flaky).toEqual([{ pkg: 'example.com/planted', name: 'TestFlaky' }]);

      const where = (linter: string) =>
        report
          .lint!.findings.filter((f) => f.linter === linter)
          .map((f) => `${f.file}:${f.line} ${f.failing ? 'failing' : 'listed'} ${f.rule}`);
      expect(where('gofmt')).toEqual(['counter.go:19 failing gofmt']);
      // go vet's analyzers ran once, as golangci-lint's govet (on by default): the old finding is its.
      expect(where('go vet')).toEqual([]);
      expect(where('golangci-lint')).toEqual(['counter.go:16 failing errcheck', 'old.go:5 listed govet']);
      expect(report.lint!.vetBy).toBe('golangci-lint');
      expect(r.stderr).toMatch(/go vet: its analyzers ran as golangci-lint's govet/);
      // The annotations, on those lines (rendered by the CLI as `error: ... (file:line)`).
      expect(r.stderr).toMatch(
        /error: Data race: TestRace \(example\.com\/planted\)[\s\S]*?counter\.go:(9|10)/,
      );
      expect(r.stderr).toMatch(/error: File is not gofmt-ed[^\n]*counter\.go:19/);
      expect(r.stderr).toMatch(
        /warning: unreachable: unreachable code \(on a line this change did not touch[^\n]*old\.go:5/,
      );

      // SARIF 2.1.0 by the schema; JUnit XML that a real XML parser reads, the race a failure, the flaky test passed.
      const sarif = JSON.parse(readFileSync(r.outputs['sarif-file'], 'utf8')) as {
        runs: { tool: { driver: { name: string } }; results: unknown[] }[];
      };
      expect(validSarif(sarif)).toEqual([]);
      expect(sarif.runs.map((x) => [x.tool.driver.name, x.results.length])).toEqual([
        ['gofmt', 1],
        ['golangci-lint', 2],
      ]);
      const junit = execFileSync(
        'python3',
        [
          '-c',
          'import sys, xml.etree.ElementTree as ET\nr = ET.parse(sys.argv[1]).getroot()\nfor c in r.iter("testcase"):\n  print(c.get("name"), "failure" if c.find("failure") is not None else "skipped" if c.find("skipped") is not None else "passed")',
          r.outputs['junit-file'],
        ],
        { encoding: 'utf8' },
      );
      expect(junit.trim().split('\n').sort()).toEqual([
        'TestFlaky passed',
        'TestOld passed',
        'TestRace failure',
      ]);

      // coverage-gate shows the same run's tests beside the coverage (in its report, which its comment and
      // the fork-safe comment-from are rendered from).
      const cov = await runAction('coverage-gate', {
        workspace: repo.dir,
        with: [
          'profiles=coverage.out',
          'comment=false',
          `test-results=${root}/quality.json`,
          `report-file=${root}/coverage.json`,
        ],
      });
      expect({ code: cov.code, err: cov.code ? cov.stderr.slice(-1500) : '' }).toEqual({ code: 0, err: '' });
      expect(JSON.parse(readFileSync(join(root, 'coverage.json'), 'utf8')).tests).toEqual({
        total: 3,
        passed: 1,
        skipped: 0,
        race: true,
        failed: [
          {
            pkg: 'example.com/planted',
            name: 'TestRace',
            race: true,
            file: 'counter.go',
            line: race.place!.line,
          },
        ],
        flaky: [{ pkg: 'example.com/planted', name: 'TestFlaky' }],
        broken: [],
      });

      // golangci-lint's own findings, as it prints them run by hand in the module (default text output).
      const byHand = spawnSync(golangciBinary, ['run', './...'], { cwd: repo.dir, encoding: 'utf8' });
      const printed = byHand.stdout
        .split('\n')
        .map((l) => /^(\S+\.go):(\d+):\d+: (.*) \((\w+)\)$/.exec(l))
        .filter((m) => m !== null)
        .map((m) => `${m[1]}:${m[2]} ${m[3]}`)
        .sort();
      const ours = report
        .lint!.findings.filter((f) => f.linter === 'golangci-lint' || f.alsoBy?.includes('golangci-lint'))
        .map(
          (f) =>
            `${f.file}:${f.line} ${f.linter === 'golangci-lint' ? f.message : `${f.rule}: ${f.message}`}`,
        )
        .sort();
      expect(byHand.status).toBe(1);
      expect(printed.length).toBeGreaterThan(0);
      expect(ours).toEqual(printed);
    }, 600_000);

    test("a config that turns govet off: go vet runs itself, and golangci-lint's limits are lifted against a base", async () => {
      const root = tempDir('quality-vet');
      const repo = testRepo(join(root, 'mod'), {
        files: {
          ...BASE,
          '.golangci.yml': 'version: "2"\nlinters:\n  disable:\n    - govet\n',
        },
        message: 'base',
      });
      const base = repo.git('rev-parse', 'HEAD');
      // Five unchecked errors: by hand golangci-lint shows three (max-same-issues); the fifth is the new one.
      const clean = (n: number) =>
        `package planted\n\nimport "os"\n\nfunc Clean() {\n${'\tos.Remove("scratch")\n'.repeat(n)}}\n`;
      writeFileSync(join(repo.dir, 'clean.go'), clean(4));
      repo.git('add', '-A');
      repo.git('commit', '-q', '-m', 'four old');
      const mid = repo.git('rev-parse', 'HEAD');
      writeFileSync(join(repo.dir, 'clean.go'), clean(5));
      repo.git('commit', '-q', '-am', 'a fifth');

      const r = await runAction('quality-gate', {
        workspace: repo.dir,
        with: [
          'checks=lint',
          `base-ref=${mid}`,
          `golangci-lint-version=${GOLANGCI}`,
          `report-file=${root}/q.json`,
        ],
      });
      expect(r.code).toBe(1);
      const report = JSON.parse(readFileSync(join(root, 'q.json'), 'utf8')) as QualityReport;
      expect(report.lint!.vetBy).toBe('go vet');
      const summary = report.lint!.findings.map(
        (f) => `${f.linter} ${f.rule} ${f.file}:${f.line} ${f.failing ? 'failing' : 'listed'}`,
      );
      expect(summary).toEqual([
        'go vet unreachable old.go:5 listed',
        'golangci-lint errcheck clean.go:6 listed',
        'golangci-lint errcheck clean.go:7 listed',
        'golangci-lint errcheck clean.go:8 listed',
        'golangci-lint errcheck clean.go:9 listed',
        'golangci-lint errcheck clean.go:10 failing',
      ]);
      expect(base).not.toBe(mid);
      // By hand, golangci-lint stops at three of a kind: the new line would not have been seen.
      const byHand = spawnSync(golangciBinary, ['run', './...'], { cwd: repo.dir, encoding: 'utf8' });
      expect(byHand.stdout.match(/\(errcheck\)$/gm)).toHaveLength(3);
    }, 300_000);
  },
);
