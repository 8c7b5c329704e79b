import { writeBadge } from '../../coverage/badge.js';
import { type Baseline, findBaseline, formatDelta } from '../../coverage/baseline.js';
import { type Excluded, collectCoverage } from '../../coverage/collect.js';
import { postComment, postCommentFrom } from '../../coverage/comment.js';
import { evaluate, maxDropGate, thresholdGate } from '../../coverage/gates.js';
import { type PatchResult, patchCoverage, uncoveredRanges } from '../../coverage/patch.js';
import {
  type ReportJson,
  judgeUntrustedReport,
  testResultsOfQualityReport,
  toReportJson,
} from '../../coverage/report-json.js';
import { type CoverageReport, formatRatio } from '../../coverage/report.js';
import { tell } from '../../notify/notify.js';
import { writeSummary } from '../../runner/action.js';
import { UserError } from '../../runner/errors.js';
import { log } from '../../runner/log.js';
import * as workflow from '../../runner/workflow.js';
import { type Config, getInputs } from './inputs.js';
import { excludedText, summarize } from './summary.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export async function run(): Promise<void> {
  const config = getInputs();
  if (config.commentFrom) return commentFrom(config, config.commentFrom);
  const { kept, paths, whole, report, excluded } = await collectCoverage(config.workspace, config);

  const gates = evaluate(config, report, (file) => paths.get(file) ?? file);
  const patch = config.baseRef
    ? await patchCoverage(config.workspace, config.baseRef, kept, paths)
    : undefined;
  if (patch && config.thresholdPatch !== undefined)
    gates.push(thresholdGate('patch', patch.ratio, config.thresholdPatch));
  if (patch && config.annotate) annotate(patch);
  const baseline = await baselineOf(config);
  if (baseline && config.maxDrop !== undefined)
    gates.push(maxDropGate(report.totalFunc, baseline, config.maxDrop));

  const passed = gates.every((g) => g.passed);
  const json = toReportJson(config.workspace, report, whole, gates, patch, excluded, baseline, passed);
  if (config.testResults) {
    const { tests, dropped } = testResultsOfQualityReport(
      readFileSync(config.testResults, 'utf8'),
      config.testResults,
    );
    json.tests = tests;
    if (dropped)
      workflow.warning(`test-results: ${dropped} test name(s) are not plain names and were left out.`);
  }
  mkdirSync(dirname(config.reportFile), { recursive: true });
  // Compact: with every function listed, a big module's report runs to megabytes.
  writeFileSync(config.reportFile, JSON.stringify(json));
  if (config.badge) writeBadge(config.badge, report.totalFunc, gates.find((g) => g.name === 'total')?.passed);
  setOutputs(json, config.reportFile);
  log.info(
    `Coverage: ${coverageLine(report, whole, excluded)}${patch ? `; patch ${formatRatio(patch.ratio)} of ${patch.ratio.total} changed lines` : ''}${baseline ? `; ${formatDelta(report.totalFunc, baseline.totalFunc)} vs ${baseline.source}` : ''}`,
  );
  await writeSummary(summarize(report, whole, gates, patch, excluded, passed, baseline));
  if (config.comment) await postComment(json, config.githubToken);
  const failed = gates.filter((g) => !g.passed);
  if (!failed.length) return;
  const why = `Coverage gate failed: ${failed.map((g) => g.failure).join('; ')}.`;
  // On a pull request the comment and the check say it; on the default branch someone should be told.
  if (pushToDefaultBranch())
    await tell(config.notify, {
      event: 'coverage-failed',
      subject: process.env.GITHUB_REPOSITORY ?? 'the module',
      version: process.env.GITHUB_SHA?.slice(0, 7),
      detail: why,
    });
  throw new UserError(why);
}

/** A push to the repository's default branch (the event's `repository.default_branch`). */
function pushToDefaultBranch(env = process.env): boolean {
  const def = workflow.defaultBranch(env);
  return env.GITHUB_EVENT_NAME === 'push' && Boolean(def) && env.GITHUB_REF === `refs/heads/${def}`;
}

/**
 * comment-from: post the comment of a report another run produced (a fork's pull request workflow),
 * judged again by this job's thresholds, from a workflow_run workflow with a write token.
 */
async function commentFrom(config: Config, file: string): Promise<void> {
  const baseline = await baselineOf(config);
  const { json, dropped } = judgeUntrustedReport(file, config, { baseline, maxDrop: config.maxDrop });
  if (dropped)
    workflow.warning(`comment-from: ${dropped} name(s) in the report are not plain paths and were left out.`);
  setOutputs(json, file);
  await postCommentFrom(json, config.githubToken);
}

/** The base branch's figures this job was given (its `baseline` input), found with its own token. */
function baselineOf(config: Config): Promise<Baseline | undefined> {
  if (!config.baseline) return Promise.resolve(undefined);
  return findBaseline(config.baseline, {
    workspace: config.workspace,
    token: config.githubToken,
    judgesDrop: config.maxDrop !== undefined,
  });
}

/** What the figures are, said exactly: after exclusions they are not go tool cover's any more. */
function coverageLine(report: CoverageReport, whole: CoverageReport, excluded: Excluded[]): string {
  if (!excluded.length)
    return `${formatRatio(report.totalFunc)} of statements in functions (go tool cover -func), ${formatRatio(report.totalAll)} of all statements (go test -cover)`;
  return `${formatRatio(report.totalFunc)} of statements in functions and ${formatRatio(report.totalAll)} of all statements after excluding ${excludedText(excluded)}; on the whole profile, go tool cover -func says ${formatRatio(whole.totalFunc)} and go test -cover ${formatRatio(whole.totalAll)}`;
}

function setOutputs(json: ReportJson, reportFile: string): void {
  const strip = (p: { percent: string }) => p.percent.slice(0, -1);
  workflow.setOutput('total', strip(json.totalAll));
  workflow.setOutput('total-func', strip(json.totalFunc));
  workflow.setOutput('go-tool-cover-func', strip(json.wholeProfile?.totalFunc ?? json.totalFunc));
  workflow.setOutput('go-test-cover', strip(json.wholeProfile?.totalAll ?? json.totalAll));
  workflow.setOutput('excluded-files', String(json.excluded?.length ?? 0));
  workflow.setOutput('patch', json.patch ? strip(json.patch) : '');
  workflow.setOutput('passed', String(json.passed));
  workflow.setOutput('report-json', reportFile);
}

/** A warning annotation per uncovered range of changed lines, at most 50 so a large change does not flood the log. */
function annotate(patch: PatchResult): void {
  let n = 0;
  for (const f of patch.files)
    for (const [from, to] of uncoveredRanges(f.lines)) {
      if (n++ >= 50) return;
      workflow.warning(
        from === to
          ? 'Changed line not covered by tests'
          : `Changed lines ${from}-${to} not covered by tests`,
        { file: f.file, line: from, title: 'coverage-gate' },
      );
    }
}
