import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandError, killTreePlan, onFirstUse, runCommand } from '../../src/runner/command.js';
import { UserError } from '../../src/runner/errors.js';

describe('runCommand', () => {
  test('returns stdout, stderr and exit code', async () => {
    const r = await runCommand('sh', ['-c', 'echo out; echo err >&2; exit 3'], { check: false });
    expect(r).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n', timedOut: false });
  });

  test('user text in arguments is never interpreted by a shell', async () => {
    const dir = mkdtempSync(join(process.env.GO_SHIP_TEST_TMP ?? tmpdir(), 'cmd-'));
    const evil = `$(touch ${join(dir, 'pwned')}); echo hi > ${join(dir, 'pwned2')}`;
    const r = await runCommand('printf', ['%s', evil]);
    expect(r.stdout).toBe(evil);
    const ls = await runCommand('ls', ['-A', dir]);
    expect(ls.stdout).toBe('');
  });

  test('a non-zero exit throws CommandError with the command and the tail of stderr', async () => {
    await expect(runCommand('sh', ['-c', 'echo boom >&2; exit 7'])).rejects.toThrow(CommandError);
    await expect(runCommand('sh', ['-c', 'echo boom >&2; exit 7'])).rejects.toThrow(
      /`sh -c 'echo boom >&2; exit 7'` exited with code 7:\nboom/,
    );
  });

  test('timeout kills the whole process group, including grandchildren', async () => {
    const dir = mkdtempSync(join(process.env.GO_SHIP_TEST_TMP ?? tmpdir(), 'cmd-'));
    const pids = join(dir, 'pids');
    const script = join(dir, 'spawn.sh');
    // The script and a grandchild write their PIDs, then sleep far past the timeout.
    writeFileSync(script, `echo $$ > ${pids}\n(sleep 30) &\necho $! >> ${pids}\nsleep 30\n`);
    const r = await runCommand('sh', [script], { timeoutMs: 300, check: false });
    expect(r.timedOut).toBe(true);
    const tree = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    expect(tree).toHaveLength(2);
    // Gone (or a zombie nobody has reaped yet): waited for as a condition, not for a fixed time.
    const alive = (pid: number) => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 200 && tree.some(alive); i++) await new Promise((res) => setTimeout(res, 50));
    expect(tree.filter(alive)).toEqual([]);
  });

  test('the tree is stopped by process group on POSIX and by taskkill /T /F on Windows (no negative PIDs there)', () => {
    expect(killTreePlan('linux', 4321, 'SIGTERM')).toEqual({ group: -4321, signal: 'SIGTERM' });
    expect(killTreePlan('darwin', 4321, 'SIGKILL')).toEqual({ group: -4321, signal: 'SIGKILL' });
    expect(killTreePlan('win32', 4321, 'SIGTERM')).toEqual({
      file: 'taskkill',
      args: ['/pid', '4321', '/T', '/F'],
    });
    // /F already ended the tree: nothing is left for the KILL after the grace period.
    expect(killTreePlan('win32', 4321, 'SIGKILL')).toBeUndefined();
  });

  test('timeout is reported as a CommandError', async () => {
    await expect(runCommand('sleep', ['10'], { timeoutMs: 200 })).rejects.toThrow(
      /`sleep 10` timed out after/,
    );
  });

  test('a missing program is a UserError that names it', async () => {
    await expect(runCommand('no-such-program-xyz', ['a'])).rejects.toThrow(UserError);
    await expect(runCommand('no-such-program-xyz', ['a'])).rejects.toThrow(
      /`no-such-program-xyz` was not found on PATH/,
    );
  });

  test('env overrides and removals, stdin input, cwd', async () => {
    process.env.GO_SHIP_TEST_REMOVE = 'present';
    const r = await runCommand('sh', ['-c', 'echo "$A|${GO_SHIP_TEST_REMOVE:-gone}|$(pwd)"; cat'], {
      env: { A: 'set', GO_SHIP_TEST_REMOVE: undefined },
      input: 'from stdin',
      cwd: '/tmp',
    });
    expect(r.stdout).toBe('set|gone|/tmp\nfrom stdin');
  });

  test('echo streams whole lines to the log', async () => {
    const writes: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      writes.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      await runCommand('sh', ['-c', 'printf "a\\nb"; sleep 0.05; printf "c\\n"'], { echo: true });
    } finally {
      process.stdout.write = original;
    }
    expect(writes.join('')).toBe('a\nbc\n');
  });
});

test('onFirstUse starts its work when first awaited, once, and passes a failure to each waiter', async () => {
  let starts = 0;
  const answer = onFirstUse(async () => {
    starts++;
    return 'top';
  });
  await new Promise((r) => setImmediate(r));
  expect(starts).toBe(0);
  expect(await answer).toBe('top');
  expect(await answer).toBe('top');
  expect(starts).toBe(1);
  const failing = onFirstUse(() => Promise.reject(new Error('not a git checkout')));
  await expect(Promise.resolve(failing)).rejects.toThrow('not a git checkout');
  await expect(Promise.resolve(failing)).rejects.toThrow('not a git checkout');
});
