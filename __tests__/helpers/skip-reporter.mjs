// A jest reporter that ends the run with what was not tested and why: every suite that
// describeWith skipped for a missing component, grouped by component, with the command that
// provides it. Jest's default output hides skipped suites' titles, where the reasons are.
const PROVIDE = 'bash scripts/components.sh install && bash scripts/components.sh start';

export default class SkipReporter {
  onRunComplete(_contexts, results) {
    const byReason = new Map();
    for (const file of results.testResults) {
      for (const t of file.testResults) {
        if (t.status !== 'pending') continue;
        const m = /^(.*) \(skipped: (.+)\)$/.exec(t.ancestorTitles[0] ?? '');
        if (!m) continue;
        const entry = byReason.get(m[2]) ?? { suites: new Set(), tests: 0 };
        entry.suites.add(m[1]);
        entry.tests += 1;
        byReason.set(m[2], entry);
      }
    }
    if (!byReason.size) return;
    const total = [...byReason.values()].reduce((n, e) => n + e.tests, 0);
    const unit = byReason.get('unit tests only');
    if (unit) {
      console.log(
        `\nUnit tests only: ${unit.tests} tests in ${unit.suites.size} suites that need Go, git or a component were not run; \`npm test\` runs them.`,
      );
      return;
    }
    const lines = [`\nNot run: ${total} tests whose components are missing here.`];
    for (const [reason, e] of byReason)
      lines.push(`  ${reason} (${e.tests} tests): ${[...e.suites].join('; ')}`);
    lines.push(
      `Provide them with: ${PROVIDE}\n(\`bash scripts/components.sh status\` shows what is there; the first install takes about 15 minutes, most of it building Kubernetes.)`,
    );
    console.log(lines.join('\n'));
  }
}
