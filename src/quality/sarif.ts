import type { Log, ReportingDescriptor, Result, Run } from 'sarif';
import { LINTERS, type Finding, type Linter } from './findings.js';

const TOOLS: Record<Linter, { informationUri: string; rule: (r: string) => string | undefined }> = {
  gofmt: { informationUri: 'https://pkg.go.dev/cmd/gofmt', rule: () => 'https://pkg.go.dev/cmd/gofmt' },
  'go vet': {
    informationUri: 'https://pkg.go.dev/cmd/vet',
    rule: (r) => `https://pkg.go.dev/golang.org/x/tools/go/analysis/passes/${r}`,
  },
  'golangci-lint': { informationUri: 'https://golangci-lint.run', rule: () => undefined },
};

/**
 * SARIF 2.1.0 for code scanning and the tools that read it: one run per linter (GitHub takes several
 * runs in one file when their tools differ), each rule a linter or analyzer, each result at a path
 * relative to the repository's top (`%SRCROOT%`). A finding with no file in the repository has no
 * location, as the format allows.
 */
export function sarifLog(findings: Finding[], versions: Partial<Record<Linter, string>>): Log {
  const runs: Run[] = [];
  for (const linter of LINTERS) {
    const mine = findings.filter((f) => f.linter === linter);
    if (!mine.length && !versions[linter]) continue;
    const ruleIds = [...new Set(mine.map((f) => f.rule))].sort();
    const rules: ReportingDescriptor[] = ruleIds.map((id) => {
      const helpUri = TOOLS[linter].rule(id);
      return { id, ...(helpUri ? { helpUri } : {}) };
    });
    const results: Result[] = mine.map((f) => ({
      ruleId: f.rule,
      ruleIndex: ruleIds.indexOf(f.rule),
      level: f.severity,
      message: { text: f.message },
      ...(f.file
        ? {
            locations: [
              {
                physicalLocation: {
                  artifactLocation: {
                    uri: f.file.split('/').map(encodeURIComponent).join('/'),
                    uriBaseId: '%SRCROOT%',
                  },
                  region: { startLine: Math.max(1, f.line), ...(f.column ? { startColumn: f.column } : {}) },
                },
              },
            ],
          }
        : {}),
    }));
    runs.push({
      tool: {
        driver: {
          name: linter,
          informationUri: TOOLS[linter].informationUri,
          ...(versions[linter] ? { version: versions[linter] } : {}),
          rules,
        },
      },
      results,
    });
  }
  return { $schema: 'https://json.schemastore.org/sarif-2.1.0.json', version: '2.1.0', runs };
}
