import { evaluate, maxDropGate, thresholdGate } from '../../src/coverage/gates.js';
import { uncoveredRanges, type LineState } from '../../src/coverage/patch.js';
import { GlobSet } from '../../src/runner/glob.js';

// The gate rules straight against their module: integers, so 79.95% never rounds its way past 80.0%.
test('a threshold is met exactly at the line, in integers, and the rule says what it was', () => {
  expect(thresholdGate('total', { covered: 800, total: 1000 }, 800).passed).toBe(true);
  expect(thresholdGate('total', { covered: 7995, total: 10000 }, 800).passed).toBe(false);
  const g = thresholdGate('total', { covered: 1, total: 3 }, 500);
  expect([g.rule, g.passed, g.failure]).toEqual(['≥ 50.0%', false, 'total 33.3% is below 50.0%']);
  // Nothing to measure is not a failure.
  expect(thresholdGate('total', { covered: 0, total: 0 }, 1000).passed).toBe(true);
});

test('total, package and file gates; the first file override that matches wins', () => {
  const gates = evaluate(
    {
      thresholdTotal: 700,
      thresholdPackage: 600,
      thresholdFile: 500,
      fileOverrides: [
        { glob: new GlobSet(['internal/gen/**']), tenths: 0 },
        { glob: new GlobSet(['internal/**']), tenths: 900 },
      ],
    },
    {
      totalFunc: { covered: 7, total: 10 },
      packages: [{ pkg: 'example.com/m/internal', func: { covered: 1, total: 2 } }],
      files: [
        { file: 'example.com/m/internal/gen/x.go', all: { covered: 0, total: 4 } },
        { file: 'example.com/m/internal/y.go', func: { covered: 8, total: 10 }, all: { covered: 1, total: 1 } },
        { file: 'example.com/m/z.go', all: { covered: 1, total: 2 } },
      ],
    },
    (f) => f.replace('example.com/m/', ''),
  );
  expect(gates.map((g) => [g.name, g.rule, g.passed])).toEqual([
    ['total', '≥ 70.0%', true],
    ['package example.com/m/internal', '≥ 60.0%', false],
    ['file example.com/m/internal/gen/x.go', '≥ 0.0%', true],
    // Judged by its functions when it has them, not by all its statements.
    ['file example.com/m/internal/y.go', '≥ 90.0%', false],
    ['file example.com/m/z.go', '≥ 50.0%', true],
  ]);
  // No thresholds: no gates.
  expect(evaluate({ fileOverrides: [] }, { totalFunc: { covered: 0, total: 9 }, packages: [], files: [] }, String)).toEqual(
    [],
  );
});

test('max-drop allows exactly the drop it names below the baseline, and says by how much it fell', () => {
  const baseline = { source: 'artifact coverage (run 7)', totalFunc: { covered: 812, total: 1000 }, packages: [] };
  expect(maxDropGate({ covered: 807, total: 1000 }, baseline, 5).passed).toBe(true);
  const g = maxDropGate({ covered: 806, total: 1000 }, baseline, 5);
  expect([g.passed, g.rule]).toEqual([false, '≤ 0.5 below 81.2%']);
  expect(g.failure).toBe(
    "total 80.6% is 0.6 points below the baseline's 81.2% (artifact coverage (run 7)); max-drop allows 0.5",
  );
});

test('uncovered and partial changed lines become ranges for the annotations', () => {
  const lines = new Map<number, LineState>([
    [3, 'uncovered'],
    [4, 'partial'],
    [5, 'uncovered'],
    [6, 'covered'],
    [9, 'uncovered'],
  ]);
  expect(uncoveredRanges(lines)).toEqual([
    [3, 5],
    [9, 9],
  ]);
});
