import { evaluateGate, parseThreshold, type MetricGate } from '../../src/deploy/prometheus.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { freePort } from '../helpers/net.js';
import { startServer } from '../helpers/server.js';
import { startPrometheus, type TestPrometheus } from '../helpers/prometheus.js';

test('thresholds: a comparison and a number, or a clear error naming the input', () => {
  expect(parseThreshold('threshold', '< 0.05')).toEqual({ comparator: '<', threshold: 0.05 });
  expect(parseThreshold('threshold', '>=0.99')).toEqual({ comparator: '>=', threshold: 0.99 });
  expect(parseThreshold('threshold', '!= 1e-3')).toEqual({ comparator: '!=', threshold: 0.001 });
  expect(() => parseThreshold('threshold', '0.05')).toThrow(
    /Input `threshold` got `0.05`; it accepts a comparison and a number, such as `< 0.05`/,
  );
  expect(() => parseThreshold('threshold', '=< 1')).toThrow(/threshold/);
});

// A server that answers like Prometheus but not with its shapes: `result: null` crashed as a go-ship bug.
test.each([
  ['vector', null],
  ['vector', [{ metric: {} }, 7]],
  ['matrix', [{ values: null }]],
  ['scalar', null],
])('a %s answer shaped %j is no data, not a crash', async (resultType, result) => {
  const server = await startServer((_req, res) => {
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ status: 'success', data: { resultType, result } }));
  });
  try {
    const g = await evaluateGate(
      {
        url: server.url,
        query: 'up',
        ...parseThreshold('threshold', '< 1'),
        onNoData: 'fail',
        timeoutMs: 5_000,
      },
      { COLOR: 'green', VERSION: '1' },
    );
    expect(g.passed).toBe(false);
    expect(g.detail).toMatch(/: (no samples|NaN)\. A version without traffic/);
  } finally {
    await server.close();
  }
});

describeWith(
  'Prometheus',
  hasCommand('prometheus', ['--version']),
  'the metric gate against a real Prometheus',
  () => {
    let prom: TestPrometheus;
    const gate = (query: string, threshold: string, onNoData: 'fail' | 'pass' = 'fail'): MetricGate => ({
      url: prom.url,
      query,
      ...parseThreshold('threshold', threshold),
      onNoData,
      timeoutMs: 5_000,
    });
    const vars = { COLOR: 'green', VERSION: '1.1.0' };

    beforeAll(async () => {
      prom = await startPrometheus();
      prom.metrics.text = [
        '# TYPE hello_error_ratio gauge',
        'hello_error_ratio{color="blue",version="1.0.0"} 0',
        'hello_error_ratio{color="green",version="1.1.0"} 0.25',
        'hello_requests{color="blue"} 0',
        '',
      ].join('\n');
      await prom.scraped();
    }, 60_000);
    afterAll(async () => prom?.stop());

    test('${COLOR} and ${VERSION} are filled in; every sample is judged', async () => {
      const ok = await evaluateGate(gate('hello_error_ratio{color="${COLOR}"}', '< 0.5'), vars);
      expect(ok).toMatchObject({ passed: true, values: [0.25] });
      expect(ok.detail).toContain('`hello_error_ratio{color="green"}` < 0.5: got 0.25');
      const bad = await evaluateGate(gate('hello_error_ratio{version="${VERSION}"}', '< 0.05'), vars);
      expect(bad).toMatchObject({ passed: false, values: [0.25] });
      const both = await evaluateGate(gate('hello_error_ratio', '< 0.05'), vars);
      expect(both.passed).toBe(false);
      expect(both.values.sort()).toEqual([0, 0.25]);
    });

    test('no data and NaN follow on-no-data, with a hint when they fail', async () => {
      const empty = await evaluateGate(gate('hello_error_ratio{color="purple"}', '< 0.05'), vars);
      expect(empty.passed).toBe(false);
      expect(empty.detail).toMatch(
        /no samples\. A version without traffic has no data yet; add `or vector\(0\)`/,
      );
      expect(
        (await evaluateGate(gate('hello_error_ratio{color="purple"}', '< 0.05', 'pass'), vars)).passed,
      ).toBe(true);
      // 0/0 is NaN in PromQL: a ratio over a version that had no requests.
      const nan = await evaluateGate(gate('hello_requests / hello_requests', '< 0.05'), vars);
      expect(nan).toMatchObject({ passed: false });
      expect(nan.detail).toMatch(/: NaN\./);
      expect(
        (await evaluateGate(gate('hello_requests / hello_requests', '< 0.05', 'pass'), vars)).passed,
      ).toBe(true);
      const orZero = await evaluateGate(
        gate('hello_error_ratio{color="purple"} or vector(0)', '< 0.05'),
        vars,
      );
      expect(orZero).toMatchObject({ passed: true, values: [0] });
    });

    // Untrusted input (#29 item 9): the version went into PromQL as it came. A version that closes
    // the string and adds `or vector(0)` turned a failing gate into a passing one.
    test('a version that tries to close the string stays inside it', async () => {
      const steer = { COLOR: 'green', VERSION: '1.1.0"} * 0 or vector(0) or x{a="' };
      const g = await evaluateGate(
        gate('hello_error_ratio{color="${COLOR}",version="${VERSION}"}', '< 0.05'),
        steer,
      );
      expect(g.passed).toBe(false);
      expect(g.detail).toContain('version="1.1.0\\"} * 0 or vector(0) or x{a=\\""}');
      expect(g.detail).toMatch(/: no samples\./);
    });

    test('a query Prometheus refuses and an unreachable Prometheus fail the gate with the reason', async () => {
      const refused = await evaluateGate(gate('sum(', '< 1'), vars);
      expect(refused.passed).toBe(false);
      expect(refused.detail).toMatch(/Prometheus refused the query \(bad_data: .*parse error/);
      const down = await evaluateGate(
        { ...gate('up', '< 1'), url: `http://127.0.0.1:${await freePort()}` },
        vars,
      );
      expect(down.passed).toBe(false);
      expect(down.detail).toMatch(/did not answer \(ECONNREFUSED after 4 attempts\)/);
    });
  },
);
