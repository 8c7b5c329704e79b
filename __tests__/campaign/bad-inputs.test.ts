import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { readActionMetadata } from '../../src/runner/action-metadata.js';
import { actionsIn } from '../../src/runner/project-config.js';
import { goShip, ROOT, tempDir } from '../helpers/cli.js';
import { testRepo } from '../helpers/git.js';
import { describeWith, hasCommand } from '../helpers/components.js';

/**
 * The standing bad-input campaign (#29): every input of every action, given hostile and generated
 * values one at a time, through the CLI bundle as a user runs it. Whatever the value, the run must end
 * (no hang), and end either in success or in a clear error; never "go-ship bug", a stack trace or a
 * raw `spawn E2BIG`. The network is a dead proxy and Docker and Kubernetes point nowhere, so nothing
 * leaves the machine; each run gets its own copy of a small Go module with one commit.
 */

/** Values a careless or hostile workflow could pass: paths that lead out or into the kernel, numbers past every limit, workflow commands. */
function palette(scratch: string): string[] {
  const file = join(scratch, 'a-file');
  const folder = join(scratch, 'a-folder');
  return [
    ' ',
    '-1',
    '0',
    '1e309',
    '99999999999999999999999',
    'nope',
    '(',
    '[a-',
    '${{ github.token }}',
    '../../../../../etc/passwd',
    '/proc/self/go-ship/deeper/x',
    '/dev/null/x',
    `${file}/under-a-file`,
    folder,
    'a\nb\n\n::error::injected',
    '\u0085::error::injected',
    '%0A::warning::injected',
    '\u001b[31mred\u001b[0m',
    'x'.repeat(120_000),
    'v1.9007199254740993.0',
    '596h',
    '9999999999h',
    'artifact:../x',
    'http://[::1',
    'ftp://example.invalid/x',
    'a=b\n=c\nd',
    'C:\\Windows\\x',
    '\u202e\u0000nul',
  ];
}

/** The number of palette values each input gets (chosen by a seeded generator), and of generated strings. */
const FROM_PALETTE = 6;
const GENERATED = 2;
const SEED = 29;
const RUN_LIMIT_MS = 120_000;
const CONCURRENCY = 3;

interface Outcome {
  action: string;
  input: string;
  value: string;
  code: number | 'hang';
  verdict: 'accepted' | 'clear error' | 'bug';
  why?: string;
  out: string;
}

function judge(code: number | 'hang', out: string): Pick<Outcome, 'verdict' | 'why' | 'out'> {
  return { ...verdictOf(code, out), out };
}

function verdictOf(code: number | 'hang', out: string): Pick<Outcome, 'verdict' | 'why'> {
  if (code === 'hang') return { verdict: 'bug', why: `no end within ${RUN_LIMIT_MS / 1000} s` };
  if (/go-ship bug/.test(out)) return { verdict: 'bug', why: 'reported as a go-ship bug' };
  if (/^\s+at .+:\d+:\d+\)?$/m.test(out)) return { verdict: 'bug', why: 'a stack trace' };
  if (/spawn E2BIG/.test(out)) return { verdict: 'bug', why: 'a raw E2BIG' };
  if (code === 0) return { verdict: 'accepted' };
  // The action's error line, or the CLI's own (`go-ship: ...`, exit 2) for what it checks first.
  if (/^(error: |::error::|go-ship: )/m.test(out)) return { verdict: 'clear error' };
  return { verdict: 'bug', why: `exit ${code} with no error line` };
}

/** Plain values for the inputs an action requires, so the input under test is the one that is wrong. */
const REQUIRED: Record<string, Record<string, string>> = {
  'deploy-bluegreen': { app: 'campaign' },
  'docker-multistage': { image: '127.0.0.1:9/campaign' },
};
const required = (action: string, input: string): [string, string][] =>
  Object.entries(REQUIRED[action] ?? {}).filter(([name]) => name !== input);

async function withLimit<T>(items: (() => Promise<T>)[], n: number): Promise<T[]> {
  const out: T[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await items[i]();
      }
    }),
  );
  return out;
}

describeWith(
  'go and git',
  hasCommand('go', ['version']) && hasCommand('git'),
  'the bad-input campaign',
  () => {
    const scratch = tempDir('campaign-scratch');
    writeFileSync(join(scratch, 'a-file'), 'x');
    mkdirSync(join(scratch, 'a-folder'));
    const module = testRepo(join(tempDir('campaign-module'), 'm'), {
      files: {
        'go.mod': 'module example.com/campaign\n\ngo 1.22\n',
        'main.go': 'package main\n\nfunc main() { println(answer()) }\n\nfunc answer() int { return 42 }\n',
        'main_test.go':
          'package main\n\nimport "testing"\n\nfunc TestAnswer(t *testing.T) {\n\tif answer() != 42 {\n\t\tt.Fatal()\n\t}\n}\n',
      },
    }).dir;
    const env = {
      CI: 'true',
      HTTPS_PROXY: 'http://127.0.0.1:9',
      HTTP_PROXY: 'http://127.0.0.1:9',
      NO_PROXY: '',
      GOPROXY: 'off',
      GOFLAGS: '-mod=mod',
      GITHUB_API_URL: 'http://127.0.0.1:9',
      ACTIONS_RESULTS_URL: '',
      DOCKER_HOST: `unix://${join(scratch, 'no-docker.sock')}`,
      KUBECONFIG: join(scratch, 'no-kubeconfig'),
    };

    async function run(action: string, withs: [string, string][], project?: object): Promise<Outcome[]> {
      const ws = join(tempDir('campaign-ws'), 'm');
      cpSync(module, ws, { recursive: true });
      if (project) writeFileSync(join(ws, '.go-ship.yml'), stringify(project));
      const killer = new AbortController();
      const timer = setTimeout(() => killer.abort(), RUN_LIMIT_MS);
      const r = await Promise.race([
        goShip([action, '--workspace', ws, ...withs.flatMap(([k, v]) => ['--with', `${k}=${v}`])], {
          env,
          cwd: ws,
        }),
        new Promise<'hang'>((resolve) => killer.signal.addEventListener('abort', () => resolve('hang'))),
      ]);
      clearTimeout(timer);
      const code = r === 'hang' ? 'hang' : r.code;
      const out = r === 'hang' ? '' : r.stdout + r.stderr;
      const [input, value] = withs[0] ?? ['(.go-ship.yml)', ''];
      return [{ action, input, value, code, ...judge(code, out) }];
    }

    test('every input of every action, given hostile and generated values, ends in success or a clear error', async () => {
      // The six actions, and the root action that runs the pipeline (`go-ship pipeline`).
      const actions = { ...actionsIn(ROOT), pipeline: readActionMetadata(join(ROOT, 'action.yml')) };
      const values = palette(scratch);
      const cases: (() => Promise<Outcome[]>)[] = [];
      let salt = 0;
      for (const [dir, meta] of Object.entries(actions)) {
        const action = dir;
        for (const input of Object.keys(meta.inputs ?? {})) {
          const picked = fc.sample(fc.constantFrom(...values), {
            seed: SEED + salt++,
            numRuns: FROM_PALETTE,
          });
          const generated = fc.sample(fc.string({ unit: 'binary', maxLength: 40 }), {
            seed: SEED + salt++,
            numRuns: GENERATED,
          });
          for (const value of new Set([...picked, ...generated].map((v) => v.replace(/\0/g, ''))))
            cases.push(() => run(action, [[input, value], ...required(action, input)]));
        }
      }
      const outcomes = (await withLimit(cases, CONCURRENCY)).flat();
      const count = (v: Outcome['verdict']) => outcomes.filter((o) => o.verdict === v).length;
      const bugs = outcomes
        .filter((o) => o.verdict === 'bug')
        .map((o) => `${o.action} ${o.input}=${JSON.stringify(o.value.slice(0, 60))}: ${o.why}`);
      // The counts docs/security.md quotes.
      console.log(
        `bad-input campaign: ${outcomes.length} runs, ${count('clear error')} clear errors, ${count('accepted')} accepted, ${bugs.length} bugs, ${outcomes.filter((o) => o.code === 'hang').length} hangs`,
      );
      expect(bugs).toEqual([]);
      expect(count('clear error')).toBeGreaterThan(outcomes.length / 2);
    }, 3_600_000);

    // Each input under the system's 128 KiB per variable, but together past what Linux passes to a
    // program: an uncaught `spawn E2BIG` until the runner said which inputs are too big.
    test('inputs that together pass ARG_MAX: a clear error naming the biggest, not spawn E2BIG', async () => {
      const meta = actionsIn(ROOT)['deploy-bluegreen'];
      const big = Object.fromEntries(
        Object.keys(meta.inputs)
          .slice(0, 30)
          .map((name, i) => [name, `${i}`.padEnd(120_000, 'x')]),
      );
      const [o] = await run('deploy-bluegreen', [], { 'deploy-bluegreen': big });
      expect(o.verdict).toBe('clear error');
      expect(o.out).toMatch(
        /(error|go-ship): The inputs and environment add up to [\d,]+ bytes, more than the system passes to a program \(E2BIG\)\. The biggest inputs: `\S+` 120,000 bytes/,
      );
    });
  },
);
