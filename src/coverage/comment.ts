import { upsertStickyComment } from '../github/comments.js';
import { GitHubApiError, GitHubClient, repositoryUrl } from '../github/rest.js';
import { UserError } from '../runner/errors.js';
import { log } from '../runner/log.js';
import { mdCode, mdText, Summary } from '../runner/summary.js';
import * as workflow from '../runner/workflow.js';
import type { Pct, ReportJson, TestResults } from './report-json.js';

function commentMarker(workingDirectory: string): string {
  return `<!-- go-ship:coverage-gate ${workingDirectory} -->`;
}

const MAX_ROWS = 15;

/**
 * The sticky PR comment, rendered from the JSON report alone, so the fork-safe second workflow
 * (comment-from) writes exactly what the PR workflow would have.
 */
function renderComment(r: ReportJson, runUrl?: string): string {
  const gate = (name: string) => {
    const g = r.gates.find((x) => x.name === name);
    return g ? `${g.passed ? '✅' : '❌'} ${g.rule}` : '';
  };
  const module = r.workingDirectory === '.' ? '' : ` (${mdCode(r.workingDirectory)})`;
  const s = new Summary()
    .heading(`${r.passed ? '✅' : '❌'} Coverage${module}: ${r.totalFunc.percent}`, 3)
    .table(
      ['', 'coverage', 'statements', 'gate'],
      [
        [
          'total',
          `**${r.totalFunc.percent}**${r.baseline ? ` (${r.baseline.delta})` : ''}`,
          `${r.totalFunc.covered} / ${r.totalFunc.total}`,
          [gate('total'), gate('max-drop')].filter(Boolean).join('<br>'),
        ],
        ...(r.patch
          ? [
              [
                'changed lines',
                `**${r.patch.percent}**`,
                `${r.patch.covered} / ${r.patch.total}${r.patch.partial ? ` (${r.patch.partial} partial)` : ''}`,
                gate('patch'),
              ],
            ]
          : []),
      ],
    );
  if (r.patch?.uncovered.length) {
    const rows = r.patch.uncovered
      .slice(0, MAX_ROWS)
      .map((f) => [mdCode(f.file), f.ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ')]);
    const more = r.patch.uncovered.length - rows.length;
    s.details(
      `Changed lines without tests (${r.patch.uncovered.length} file${r.patch.uncovered.length === 1 ? '' : 's'})`,
      new Summary().table(['file', 'lines'], rows).toString() +
        (more > 0 ? `\n…and ${more} more in the job summary.\n` : ''),
    );
  }
  if (r.tests) renderTests(s, r.tests);
  const failed = r.gates.filter(
    (g) => !g.passed && g.name !== 'total' && g.name !== 'patch' && g.name !== 'max-drop',
  );
  if (failed.length)
    s.details(
      `Failing package and file gates (${failed.length})`,
      new Summary()
        .table(
          ['', 'coverage', 'gate'],
          failed.slice(0, MAX_ROWS).map((g) => [mdCode(g.name), g.ratio.percent, g.rule]),
        )
        .toString(),
    );
  if (r.packages.length > 1) {
    const pct = (p: Pct) => (p.total ? p.covered / p.total : 1);
    const worst = [...r.packages].sort((a, b) => pct(a.func) - pct(b.func)).slice(0, 10);
    s.details(
      `Packages, lowest first (${r.packages.length})`,
      new Summary()
        .table(
          ['package', 'coverage', 'statements'],
          worst.map((p) => [mdCode(p.pkg), p.func.percent, `${p.func.covered} / ${p.func.total}`]),
        )
        .toString(),
    );
  }
  const notes = [
    r.wholeProfile
      ? `in functions, after excluding ${r.excluded?.length ?? 0} file(s); on the whole profile \`go tool cover -func\` says ${r.wholeProfile.totalFunc.percent}, \`go test -cover\` ${r.wholeProfile.totalAll.percent}`
      : `\`go tool cover -func\` total; all statements (\`go test -cover\`): ${r.totalAll.percent}`,
    r.baseline ? `compared with ${mdText(r.baseline.source)}: ${r.baseline.totalFunc.percent}` : undefined,
    r.patch ? `changed lines since ${r.patch.base.slice(0, 7)}` : undefined,
    `commit ${r.commit.slice(0, 7)}`,
    runUrl ? `[run](${runUrl})` : undefined,
  ].filter(Boolean);
  return `${s.toString()}\n<sub>${notes.join(' · ')} · go-ship coverage-gate</sub>\n`;
}

/** The same run's tests beside the coverage: a line of counts, and the failed and flaky ones by name. */
function renderTests(s: Summary, t: TestResults): void {
  const bad = t.failed.length + t.broken.length;
  s.paragraph(
    `${bad ? '❌' : '✅'} **Tests**: ${t.passed} passed, ${t.failed.length} failed, ${t.flaky.length} flaky, ${t.skipped} skipped of ${t.total}${t.race ? ' (with the race detector)' : ''}${t.broken.length ? `; ${t.broken.length} package(s) did not build or failed outside their tests` : ''}`,
  );
  if (t.failed.length)
    s.details(
      `Failed tests (${t.failed.length})`,
      new Summary()
        .table(
          ['test', 'package', 'where'],
          t.failed
            .slice(0, MAX_ROWS)
            .map((f) => [
              `${mdCode(f.name)}${f.race ? ' (data race)' : ''}`,
              mdCode(f.pkg),
              f.file ? mdCode(`${f.file}:${f.line}`) : '',
            ]),
        )
        .toString(),
    );
  if (t.flaky.length)
    s.details(
      `Flaky tests: failed, then passed when run again alone (${t.flaky.length})`,
      new Summary().list(t.flaky.slice(0, MAX_ROWS).map((f) => `${mdCode(f.name)} in ${mdCode(f.pkg)}`)).toString(),
    );
}

/**
 * The sticky comment on this run's pull request. A fork's read-only token gets 403: that is a
 * notice pointing at the workflow_run pattern, not a failure (the summary and annotations have it all).
 */
export async function postComment(json: ReportJson, token: string): Promise<void> {
  if (!json.pullRequest) {
    log.info('Not a pull request: no comment.');
    return;
  }
  if (!token) {
    workflow.notice('No github-token: the pull request gets no comment (the job summary has the report).');
    return;
  }
  try {
    const { client, repo } = GitHubClient.fromEnv(token);
    const repoUrl = repositoryUrl();
    const runUrl =
      repoUrl && process.env.GITHUB_RUN_ID ? `${repoUrl}/actions/runs/${process.env.GITHUB_RUN_ID}` : undefined;
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
 * comment-from, second half: posts the comment of a report another run produced (a fork's pull
 * request workflow), from a workflow_run workflow that has a write token and never checks out the
 * fork's code. It comments only on the pull request that run was for: the run's head must be the
 * PR's head.
 */
export async function postCommentFrom(json: ReportJson, token: string): Promise<void> {
  const pr = json.pullRequest;
  if (!pr || pr.number <= 0) {
    log.info('The report is not from a pull request: no comment.');
    return;
  }
  if (!token)
    throw new UserError('Input `github-token` is empty; comment-from needs a token with `pull-requests: write`.');
  const run = workflow.eventPayload().workflow_run as { head_sha?: string } | undefined;
  if (!run?.head_sha)
    throw new UserError(
      'comment-from runs in a `workflow_run` workflow (on: workflow_run, types: [completed]): the event has no workflow_run head commit to check the report against, so nothing was posted.',
    );
  const { client, repo } = GitHubClient.fromEnv(token);
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
