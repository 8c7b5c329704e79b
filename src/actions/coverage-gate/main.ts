import { badgeColor, coverageBadge } from '../../coverage/badge.js';
import {
  type Baseline,
  formatDelta,
  readBaselineArtifact,
  readBaselineFile,
  withinDrop,
} from '../../coverage/baseline.js';
import { type GateResult, evaluate, tenthsText, thresholdGate } from '../../coverage/gates.js';
import { type PatchResult, changedLines, lineCoverage, uncoveredRanges } from '../../coverage/patch.js';
import { type Profile, type ProfileSource, parseProfiles } from '../../coverage/profile.js';
import {
  type CoverageReport,
  type Ratio,
  buildReport,
  formatRatio,
  narrowReport,
  percent,
} from '../../coverage/report.js';
import { localModules, repoPath, sourceFacts } from '../../coverage/source.js';
import { upsertStickyComment } from '../../github/comments.js';
import {
  GitHubApiError,
  GitHubClient,
  eventPayload,
  pullRequestOf,
  repositoryUrl,
} from '../../github/rest.js';
import { Git } from '../../release/git-tags.js';
import { writeSummary } from '../../runner/action.js';
import { runCommand } from '../../runner/command.js';
import { UserError, inputError } from '../../runner/errors.js';
import { GlobSet, findFiles } from '../../runner/glob.js';
import { log } from '../../runner/log.js';
import * as workflow from '../../runner/workflow.js';
import { type ReportJson, commentMarker, readUntrustedReport, renderComment } from './comment.js';
import { type Config, getInputs } from './inputs.js';
import { excludedText, summarize } from './summary.js';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** Profile files matched by the globs, and GOCOVERDIR directories converted with `go tool covdata`. */
async function loadProfiles(config: Config): Promise<ProfileSource[]> {
  const sources: ProfileSource[] = [];
  const dirs = config.profiles.filter((p) => {
    const full = join(config.workspace, p);
    return existsSync(full) && statSync(full).isDirectory();
  });
  const globs = config.profiles.filter((p) => !dirs.includes(p));
  // Plain file names need no walk over the checkout (thousands of files in a big module).
  const literal = globs.every((p) => !/[*?{!]/.test(p));
  const files = literal
    ? globs.filter(
        (p) => existsSync(join(config.workspace, p)) && statSync(join(config.workspace, p)).isFile(),
      )
    : findFiles(config.workspace, globs);
  for (const file of files) sources.push({ name: file, path: join(config.workspace, file) });
  for (const dir of dirs) {
    const out = join(mkdtempSync(join(process.env.RUNNER_TEMP ?? '/tmp', 'covdata-')), 'profile.out');
    await runCommand('go', ['tool', 'covdata', 'textfmt', `-i=${join(config.workspace, dir)}`, `-o=${out}`]);
    sources.push({ name: `GOCOVERDIR ${dir}`, path: out });
  }
  if (!sources.length)
    throw new UserError(
      `Input \`profiles\` got \`${config.profiles.join(', ')}\`; nothing under ${config.workspace} matches. It accepts globs of coverprofiles (\`go test -coverprofile=coverage.out\`) or GOCOVERDIR directories. Check that the test step wrote them, and that shards' artifacts were downloaded.`,
    );
  if (config.expectedProfiles !== undefined && sources.length !== config.expectedProfiles)
    throw new UserError(
      `Input \`expected-profiles\` is ${config.expectedProfiles}, but ${sources.length} matched (${sources.map((s) => s.name).join(', ')}). The gate will not judge a partial set of shards: check that every shard uploaded its profile.`,
    );
  return sources;
}

export async function run(): Promise<void> {
  const config = getInputs();
  if (config.commentFrom) return commentFromReport(config);
  const sources = await loadProfiles(config);
  const profile = parseProfiles(sources);
  log.info(
    `Read ${sources.length} profile(s), mode ${profile.mode}: ${sources.map((s) => s.name).join(', ')}`,
  );

  const modules = localModules(config.workspace);
  const source = sourceFacts(config.workspace);
  const paths = new Map<string, string | undefined>();
  for (const file of profile.files.keys())
    paths.set(
      file,
      repoPath(file, modules, config.workspace, (p) => source(p) !== undefined),
    );

  // Exclusions apply before any gated total is computed; the whole profile's figures stay beside
  // them, because only those are what `go tool cover -func` and `go test -cover` print.
  const exclude = new GlobSet(config.exclude, 'exclude');
  const excluded: { file: string; why: string }[] = [];
  const kept: Profile = { mode: profile.mode, files: new Map() };
  for (const [file, blocks] of profile.files) {
    const p = paths.get(file);
    if (!exclude.empty && exclude.matches(p ?? file)) excluded.push({ file, why: 'exclude' });
    else if (config.excludeGenerated && p && source(p)!.generated) excluded.push({ file, why: 'generated' });
    else kept.files.set(file, blocks);
  }
  const whole = buildReport(profile, (file) => {
    const p = paths.get(file);
    return p ? source(p)!.funcs : undefined;
  });
  const report = excluded.length ? narrowReport(whole, (file) => kept.files.has(file)) : whole;
  if (report.missingSource.length)
    log.warning(
      `No source found for ${report.missingSource.length} file(s) (${report.missingSource.slice(0, 3).join(', ')}${report.missingSource.length > 3 ? ', …' : ''}); their function totals count all blocks. Run coverage-gate in the module's checkout (working-directory).`,
    );

  const gates = evaluate(config, report, (file) => paths.get(file) ?? file);
  const patch = config.baseRef ? await patchCoverage(config, kept, paths) : undefined;
  if (patch && config.thresholdPatch !== undefined)
    gates.push(thresholdGate('patch', patch.ratio, config.thresholdPatch));
  if (patch && config.annotate) annotate(patch);

  const baseline = config.baseline ? await loadBaseline(config) : undefined;
  if (baseline && config.maxDrop !== undefined) {
    const base = formatRatio(baseline.totalFunc);
    gates.push({
      name: 'max-drop',
      ratio: report.totalFunc,
      rule: `≤ ${tenthsText(config.maxDrop)} below ${base}`,
      passed: withinDrop(report.totalFunc, baseline.totalFunc, config.maxDrop),
      failure: `total ${formatRatio(report.totalFunc)} is ${formatDelta(report.totalFunc, baseline.totalFunc).slice(1)} points below the baseline's ${base} (${baseline.source}); max-drop allows ${tenthsText(config.maxDrop)}`,
    });
  }
  const passed = gates.every((g) => g.passed);
  const json = toJson(config, report, whole, gates, patch, excluded, baseline, passed);
  mkdirSync(dirname(config.reportFile), { recursive: true });
  // Compact: with every function listed, a big module's report runs to megabytes.
  writeFileSync(config.reportFile, JSON.stringify(json));
  if (config.badge) writeBadge(config.badge, report, gates);
  setOutputs(json, config.reportFile);
  log.info(
    `Coverage: ${coverageLine(report, whole, excluded)}${patch ? `; patch ${formatRatio(patch.ratio)} of ${patch.ratio.total} changed lines` : ''}${baseline ? `; ${formatDelta(report.totalFunc, baseline.totalFunc)} vs ${baseline.source}` : ''}`,
  );
  await writeSummary(summarize(report, whole, gates, patch, excluded, passed, baseline));
  if (config.comment) await postComment(config, json);
  const failed = gates.filter((g) => !g.passed);
  if (failed.length) throw new UserError(`Coverage gate failed: ${failed.map((g) => g.failure).join('; ')}.`);
}

/** What the figures are, said exactly: after exclusions they are not go tool cover's any more. */
function coverageLine(
  report: CoverageReport,
  whole: CoverageReport,
  excluded: { file: string; why: string }[],
): string {
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

function writeBadge(file: string, report: CoverageReport, gates: GateResult[]): void {
  const total = gates.find((g) => g.name === 'total');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    coverageBadge(
      'coverage',
      formatRatio(report.totalFunc),
      badgeColor(percent(report.totalFunc), total?.passed),
    ),
  );
  log.info(`Badge written to ${file}`);
}

/** The base branch's figures, or undefined (with a notice saying why) when there are none yet. */
async function loadBaseline(config: Config): Promise<Baseline | undefined> {
  const spec = config.baseline!;
  const missing = (where: string) => {
    workflow.notice(
      `No baseline yet (${where}): the delta is not shown${config.maxDrop !== undefined ? ' and max-drop is not judged' : ''}. The base branch's coverage-gate run provides it (see the README's baseline section).`,
    );
    return undefined;
  };
  if (spec.kind === 'file') {
    const inside = relative(config.workspace, spec.path);
    const label = inside.startsWith('..') ? spec.path : inside;
    return readBaselineFile(spec.path, label) ?? missing(`no file ${spec.path}`);
  }
  const payload = eventPayload();
  const branch =
    process.env.GITHUB_BASE_REF ||
    (payload.repository as { default_branch?: string } | undefined)?.default_branch;
  if (!branch) return missing('neither a pull request base branch nor the default branch is known');
  try {
    const { client, repo } = GitHubClient.fromEnv(config.githubToken);
    return (
      (await readBaselineArtifact(client, repo, spec.name, branch, repositoryIdOf(payload))) ??
      missing(`no unexpired artifact \`${spec.name}\` from branch ${branch}`)
    );
  } catch (e) {
    if (!(e instanceof GitHubApiError)) throw e;
    workflow.warning(
      `Could not read the baseline artifact \`${spec.name}\`: ${e.message}.${e.status === 403 || e.status === 401 ? ' The token needs `actions: read` (permissions in the workflow).' : ''} The delta is not shown and max-drop is not judged.`,
    );
    return undefined;
  }
}

/** This repository's id: the runner's GITHUB_REPOSITORY_ID, else the event's repository. */
function repositoryIdOf(payload: Record<string, unknown>): number | undefined {
  const id = Number(
    process.env.GITHUB_REPOSITORY_ID || (payload.repository as { id?: number } | undefined)?.id,
  );
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/**
 * The sticky comment on the pull request. A fork's read-only token gets 403: that is a notice
 * pointing at the workflow_run pattern, not a failure (the summary and annotations have it all).
 */
async function postComment(config: Config, json: ReportJson): Promise<void> {
  if (!json.pullRequest) {
    log.info('Not a pull request: no comment.');
    return;
  }
  if (!config.githubToken) {
    workflow.notice('No github-token: the pull request gets no comment (the job summary has the report).');
    return;
  }
  try {
    const { client, repo } = GitHubClient.fromEnv(config.githubToken);
    const repoUrl = repositoryUrl();
    const runUrl =
      repoUrl && process.env.GITHUB_RUN_ID
        ? `${repoUrl}/actions/runs/${process.env.GITHUB_RUN_ID}`
        : undefined;
    const result = await upsertStickyComment(
      client,
      repo,
      json.pullRequest.number,
      commentMarker(json.workingDirectory),
      renderComment(json, runUrl),
    );
    log.info(`Pull request comment ${result.action}: ${result.url}`);
  } catch (e) {
    if (!(e instanceof GitHubApiError)) throw e;
    if (e.status === 403)
      workflow.notice(
        `The token may not comment on pull request #${json.pullRequest.number} (${e.apiMessage || '403'}); pull requests from forks get a read-only token. The job summary and annotations have the report; to comment on fork pull requests, post it from a workflow_run workflow with \`comment-from\` (coverage-gate README).`,
      );
    else workflow.warning(`Could not comment on pull request #${json.pullRequest.number}: ${e.message}`);
  }
}

/**
 * comment-from: post the comment of a report another run produced (a fork's pull request workflow),
 * from a workflow_run workflow that has a write token and never checks out the fork's code.
 */
async function commentFromReport(config: Config): Promise<void> {
  const file = config.commentFrom!;
  if (!existsSync(file))
    throw new UserError(
      `Input \`comment-from\` names ${file}, which does not exist. Download the pull request run's report artifact first (actions/download-artifact with run-id: \${{ github.event.workflow_run.id }}).`,
    );
  // The report is the fork's file: data to check, never text to trust or a verdict to repeat.
  const { report: json, dropped } = readUntrustedReport(readFileSync(file, 'utf8'), file);
  if (dropped)
    workflow.warning(`comment-from: ${dropped} name(s) in the report are not plain paths and were left out.`);
  const gates = evaluate(config, json, (file) => file);
  if (json.patch && config.thresholdPatch !== undefined)
    gates.push(thresholdGate('patch', json.patch, config.thresholdPatch));
  json.gates = gates.map((g) => ({
    name: g.name,
    ratio: { ...g.ratio, percent: formatRatio(g.ratio) },
    rule: g.rule,
    passed: g.passed,
  }));
  json.passed = json.gates.every((g) => g.passed);
  setOutputs(json, file);
  const pr = json.pullRequest;
  if (!pr || pr.number <= 0) {
    log.info('The report is not from a pull request: no comment.');
    return;
  }
  if (!config.githubToken)
    throw new UserError(
      'Input `github-token` is empty; comment-from needs a token with `pull-requests: write`.',
    );
  // It may only comment on the pull request that run was for: the run's head must be the PR's head.
  const run = eventPayload().workflow_run as { head_sha?: string } | undefined;
  if (!run?.head_sha)
    throw new UserError(
      'comment-from runs in a `workflow_run` workflow (on: workflow_run, types: [completed]): the event has no workflow_run head commit to check the report against, so nothing was posted.',
    );
  const { client, repo } = GitHubClient.fromEnv(config.githubToken);
  const { data } = await client.request<{ head: { sha: string } }>(
    'GET',
    `/repos/${repo.owner}/${repo.repo}/pulls/${pr.number}`,
  );
  if (data.head.sha !== run.head_sha || pr.headSha !== run.head_sha)
    throw new UserError(
      `The report names pull request #${pr.number}, whose head is ${data.head.sha.slice(0, 7)}, but the workflow run was for ${run.head_sha.slice(0, 7)}: not commenting. (A newer push supersedes this run, or the report was altered.)`,
    );
  const result = await upsertStickyComment(
    client,
    repo,
    pr.number,
    commentMarker(json.workingDirectory),
    renderComment(json),
  );
  log.info(`Pull request #${pr.number} comment ${result.action}: ${result.url}`);
}

async function patchCoverage(
  config: Config,
  profile: Profile,
  paths: Map<string, string | undefined>,
): Promise<PatchResult> {
  const where = await new Git(config.workspace).location();
  if (!where)
    throw inputError(
      'base-ref',
      config.baseRef!,
      'a git revision, in a git checkout',
      `${config.workspace} is not inside a git checkout, so patch coverage has no changed lines: run actions/checkout (fetch-depth: 0) first, or leave base-ref empty.`,
    );
  const { top, prefix } = where;
  const { lines, base } = await changedLines(top, config.baseRef!);
  const byRepoPath = new Map<string, string>();
  for (const [file, p] of paths) if (p) byRepoPath.set(prefix ? `${prefix}/${p}` : p, file);
  const result: PatchResult = {
    base,
    ratio: { covered: 0, total: 0 },
    partial: 0,
    files: [],
    notInProfile: [],
  };
  for (const [path, changed] of lines) {
    if (!path.endsWith('.go') || path.endsWith('_test.go') || !changed.length) continue;
    const file = byRepoPath.get(path);
    if (!file) {
      result.notInProfile.push(path);
      continue;
    }
    const blocks = profile.files.get(file);
    if (!blocks) continue; // excluded
    const states = lineCoverage(readFileSync(join(top, path)), blocks.toArray(), changed);
    if (!states.size) continue;
    result.files.push({ file: path, lines: states });
    for (const s of states.values()) {
      result.ratio.total++;
      if (s === 'covered') result.ratio.covered++;
      if (s === 'partial') result.partial++;
    }
  }
  return result;
}

const MAX_ANNOTATIONS = 50;

function annotate(patch: PatchResult): void {
  let n = 0;
  for (const f of patch.files) {
    for (const [from, to] of uncoveredRanges(f.lines)) {
      if (n++ >= MAX_ANNOTATIONS) return;
      workflow.warning(
        from === to
          ? 'Changed line not covered by tests'
          : `Changed lines ${from}-${to} not covered by tests`,
        {
          file: f.file,
          line: from,
          title: 'coverage-gate',
        },
      );
    }
  }
}

function toJson(
  config: Config,
  report: CoverageReport,
  whole: CoverageReport,
  gates: GateResult[],
  patch: PatchResult | undefined,
  excluded: { file: string; why: string }[],
  baseline: Baseline | undefined,
  passed: boolean,
): ReportJson {
  const pct = (r: Ratio) => ({ covered: r.covered, total: r.total, percent: formatRatio(r) });
  const root = process.env.GITHUB_WORKSPACE ?? process.cwd();
  return {
    schema: 'go-ship/coverage-report@1',
    commit: process.env.GITHUB_SHA ?? '',
    workingDirectory: relative(resolve(root), config.workspace) || '.',
    pullRequest: pullRequestOf(eventPayload()),
    passed,
    totalFunc: pct(report.totalFunc),
    totalAll: pct(report.totalAll),
    wholeProfile: excluded.length
      ? { totalFunc: pct(whole.totalFunc), totalAll: pct(whole.totalAll) }
      : undefined,
    packages: report.packages.map((p) => ({ pkg: p.pkg, func: pct(p.func), all: pct(p.all) })),
    files: report.files.map((f) => ({
      file: f.file,
      func: f.func && pct(f.func),
      all: pct(f.all),
      // The lines of `go tool cover -func`: file:line, function name, percent.
      funcs: f.funcs.map((fn) => ({
        name: fn.name,
        line: fn.line,
        covered: fn.covered,
        total: fn.total,
        percent: formatRatio(fn),
      })),
    })),
    patch: patch && {
      base: patch.base,
      ...pct(patch.ratio),
      partial: patch.partial,
      uncovered: patch.files
        .map((f) => ({ file: f.file, ranges: uncoveredRanges(f.lines) }))
        .filter((f) => f.ranges.length),
      notInProfile: patch.notInProfile,
    },
    baseline: baseline && {
      source: baseline.source,
      commit: baseline.commit,
      totalFunc: pct(baseline.totalFunc),
      delta: formatDelta(report.totalFunc, baseline.totalFunc),
    },
    gates: gates.map((g) => ({ name: g.name, ratio: pct(g.ratio), rule: g.rule, passed: g.passed })),
    excluded,
    missingSource: report.missingSource,
  };
}
