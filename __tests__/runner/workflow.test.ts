import * as core from '@actions/core';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as workflow from '../../src/runner/workflow.js';
import { parseKeyValueFile } from '../../src/host/file-commands.js';
import { tempDir } from '../helpers/cli.js';

const FILES = ['GITHUB_OUTPUT', 'GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY'];

/** Runs `ops` against fresh command files and captured stdout; returns what the runner would read. */
async function capture(ops: () => unknown): Promise<Record<string, string>> {
  const dir = tempDir('wf');
  const saved = { ...process.env };
  for (const f of FILES) {
    process.env[f] = join(dir, f);
    writeFileSync(join(dir, f), '');
  }
  let stdout = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => {
    stdout += chunk;
    return true;
  }) as typeof process.stdout.write;
  const exitCode = process.exitCode;
  try {
    await ops();
  } finally {
    process.stdout.write = write;
    process.env = saved;
  }
  const out: Record<string, string> = { stdout, exitCode: String(process.exitCode) };
  process.exitCode = exitCode;
  for (const f of FILES)
    out[f] = readFileSync(join(dir, f), 'utf8').replace(/ghadelimiter_[0-9a-f-]{36}/g, 'DELIM');
  return out;
}

describe('workflow protocol writes exactly what @actions/core writes', () => {
  const values = ['plain', 'multi\nline\r\nvalue', '100% done: a,b', '', '{"json":[1,2]}'];

  test.each(values)('outputs, env, state for %j', async (value) => {
    const ours = await capture(() => {
      workflow.setOutput('out', value);
      workflow.exportVariable('GO_SHIP_WF_TEST', value);
      workflow.saveState('st', value);
    });
    const theirs = await capture(() => {
      core.setOutput('out', value);
      core.exportVariable('GO_SHIP_WF_TEST', value);
      core.saveState('st', value);
    });
    expect(theirs.GITHUB_OUTPUT).toBe(`out<<DELIM\n${value}\nDELIM\n`);
    expect(ours).toEqual(theirs);
  });

  test('path, secrets, annotations, groups, failure', async () => {
    const ops = (api: typeof workflow | typeof core) => async () => {
      api.addPath('/opt/go/bin');
      api.setSecret('s3cret%with\nnewline');
      api.info('info line');
      api.debug('debug: 50%');
      api.warning('warn\nnext', { file: 'a:b,c.go' });
      api.error('bad');
      api.notice('note');
      await api.group('group title', async () => api.info('inside'));
      api.setFailed('it failed');
    };
    const theirs = await capture(ops(core));
    expect(theirs.stdout).toContain('::warning file=a%3Ab%2Cc.go::warn%0Anext');
    expect(theirs.GITHUB_PATH).toBe('/opt/go/bin\n');
    expect(theirs.exitCode).toBe('1');
    expect(await capture(ops(workflow))).toEqual(theirs);
  });

  // appendSummary is core.summary (which keeps the file's path after its first write, as one step
  // has one summary file): what matters is that go-ship's sections append, each ending a line.
  test('summary sections append, each on its own lines', async () => {
    const ours = await capture(async () => {
      await workflow.appendSummary('## Title\n\n| a |\n| --- |\n| 1 |\n');
      await workflow.appendSummary('second section');
    });
    expect(ours.GITHUB_STEP_SUMMARY).toBe('## Title\n\n| a |\n| --- |\n| 1 |\nsecond section\n');
  });
});

// Untrusted input: a commit message that imitates the file-command syntax stays one output's value.
test('an output value with delimiter-like lines and workflow commands reads back as exactly that value', async () => {
  const evil =
    'subject\nghadelimiter_00000000-0000-0000-0000-000000000000\nversion<<EOF\n9.9.9\nEOF\n::set-output name=version::9.9.9';
  const dir = tempDir('wf-evil');
  const file = join(dir, 'out');
  writeFileSync(file, '');
  const saved = process.env.GITHUB_OUTPUT;
  process.env.GITHUB_OUTPUT = file;
  try {
    workflow.setOutput('changelog', evil);
    workflow.setOutput('version', '1.0.0');
  } finally {
    process.env.GITHUB_OUTPUT = saved;
  }
  expect(parseKeyValueFile(readFileSync(file, 'utf8'))).toEqual({ changelog: evil, version: '1.0.0' });
});

describe('one rule for outside text in the log (#29 item 6)', () => {
  test('NEL, the other C1 controls, line separators and ESC never start a command or reach a terminal raw', async () => {
    const { stdout } = await capture(() => {
      workflow.info('\u0085::error::from a file name');
      workflow.info('ok\u2028::warning::after a line separator');
      workflow.info('\u2029\u0085  ::notice::both');
      workflow.info('\u001b[2J\u001b]0;title\u0007 cleared');
      workflow.info('tabs\tand\r\nnewlines stay');
    });
    const lines = stdout.split('\n');
    expect(lines.filter((l) => /^\s*::/u.test(l.replace(/[\u0085\u2028\u2029]/g, '')))).toEqual([]);
    // eslint-disable-next-line no-control-regex -- the test looks for control characters
    expect(stdout).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/);
    expect(lines).toEqual([
      '\\u{0085}::error::from a file name',
      'ok\\u{2028}::warning::after a line separator',
      '\\u{2029}\\u{0085}  ::notice::both',
      '\\u{001b}[2J\\u{001b}]0;title\\u{0007} cleared',
      'tabs\tand\r',
      'newlines stay',
      '',
    ]);
  });
});

describe("relaying a child go-ship action's lines (the pipeline's stages)", () => {
  test('masks, annotations and groups pass up as commands; anything else is plain text', async () => {
    const { stdout } = await capture(() => {
      workflow.relay('::add-mask::s3cret');
      workflow.relay('::warning file=go.mod::old Go');
      workflow.relay('::group::Install Go');
      workflow.relay('::endgroup::');
      workflow.relay('::set-output name=x::y');
      workflow.relay('::stop-commands::token');
      workflow.relay('  ::error::indented');
      workflow.relay('ok ##[error]x');
    });
    expect(stdout.split('\n')).toEqual([
      '::add-mask::s3cret',
      '::warning file=go.mod::old Go',
      '::group::Install Go',
      '::endgroup::',
      ':\u200b:set-output name=x::y',
      ':\u200b:stop-commands::token',
      '  :\u200b:error::indented',
      'ok #\u200b#[error]x',
      '',
    ]);
  });
});
