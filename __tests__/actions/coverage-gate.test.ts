import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { goShip, ROOT, tempDir } from '../helpers/cli.js';
import { testRepo } from '../helpers/git.js';
import { notifyReceiver } from '../helpers/notify-receiver.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { covmodCopy, goTest, goToolCoverFunc } from '../coverage/gocover.js';
import { startGitHubApi, type GitHubApi } from '../helpers/github-api.js';

/**
 * Runs coverage-gate's bundle on `dir` through the CLI; every run writes its report to a fresh file
 * unless the test names one. `defaults` go before the test's own inputs.
 */
function gateIn(dir: string, defaults: string[] = []) {
  return (withs: string[], env: Record<string, string> = {}) =>
    goShip([
      'coverage-gate',
      '--workspace',
      dir,
      '--json',
      ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
      ...[
        ...(withs.some((w) => w.startsWith('report-file='))
          ? []
          : [`report-file=${join(tempDir('cov-report'), 'report.json')}`]),
        ...defaults,
        ...withs,
      ].flatMap((w) => ['--with', w]),
    ]);
}

/**
 * coverage-gate through the bundle, on a real git repository of the fixture module: main holds the
 * module, a branch adds code that its tests cover in part, and `go test` writes the profiles.
 */
describeWith('go and git', hasCommand('go', ['version']) && hasCommand('git'), 'coverage-gate', () => {
  const dir = covmodCopy();
  let git: (...args: string[]) => string;

  beforeAll(async () => {
    git = testRepo(dir, { files: { '.gitignore': '*.out\n' }, message: 'base' }).git;
    git('checkout', '-q', '-b', 'feature');
    // New code: Clamp01 is tested on one branch only; Sign is not tested at all.
    const calc = readFileSync(join(dir, 'calc', 'calc.go'), 'utf8');
    writeFileSync(
      join(dir, 'calc', 'calc.go'),
      `${calc}
// Clamp01 keeps x in [0, 1].
func Clamp01(x float64) float64 {
	if x < 0 {
		return 0
	}

	if x > 1 {
		return 1
	}
	return x
}

func Sign(x int) int {
	if x < 0 {
		return -1
	}
	return 1
}
`,
    );
    writeFileSync(
      join(dir, 'calc', 'clamp_test.go'),
      'package calc\n\nimport "testing"\n\nfunc TestClamp01(t *testing.T) {\n\tif Clamp01(0.5) != 0.5 || Clamp01(2) != 1 {\n\t\tt.Fatal()\n\t}\n}\n',
    );
    git('add', '.');
    git('commit', '-q', '-m', 'feature');
    await goTest(dir, ['-coverprofile=coverage.out', './...']);
    for (const pkg of ['calc', 'cmd/tool', 'util'])
      await goTest(dir, ['-coverpkg=./...', `-coverprofile=shard-${pkg.replace('/', '-')}.out`, `./${pkg}`]);
  }, 300_000);

  const gate = gateIn(dir);

  test('totals equal go tool cover -func and go test -cover; patch coverage of the branch', async () => {
    const r = await gate(['base-ref=main', 'exclude-generated=false']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    const go = await goToolCoverFunc(dir, 'coverage.out');
    expect(`${result.outputs['total-func']}%`).toBe(go.total);
    const report = JSON.parse(readFileSync(result.outputs['report-json'], 'utf8'));
    // Changed lines with statements: Clamp01's 5 return/if lines and Sign's 3 (blank line, comment,
    // braces and the func lines do not count). Covered: the two ifs, `return 1` and `return x`.
    expect(report.patch).toMatchObject({ covered: 4, total: 8, percent: '50.0%' });
    expect(result.outputs.patch).toBe('50.0');
    const sign =
      readFileSync(join(dir, 'calc', 'calc.go'), 'utf8')
        .split('\n')
        .findIndex((l) => l.startsWith('func Sign')) + 1;
    const clamp = sign - 11; // `func Clamp01` line
    // `return 0`, then Sign's body; Sign's lone `}` line does not count, so its ranges split there.
    expect(report.patch.uncovered).toEqual([
      {
        file: 'calc/calc.go',
        ranges: [
          [clamp + 2, clamp + 2],
          [sign + 1, sign + 2],
          [sign + 4, sign + 4],
        ],
      },
    ]);
    expect(r.stderr).toContain(
      `warning: Changed lines ${sign + 1}-${sign + 2} not covered by tests (calc/calc.go:${sign + 1})`,
    );
    expect(result.summary).toContain('| patch (changed lines since');
  }, 120_000);

  test('merged -coverpkg shards give the same totals as one run with -coverpkg', async () => {
    await goTest(dir, ['-coverpkg=./...', '-coverprofile=combined.out', './...']);
    const combined = JSON.parse((await gate(['profiles=combined.out', 'exclude-generated=false'])).stdout);
    const shards = JSON.parse(
      (await gate(['profiles=shard-*.out', 'exclude-generated=false', 'expected-profiles=3'])).stdout,
    );
    expect(shards.outputs.total).toBe(combined.outputs.total);
    expect(shards.outputs['total-func']).toBe(combined.outputs['total-func']);
    expect(`${combined.outputs['total-func']}%`).toBe((await goToolCoverFunc(dir, 'combined.out')).total);
  }, 120_000);

  // Field report: coverage-gate's JSON had no per-function figures; go tool cover -func has them.
  test.each(['coverage.out', 'combined.out'])(
    'the JSON report lists every function with the figure go tool cover -func prints (%s)',
    async (profile) => {
      if (profile === 'combined.out' && !existsSync(join(dir, profile)))
        await goTest(dir, ['-coverpkg=./...', '-coverprofile=combined.out', './...']);
      const r = await gate([`profiles=${profile}`, 'exclude-generated=false']);
      expect(r.code).toBe(0);
      const report = JSON.parse(readFileSync(JSON.parse(r.stdout).outputs['report-json'], 'utf8')) as {
        files: { file: string; funcs: { name: string; line: number; percent: string }[] }[];
      };
      const ours = report.files.flatMap((f) =>
        f.funcs.map((fn) => `${f.file}:${fn.line}:\t${fn.name}\t${fn.percent}`),
      );
      const go = (await goToolCoverFunc(dir, profile)).funcs.map(
        (f) => `${f.file}:${f.line}:\t${f.name}\t${f.percent}`,
      );
      expect(go.length).toBeGreaterThan(5);
      expect(ours).toEqual(go);
    },
    120_000,
  );

  test('the gate fails below a threshold and names what failed; integer comparison', async () => {
    const r = await gate(['threshold-total=99', 'threshold-patch=50', 'base-ref=main']);
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout);
    expect(result.outputs.passed).toBe('false');
    expect(r.stderr).toMatch(
      /Coverage gate failed: total [\d.]+% is below 99\.0%\.|Coverage gate failed: total [\d.]+% is below 99\.0%;/,
    );
    expect(r.stderr).not.toMatch(/patch 50\.0% is below/);
    const ok = await gate(['threshold-total=10', 'threshold-file=0', 'threshold-package=0']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).outputs.passed).toBe('true');
  }, 120_000);

  test('a gate failing on a push to the default branch is told (coverage-failed); on another branch it is not', async () => {
    const events = tempDir('cov-events');
    const push = (branch: string) => {
      const file = join(events, `${branch}.json`);
      writeFileSync(file, JSON.stringify({ repository: { default_branch: 'main' } }));
      return {
        GITHUB_EVENT_NAME: 'push',
        GITHUB_EVENT_PATH: file,
        GITHUB_REF: `refs/heads/${branch}`,
        GITHUB_REPOSITORY: 'o/lib',
        GITHUB_SHA: 'abcdef1234567890abcdef1234567890abcdef12',
      };
    };
    const hook = await notifyReceiver();
    try {
      expect((await gate(['threshold-total=99', `notify=${hook.line}`], push('main'))).code).toBe(1);
      expect((await gate(['threshold-total=99', `notify=${hook.line}`], push('topic'))).code).toBe(1);
    } finally {
      await hook.close();
    }
    expect(hook.told.map((t) => [t.event, t.body.subject, t.body.version, t.signed])).toEqual([
      ['coverage-failed', 'o/lib', 'abcdef1', true],
    ]);
    expect(hook.told[0].body.detail).toMatch(/^Coverage gate failed: total [\d.]+% is below 99\.0%/);
  }, 120_000);

  test('generated files are excluded by default; file overrides use checkout paths', async () => {
    const r = await gate(['threshold-file=10\ncalc/zz_generated.go: 0\nutil/**: 0']);
    const report = JSON.parse(readFileSync(JSON.parse(r.stdout).outputs['report-json'], 'utf8'));
    expect(report.excluded).toEqual([{ file: 'example.com/covmod/calc/zz_generated.go', why: 'generated' }]);
    expect(r.code).toBe(0);
  }, 120_000);

  // Field report: with generated files excluded, the figure was labelled "go tool cover -func" while
  // go tool cover printed another number. The label must be true, and go tool cover's own figure given.
  test('with files excluded, every figure says so and go tool cover -func’s own total is given beside it', async () => {
    const r = await gate([]);
    expect(r.code).toBe(0);
    const { outputs, summary } = JSON.parse(r.stdout) as { outputs: Record<string, string>; summary: string };
    const go = await goToolCoverFunc(dir, 'coverage.out');
    expect(`${outputs['go-tool-cover-func']}%`).toBe(go.total);
    expect(outputs['excluded-files']).toBe('1');
    expect(outputs['total-func']).not.toBe(outputs['go-tool-cover-func']);
    expect(r.stderr).toContain(
      `Coverage: ${outputs['total-func']}% of statements in functions and ${outputs.total}% of all statements after excluding 1 file (1 generated); on the whole profile, go tool cover -func says ${go.total}`,
    );
    expect(r.stderr).not.toContain(
      `${outputs['total-func']}% of statements in functions (go tool cover -func)`,
    );
    expect(summary).toContain(
      `| total, in functions, after excluding 1 file (1 generated) | ${outputs['total-func']}% |`,
    );
    expect(summary).toContain(`| whole profile, in functions (\`go tool cover -func\`) | ${go.total} |`);
    const report = JSON.parse(readFileSync(outputs['report-json'], 'utf8'));
    expect(report.wholeProfile.totalFunc.percent).toBe(go.total);
    // Nothing excluded: the figures are go tool cover's and say so; the extra outputs agree.
    const all = JSON.parse((await gate(['exclude-generated=false'])).stdout) as {
      outputs: Record<string, string>;
    };
    expect(all.outputs['excluded-files']).toBe('0');
    expect(all.outputs['go-tool-cover-func']).toBe(all.outputs['total-func']);
  }, 120_000);

  test.each([
    [['profiles=nothing-*.out'], 'Input `profiles` got `nothing-*.out`; nothing under'],
    [['profiles=shard-*.out', 'expected-profiles=4'], 'Input `expected-profiles` is 4, but 3 matched'],
    [['threshold-total=120'], 'Input `threshold-total` got `120`; it accepts a percentage from 0 to 100'],
    [
      ['threshold-patch=80', 'base-ref=no-such-branch'],
      'Input `base-ref` got `no-such-branch`, which is not a commit',
    ],
  ])(
    'bad input %j',
    async (withs, message) => {
      const r = await gate(withs);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(message);
    },
    120_000,
  );

  // Untrusted input: a file name is outside text; printed raw it started a live workflow command.
  test('a profile whose name holds a newline and ::error prints no workflow command of its own', async () => {
    const evil = 'evil\n::error title=x::owned\n##[warning]old\n.out';
    writeFileSync(join(dir, evil), readFileSync(join(dir, 'coverage.out')));
    try {
      const step = tempDir('cov-raw');
      for (const f of ['out', 'summary']) writeFileSync(join(step, f), '');
      // The bundle as the runner runs it: raw stdout, where the runner looks for commands.
      const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'coverage-gate', 'index.js')], {
        cwd: dir,
        encoding: 'utf8',
        env: {
          ...process.env,
          GITHUB_WORKSPACE: dir,
          RUNNER_TEMP: step,
          GITHUB_OUTPUT: join(step, 'out'),
          GITHUB_STEP_SUMMARY: join(step, 'summary'),
          INPUT_PROFILES: 'evil*',
          'INPUT_EXCLUDE-GENERATED': 'false',
        },
      });
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('owned');
      const lines = r.stdout.split(/\r\n|\r|\n/);
      expect(lines.filter((l) => /^\s*::error/.test(l))).toEqual([]);
      expect(lines.filter((l) => l.includes('##['))).toEqual([]);
    } finally {
      rmSync(join(dir, evil));
    }
  }, 120_000);

  test('a 40 KB exclude pattern is refused by name, not with a regular-expression crash', async () => {
    const r = await gate([`exclude={${Array.from({ length: 5000 }, (_, i) => `a${i}`).join(',')}}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Input `exclude` has a glob pattern of');
    expect(r.stderr).not.toContain('Regular expression too large');
    expect(r.stderr).not.toContain('go-ship bug');
  }, 120_000);

  test('a malformed profile names the file and line; nothing is reported', async () => {
    writeFileSync(join(dir, 'broken.out'), 'mode: set\nexample.com/covmod/calc/calc.go:1.1,2.2 1\n');
    const r = await gate(['profiles=broken.out']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('broken.out:2: missing fields');
    expect(JSON.parse(r.stdout).outputs).toEqual({});
  });
});

describeWith(
  'go and git',
  hasCommand('go', ['version']) && hasCommand('git'),
  'coverage-gate on pull requests',
  () => {
    const dir = covmodCopy();
    const TOKEN = 'ghs_loopbackTokenForTests0123456789';
    const HEAD = 'c0ffee0000000000000000000000000000000001';
    let api: GitHubApi;
    const events = tempDir('cov-events');
    const event = (name: string, payload: unknown) => {
      const file = join(events, `${name}.json`);
      writeFileSync(file, JSON.stringify(payload));
      return file;
    };
    const prEnv = () => ({
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: event('pr', {
        pull_request: { number: 7, head: { sha: HEAD } },
        repository: { default_branch: 'main' },
      }),
      GITHUB_API_URL: api.url,
      GITHUB_REPOSITORY: 'o/r',
      GITHUB_TOKEN: TOKEN,
      GITHUB_SHA: HEAD,
    });
    // exclude-generated=false so every figure can be compared with go tool cover -func
    const gate = gateIn(dir, ['exclude-generated=false']);

    beforeAll(async () => {
      await goTest(dir, ['-coverprofile=coverage.out', './...']);
    }, 300_000);
    afterEach(async () => api?.close());

    test('one sticky comment, created then edited in place, found on a later page; the token is masked', async () => {
      api = await startGitHubApi({ token: TOKEN, pageSize: 2 });
      api.comments.set(
        7,
        [1, 2, 3].map((id) => ({ id, body: `someone else ${id}`, html_url: '' })),
      );
      const first = await gate(['threshold-total=10'], prEnv());
      expect(first.code).toBe(0);
      expect(first.stderr).toMatch(/Pull request comment created/);
      const second = await gate(['threshold-total=99'], prEnv());
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/Pull request comment updated/);
      const mine = api.comments.get(7)!.filter((c) => c.body.includes('<!-- go-ship:coverage-gate . -->'));
      expect(mine).toHaveLength(1);
      const go = await goToolCoverFunc(dir, 'coverage.out');
      expect(mine[0].body).toContain(`❌ Coverage: ${go.total}`);
      expect(mine[0].body).toContain('❌ ≥ 99.0%');
      expect(api.comments.get(7)).toHaveLength(4);
      // The comments list was paged (4 comments, 2 per page): page 2 was asked for.
      expect(api.calls.some((c) => c.path.includes('page=2'))).toBe(true);
      expect(api.calls.every((c) => c.auth === `Bearer ${TOKEN}` || c.auth === `token ${TOKEN}`)).toBe(true);
      for (const out of [first.stdout, first.stderr, second.stdout, second.stderr])
        expect(out).not.toContain(TOKEN);
    }, 120_000);

    test("a fork's read-only token: a notice, no failure, no comment", async () => {
      api = await startGitHubApi({ token: TOKEN, readOnly: true });
      const r = await gate(['threshold-total=10'], prEnv());
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(
        'notice: The token may not comment on pull request #7 (Resource not accessible by integration)',
      );
      expect(r.stderr).toContain('comment-from');
      expect(api.comments.get(7) ?? []).toEqual([]);
    }, 120_000);

    test('nothing is posted when the gate cannot compute', async () => {
      api = await startGitHubApi({ token: TOKEN });
      writeFileSync(join(dir, 'broken.out'), 'mode: set\nexample.com/covmod/calc/calc.go:1.1,2.2 1\n');
      const r = await gate(['profiles=broken.out'], prEnv());
      expect(r.code).toBe(1);
      expect(api.calls).toEqual([]);
    }, 120_000);

    test('comment-from posts a saved report only on the pull request whose head the workflow run built', async () => {
      api = await startGitHubApi({ token: TOKEN, readOnly: true });
      const report = join(tempDir('cov-from'), 'coverage-report.json');
      expect((await gate([`report-file=${report}`], prEnv())).code).toBe(0);
      await api.close();
      // The second workflow: workflow_run event, write token, no checkout of the fork's code.
      api = await startGitHubApi({ token: TOKEN });
      api.pulls.set(7, { headSha: HEAD });
      const runEnv = (headSha: string) => ({
        ...prEnv(),
        GITHUB_EVENT_NAME: 'workflow_run',
        GITHUB_EVENT_PATH: event(`run-${headSha}`, { workflow_run: { id: 5, head_sha: headSha } }),
      });
      const stale = await gate(
        [`comment-from=${report}`],
        runEnv('0000000000000000000000000000000000000bad'),
      );
      expect(stale.code).toBe(1);
      expect(stale.stderr).toContain(
        'The report names pull request #7, whose head is c0ffee0, but the workflow run was for 0000000',
      );
      expect(api.comments.get(7) ?? []).toEqual([]);
      const ok = await gate([`comment-from=${report}`], runEnv(HEAD));
      expect(ok.code).toBe(0);
      const [c] = api.comments.get(7)!;
      expect(c.body).toContain(`Coverage: ${(await goToolCoverFunc(dir, 'coverage.out')).total}`);
      expect(JSON.parse(ok.stdout).outputs.passed).toBe('true');
    }, 120_000);

    // Untrusted input: the report in comment-from mode is a fork's file.
    test('comment-from: a doctored report is data: names dropped, its verdict and words ignored, gates re-decided', async () => {
      api = await startGitHubApi({ token: TOKEN, readOnly: true });
      const report = join(tempDir('cov-evil'), 'coverage-report.json');
      expect((await gate([`report-file=${report}`], prEnv())).code).toBe(0);
      await api.close();
      const doctored = JSON.parse(readFileSync(report, 'utf8'));
      doctored.passed = true;
      doctored.gates = [{ name: 'total', ratio: doctored.totalFunc, rule: '≥ 0.0%', passed: true }];
      doctored.packages.push({
        pkg: '# Approved by the security team',
        func: { covered: 1, total: 1 },
        all: { covered: 1, total: 1 },
      });
      doctored.files.push({ file: '![x](https://evil.example/x.png)', all: { covered: 0, total: 9 } });
      doctored.totalFunc.percent = '100.0%';
      doctored.baseline = {
        source: '@org/team <b>approved</b>',
        totalFunc: { covered: 1, total: 2 },
        delta: '+99',
      };
      writeFileSync(report, JSON.stringify(doctored));
      api = await startGitHubApi({ token: TOKEN });
      api.pulls.set(7, { headSha: HEAD });
      // A maintainer's comment that quotes the marker is not ours to edit.
      const marker = '<!-- go-ship:coverage-gate . -->';
      api.comments.set(7, [
        {
          id: 1,
          body: `${marker}\nmaintainer's notes`,
          html_url: '',
          user: { login: 'maintainer', type: 'User' },
        },
      ]);
      writeFileSync(join(dir, '.go-ship.yml'), 'coverage-gate:\n  threshold-total: 0\n');
      try {
        const env = {
          ...prEnv(),
          GITHUB_EVENT_NAME: 'workflow_run',
          GITHUB_EVENT_PATH: event('run-evil', { workflow_run: { id: 5, head_sha: HEAD } }),
        };
        const r = await gate([`comment-from=${report}`, 'threshold-total=99'], env);
        expect(r.code).toBe(0);
        expect(r.stderr).toContain('.go-ship.yml is not read');
        expect(r.stderr).toContain('2 name(s) in the report are not plain paths and were left out');
        expect(JSON.parse(r.stdout).outputs.passed).toBe('false');
        const comments = api.comments.get(7)!;
        expect(comments[0].body).toBe(`${marker}\nmaintainer's notes`);
        expect(comments).toHaveLength(2);
        const body = comments[1].body;
        const go = await goToolCoverFunc(dir, 'coverage.out');
        expect(body).toContain(`❌ Coverage: ${go.total}`);
        expect(body).toContain('❌ ≥ 99.0%');
        for (const evil of ['Approved', 'evil.example', '@org', '<b>', '+99', '100.0%'])
          expect(body).not.toContain(evil);
        // #29 item 9: the fork's own baseline figure (50.0%) was shown as the base branch's.
        expect(body).not.toContain('compared with');

        // This job's own baseline (its input, not the report's) gives the delta and max-drop.
        const trusted = join(tempDir('cov-trusted'), 'base.json');
        writeFileSync(
          trusted,
          JSON.stringify({
            schema: 'go-ship/coverage-report@1',
            commit: 'b'.repeat(40),
            totalFunc: { covered: 999, total: 1000 },
            packages: [],
          }),
        );
        const judged = await gate([`comment-from=${report}`, `baseline=${trusted}`, 'max-drop=1'], env);
        expect(JSON.parse(judged.stdout).outputs.passed).toBe('false');
        const again = api.comments.get(7)!.at(-1)!.body;
        expect(again).toContain(`compared with ${trusted}: 99.9%`);
        expect(again).toMatch(/❌[^\n]*≤ 1\.0 below 99\.9%/);
      } finally {
        rmSync(join(dir, '.go-ship.yml'));
      }
      // No workflow_run to check the head against: refused. A report without totals: refused, not a crash.
      const noRun = await gate([`comment-from=${report}`], prEnv());
      expect(noRun.code).toBe(1);
      expect(noRun.stderr).toContain('the event has no workflow_run head commit to check the report against');
      delete doctored.totalAll;
      writeFileSync(report, JSON.stringify(doctored));
      const broken = await gate([`comment-from=${report}`], prEnv());
      expect(broken.code).toBe(1);
      expect(broken.stderr).toContain('is not a coverage-gate report (totalAll is not an object)');
      expect(broken.stderr).not.toContain('go-ship bug');
      expect(api.comments.get(7)).toHaveLength(2);
    }, 120_000);

    const baselineJson = (covered: number, total: number) =>
      JSON.stringify({
        schema: 'go-ship/coverage-report@1',
        commit: 'b'.repeat(40),
        totalFunc: { covered, total },
        packages: [],
      });

    test('max-drop against a baseline file: integers, the delta in the summary; a missing baseline is a notice', async () => {
      api = await startGitHubApi({ token: TOKEN });
      const base = tempDir('cov-base');
      writeFileSync(join(base, 'high.json'), baselineJson(999, 1000));
      writeFileSync(join(base, 'low.json'), baselineJson(1, 1000));
      const go = await goToolCoverFunc(dir, 'coverage.out');
      const high = await gate(
        [`baseline=${join(base, 'high.json')}`, 'max-drop=1', 'comment=false'],
        prEnv(),
      );
      expect(high.code).toBe(1);
      expect(high.stderr).toContain(`total ${go.total} is`);
      expect(high.stderr).toContain(
        `points below the baseline's 99.9% (${join(base, 'high.json')}); max-drop allows 1.0`,
      );
      const low = await gate([`baseline=${join(base, 'low.json')}`, 'max-drop=0', 'comment=false'], prEnv());
      expect(low.code).toBe(0);
      expect(JSON.parse(low.stdout).summary).toMatch(/0\.1% → \+\d+\.\d/);
      const none = await gate(
        [`baseline=${join(base, 'none.json')}`, 'max-drop=0', 'comment=false'],
        prEnv(),
      );
      expect(none.code).toBe(0);
      expect(none.stderr).toContain('notice: No baseline yet (no file');
    }, 120_000);

    test('baseline artifact: the newest unexpired one from the base branch, downloaded without the token', async () => {
      api = await startGitHubApi({ token: TOKEN });
      const zip = (json: string) => {
        const d = tempDir('cov-zip');
        writeFileSync(join(d, 'coverage-report.json'), json);
        execFileSync('python3', [
          '-c',
          'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1],"w",zipfile.ZIP_DEFLATED); z.write(sys.argv[2],"coverage-report.json"); z.close()',
          join(d, 'a.zip'),
          join(d, 'coverage-report.json'),
        ]);
        return readFileSync(join(d, 'a.zip'));
      };
      const art = (id: number, branch: string, created: string, expired: boolean, covered: number) => ({
        id,
        name: 'coverage-baseline',
        expired,
        created_at: created,
        branch,
        headSha: `${id}`.padEnd(40, 'a'),
        zip: zip(baselineJson(covered, 1000)),
      });
      api.artifacts.push(
        art(11, 'main', '2026-11-01T00:00:00Z', false, 100),
        art(12, 'main', '2026-11-03T00:00:00Z', false, 200), // the one
        art(13, 'feature', '2026-11-05T00:00:00Z', false, 300),
        art(14, 'main', '2026-11-04T00:00:00Z', true, 400),
        // A fork's own `main` runs here too (pull_request from a fork): never the baseline.
        { ...art(15, 'main', '2026-11-06T00:00:00Z', false, 900), headRepositoryId: 999 },
      );
      const r = await gate(['baseline=artifact:coverage-baseline', 'comment=false'], prEnv());
      expect(r.code).toBe(0);
      const report = JSON.parse(readFileSync(JSON.parse(r.stdout).outputs['report-json'], 'utf8'));
      expect(report.baseline).toMatchObject({
        source: 'artifact coverage-baseline (run 13, commit 12aaaaa)',
        totalFunc: { covered: 200, total: 1000, percent: '20.0%' },
      });
      const storage = api.calls.filter((c) => c.path.startsWith('/storage/'));
      expect(storage).toEqual([{ method: 'GET', path: '/storage/12.zip', auth: undefined }]);

      // A damaged artifact (truncated, or its deflate data broken) is the uploading run's, not a go-ship bug.
      const good = zip(baselineJson(500, 1000));
      const flipped = Buffer.from(good);
      flipped[55] ^= 0xff; // inside the deflated data of the only entry (after its 30 + 20 byte header)
      for (const [id, bytes] of [
        [21, good.subarray(0, good.length - 30)],
        [22, flipped],
      ] as const) {
        api.artifacts.length = 0;
        api.artifacts.push({ ...art(id, 'main', '2026-11-09T00:00:00Z', false, 1), zip: bytes });
        const bad = await gate(['baseline=artifact:coverage-baseline', 'comment=false'], prEnv());
        expect(bad.code).toBe(1);
        expect(bad.stderr).toContain(`The baseline artifact coverage-baseline (id ${id}) cannot be read`);
        expect(bad.stderr).toContain("Re-run the base branch's coverage-gate job");
        expect(bad.stderr).not.toContain('go-ship bug');
      }
    }, 120_000);

    test('a badge with the -func total', async () => {
      api = await startGitHubApi({ token: TOKEN });
      const out = join(tempDir('cov-badge'), 'badges', 'coverage.svg');
      const r = await gate([`badge=${out}`, 'threshold-total=99', 'comment=false'], prEnv());
      expect(r.code).toBe(1);
      const svg = readFileSync(out, 'utf8');
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      expect(svg).toContain(`<title>coverage: ${(await goToolCoverFunc(dir, 'coverage.out')).total}</title>`);
      expect(svg).toContain('fill="#e05d44"'); // red: the total's gate failed
    }, 120_000);

    test.each([
      [
        ['max-drop=1'],
        'Input `max-drop` got `1`; it accepts a number of percentage points. It compares with the base branch: set `baseline` too',
      ],
      [
        ['baseline=artifact:no spaces'],
        'Input `baseline` got `artifact:no spaces`; it accepts a file path or `artifact:NAME`',
      ],
      [['comment-from=missing.json'], 'which does not exist. Download the pull request run'],
    ])(
      'bad input %j',
      async (withs, message) => {
        api = await startGitHubApi({ token: TOKEN });
        const r = await gate(withs, prEnv());
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(message);
      },
      60_000,
    );
  },
);
