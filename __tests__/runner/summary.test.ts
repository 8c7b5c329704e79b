import { Summary, mdCode, mdText } from '../../src/runner/summary.js';

describe('Summary', () => {
  test('tables escape pipes and newlines and keep alignment markers', () => {
    const md = new Summary()
      .table(
        ['target', 'size'],
        [
          ['linux|amd64', 12],
          ['a\nb', 3],
        ],
        ['left', 'right'],
      )
      .toString();
    expect(md).toBe('| target | size |\n| --- | ---: |\n| linux\\|amd64 | 12 |\n| a<br>b | 3 |\n');
  });

  test('bar chart is valid mermaid xychart with labels, values and an axis above the maximum', () => {
    const md = new Summary()
      .barChart(
        'Binary size',
        [
          { label: 'linux/amd64', value: 5.25 },
          { label: 'darwin/arm64', value: 5.5 },
        ],
        'MB',
      )
      .toString();
    expect(md).toContain('```mermaid\nxychart-beta\n');
    expect(md).toContain('x-axis ["linux/amd64", "darwin/arm64"]');
    expect(md).toContain('bar [5.25, 5.5]');
    expect(md).toContain('y-axis "MB" 0 --> 6.05');
  });

  test('timeline is a gantt chart in milliseconds from the first phase, failures marked crit', () => {
    const md = new Summary()
      .timeline('Deploy', [
        { name: 'deploy green', startMs: 1000, durationMs: 2500 },
        { name: 'health: checks', startMs: 3500, durationMs: 800, failed: true },
      ])
      .toString();
    expect(md).toContain('dateFormat x');
    expect(md).toContain('deploy green : p0, 0, 2500ms');
    expect(md).toContain('health  checks : crit, p1, 2500, 800ms');
  });

  test('details and code blocks; empty charts are left out', () => {
    const s = new Summary().details('Plan <json>', 'body').barChart('none', [], 'x').code('a ``` b', 'text');
    expect(s.toString()).toBe(
      '<details><summary>Plan &lt;json&gt;</summary>\n\nbody\n\n</details>\n\n````text\na ``` b\n````\n',
    );
    expect(new Summary().isEmpty()).toBe(true);
  });
});

// #29: one rule for outside text. Markdown escaping alone left ESC and the C1 controls (U+0085 is a
// line break to the runner) in summaries and comments, which the CLI also prints to a terminal.
test('mdText and mdCode make control characters inert, as log lines do', () => {
  const hostile = 'a\u001b[31mred\u0085::error::x\u2028b';
  for (const md of [mdText(hostile), mdCode(hostile)]) {
    // eslint-disable-next-line no-control-regex
    expect(md).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/);
    expect(md).toContain('\\u{001b}');
    expect(md).toContain('\\u{0085}');
  }
});
