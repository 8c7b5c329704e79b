import { sarifLog } from '../../quality/sarif.js';
import { junitXml } from '../../quality/junit.js';
import { type LintResult, lintModule } from '../../quality/lint.js';
import { chooseRace, runTests } from '../../quality/gotest.js';
import { type QualityReport, testReport, testsPassed } from '../../quality/report.js';
import { writeSummary } from '../../runner/action.js';
import { childEnv } from '../../runner/child-env.js';
import { onFirstUse } from '../../runner/command.js';
import { UserError } from '../../runner/errors.js';
import { gitLocation } from '../../runner/git.js';
import { log } from '../../runner/log.js';
import * as workflow from '../../runner/workflow.js';
import { type Config, getInputs } from './inputs.js';
import { summarize } from './summary.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export async function run(): Promise<void> {
  const config = getInputs();
  // Asked of git once golangci-lint has started (the longest run goes first); the linters need it
  // only for their findings' paths.
  const top = onFirstUse(() => gitLocation(config.workspace).then((l) => l?.top ?? config.workspace));
  // gofmt, vet, golangci-lint and the tests all read or run the user's code: no inputs, no tokens.
  const lintEnv = childEnv();
  const report: QualityReport = { passed: true };
  let lint: LintResult | undefined;
  if (config.checks.includes('lint')) {
    lint = await log.group(
      'Lint: gofmt, go vet' +
        (config.golangciLintVersion ? `, golangci-lint ${config.golangciLintVersion}` : ''),
      () =>
        lintModule(
          {
            workspace: config.workspace,
            top,
            packages: config.packages.flatMap((l) => l.split(/\s+/)),
            env: lintEnv,
            scratch: config.scratch,
          },
          { golangciLintVersion: config.golangciLintVersion, baseRef: config.baseRef, progress: log.info },
        ),
    );
    report.lint = { base: lint.base, versions: lint.versions, vetBy: lint.vetBy, findings: lint.findings };
    write(config.sarifFile, JSON.stringify(sarifLog(lint.findings, lint.versions), null, 2));
    workflow.setOutput('sarif-file', config.sarifFile);
    workflow.setOutput('lint-failing', String(lint.findings.filter((f) => f.failing).length));
    workflow.setOutput('lint-listed', String(lint.findings.filter((f) => !f.failing).length));
  }
  if (config.checks.includes('test')) {
    const env = childEnv({}, config.testEnv);
    const repoTop = await top;
    const race = await chooseRace(config.race, config.workspace, env);
    if (!race.on) log.info(`Tests run without the race detector: ${race.why}`);
    const testRun = await log.group(
      `go test -json${race.on ? ' -race' : ''} ${config.packages.join('; ')}`,
      () =>
        runTests(
          {
            cwd: config.workspace,
            top: repoTop,
            env,
            packages: config.packages,
            flags: config.testFlags,
            race: race.on,
            coverprofile: config.coverprofile,
            retries: config.retries,
          },
          log.info,
        ),
    );
    report.test = testReport(testRun, race, config.failOnFlaky);
    write(config.junitFile, junitXml(testRun.packages, testRun.tests, config.failOnFlaky));
    const t = report.test;
    for (const [name, value] of Object.entries({
      tests: t.tests,
      failed: t.failed.length,
      flaky: t.flaky.length,
      skipped: t.skipped,
      race: race.on,
      'junit-file': config.junitFile,
    }))
      workflow.setOutput(name, String(value));
  }
  const lintFailing = lint?.findings.filter((f) => f.failing) ?? [];
  report.passed = !lintFailing.length && (!report.test || testsPassed(report.test));
  write(config.reportFile, JSON.stringify(report));
  workflow.setOutput('report-file', config.reportFile);
  workflow.setOutput('passed', String(report.passed));
  if (config.annotate) annotate(report, config);
  await writeSummary(summarize(report, config));
  if (!report.passed) throw new UserError(verdict(report));
}

function write(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** Every failing finding and test on its line; findings the change did not touch as warnings. */
function annotate(report: QualityReport, config: Config): void {
  for (const f of report.lint?.findings ?? []) {
    const at = f.file
      ? { file: f.file, line: f.line, title: `${f.linter}: ${f.rule}` }
      : { title: `${f.linter}: ${f.rule}` };
    if (f.failing) workflow.error(f.message, at);
    else workflow.warning(`${f.message} (on a line this change did not touch: listed, not failing)`, at);
  }
  for (const t of report.test?.failed ?? [])
    workflow.error(
      `${t.race ? 'Data race' : 'Failed'}: ${t.name} (${t.pkg})\n${t.output.slice(0, 12).join('\n')}`,
      t.place?.file ? { file: t.place.file, line: t.place.line, title: t.name } : { title: t.name },
    );
  for (const p of report.test?.brokenPackages ?? []) {
    for (const e of p.errors)
      workflow.error(e.message, {
        file: e.place.file || undefined,
        line: e.place.line,
        title: `${p.pkg}: build failed`,
      });
    if (!p.errors.length)
      workflow.error(`${p.pkg} failed outside its tests:\n${p.output.slice(-12).join('\n')}`, {
        title: p.pkg,
      });
  }
  for (const t of report.test?.flaky ?? [])
    workflow.warning(
      `Flaky: ${t.name} (${t.pkg}) failed, then passed when run again alone${config.failOnFlaky ? '' : ' (not failing: set fail-on-flaky to fail on it)'}`,
    );
}

function verdict(report: QualityReport): string {
  const parts: string[] = [];
  const failing = report.lint?.findings.filter((f) => f.failing) ?? [];
  if (failing.length)
    parts.push(
      `${failing.length} lint finding${failing.length === 1 ? '' : 's'}${report.lint?.base ? ' on changed lines' : ''}`,
    );
  const t = report.test;
  if (t?.failed.length) {
    const races = t.failed.filter((f) => f.race).length;
    parts.push(
      `${t.failed.length} failed test${t.failed.length === 1 ? '' : 's'}${races ? ` (${races} with a data race)` : ''}: ${t.failed
        .slice(0, 5)
        .map((f) => f.name)
        .join(', ')}`,
    );
  }
  if (t?.brokenPackages.length)
    parts.push(
      `${t.brokenPackages.length} package(s) failed outside their tests: ${t.brokenPackages.map((p) => p.pkg).join(', ')}`,
    );
  return `Quality gate failed: ${parts.join('; ')}. The annotations and the job summary show where.`;
}
