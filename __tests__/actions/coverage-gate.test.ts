import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { goShip, tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { covmodCopy, goTest, goToolCoverFunc } from '../coverage/gocover.js';

/**
 * coverage-gate through the bundle, on a real git repository of the fixture module: main holds the
 * module, a branch adds code that its tests cover in part, and `go test` writes the profiles.
 */
describeWith('go and git', hasCommand('go', ['version']) && hasCommand('git'), 'coverage-gate', () => {
  const dir = covmodCopy();
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
      cwd: dir,
      encoding: 'utf8',
    });

  beforeAll(async () => {
    git('init', '-q', '-b', 'main');
    writeFileSync(join(dir, '.gitignore'), '*.out\n');
    git('add', '.');
    git('commit', '-q', '-m', 'base');
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

  let n = 0;
  const gate = (withs: string[]) =>
    goShip([
      'coverage-gate',
      '--workspace',
      dir,
      '--json',
      ...[...withs, `report-file=${join(tempDir('cov-report'), `r${n++}.json`)}`].flatMap((w) => [
        '--with',
        w,
      ]),
    ]);

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

  test('generated files are excluded by default; file overrides use checkout paths', async () => {
    const r = await gate(['threshold-file=10\ncalc/zz_generated.go: 0\nutil/**: 0']);
    const report = JSON.parse(readFileSync(JSON.parse(r.stdout).outputs['report-json'], 'utf8'));
    expect(report.excluded).toEqual([{ file: 'example.com/covmod/calc/zz_generated.go', why: 'generated' }]);
    expect(r.code).toBe(0);
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

  test('a malformed profile names the file and line; nothing is reported', async () => {
    writeFileSync(join(dir, 'broken.out'), 'mode: set\nexample.com/covmod/calc/calc.go:1.1,2.2 1\n');
    const r = await gate(['profiles=broken.out']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('broken.out:2: missing fields');
    expect(JSON.parse(r.stdout).outputs).toEqual({});
  });
});
