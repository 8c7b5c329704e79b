import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median, timeRun, type BenchReport } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..');
const BUNDLE = join(ROOT, 'dist', 'semver-tag', 'index.js');
const COMMITS = 50_000;
const TAG_EVERY = 10; // 5,000 tags: commits 1, 11, ..., 49,991
const SR_VERSION = '25';

/**
 * A repository of 50,000 commits with a release tag on every 10th (v1.0.1 ... v1.0.5000), written
 * with git fast-import, its bare remote, and a clone like a CI checkout.
 */
function generate(dir: string): { work: string; remote: string; lastTag: string; tags: number } {
  const src = join(dir, 'src');
  execFileSync('git', ['init', '-q', '-b', 'main', src]);
  const lines: string[] = [];
  const types = ['fix', 'feat', 'chore', 'docs', 'perf'];
  let tags = 0;
  lines.push('blob', 'mark :1', 'data <<EOF', 'module example.com/big', '', 'go 1.22', 'EOF', '');
  for (let i = 1; i <= COMMITS; i++) {
    const msg = `${types[i % types.length]}: change ${i}`;
    const content = `package big\n\nconst N = ${i}\n`;
    lines.push(
      `commit refs/heads/main`,
      `mark :${i + 1}`,
      `committer Bench <bench@example.com> ${1_700_000_000 + i * 60} +0000`,
      `data ${Buffer.byteLength(msg)}`,
      msg,
      ...(i === 1 ? [] : [`from :${i}`]),
      ...(i === 1 ? ['M 100644 :1 go.mod'] : []),
      `M 100644 inline big.go`,
      `data ${Buffer.byteLength(content)}`,
      content,
      '',
    );
    if ((i - 1) % TAG_EVERY === 0) {
      tags++;
      lines.push(`reset refs/tags/v1.0.${tags}`, `from :${i + 1}`, '');
    }
  }
  lines.push('done', '');
  const r = spawnSync('git', ['fast-import', '--quiet', '--done'], { cwd: src, input: lines.join('\n') });
  if (r.status !== 0) throw new Error(`git fast-import failed: ${r.stderr}`);
  const remote = join(dir, 'remote.git');
  execFileSync('git', ['clone', '-q', '--bare', src, remote]);
  const work = join(dir, 'work');
  execFileSync('git', ['clone', '-q', remote, work]);
  return { work, remote, lastTag: `v1.0.${tags}`, tags };
}

/** semantic-release from the npm registry into a scratch prefix, or why it could not be had. */
function installSemanticRelease(dir: string): { bin?: string; why?: string } {
  const prefix = join(dir, 'sr');
  mkdirSync(prefix);
  writeFileSync(join(prefix, 'package.json'), '{"private":true}');
  const r = spawnSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--silent', `semantic-release@${SR_VERSION}`],
    {
      cwd: prefix,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0)
    return {
      why: `\`npm install semantic-release@${SR_VERSION}\` failed: ${(r.stderr || '').trim().split('\n').slice(-1)[0]}`,
    };
  return { bin: join(prefix, 'node_modules', 'semantic-release', 'bin', 'semantic-release.js') };
}

/**
 * go-ship semver-tag (the bundle, dry run) and semantic-release (dry run, commit analysis only)
 * computing the next version of a 50,000-commit, 5,000-tag repository. svu, which the issue names,
 * is not on this machine's Go module proxy; the report says so.
 */
export async function bench(runs: number): Promise<BenchReport> {
  const n = runs || 5;
  const dir = mkdtempSync(join(tmpdir(), 'bench-semver-'));
  process.stderr.write(`generating ${COMMITS} commits...\n`);
  const { work, remote, lastTag, tags } = generate(dir);
  const sr = installSemanticRelease(dir);
  const svu = spawnSync('go', ['install', 'github.com/caarlos0/svu/v3@latest'], {
    encoding: 'utf8',
    env: { ...process.env, GOBIN: join(dir, 'gobin'), GOFLAGS: '' },
  });
  const svuWhy =
    svu.status === 0
      ? undefined
      : `\`go install github.com/caarlos0/svu/v3@latest\` failed on this machine (${
          (svu.stderr || '')
            .replace(/https?:\/\/\S+/g, '<GOPROXY>')
            .trim()
            .split('\n')
            .slice(-1)[0]
        })`;

  const stepDir = mkdtempSync(join(tmpdir(), 'bench-semver-step-'));
  for (const f of ['out', 'summary']) writeFileSync(join(stepDir, f), '');
  const stepEnv = {
    ...process.env,
    GITHUB_WORKSPACE: work,
    RUNNER_TEMP: stepDir,
    GITHUB_OUTPUT: join(stepDir, 'out'),
    GITHUB_STEP_SUMMARY: join(stepDir, 'summary'),
    'INPUT_DRY-RUN': 'true',
    INPUT_LABELS: 'false',
    'INPUT_RELEASE-BRANCHES': 'main',
  };
  const srEnv = { ...process.env, CI: 'false', GITHUB_ACTIONS: '' };
  const srArgs = (bin: string) => [
    bin,
    '--dry-run',
    '--no-ci',
    '--branches',
    'main',
    '--repository-url',
    `file://${remote}`,
    '--plugins',
    '@semantic-release/commit-analyzer',
  ];
  const s = {
    ship: { name: 'go-ship semver-tag (bundle, dry-run)', samples: [] as number[] },
    sr: { name: `semantic-release ${SR_VERSION} (dry-run)`, samples: [] as number[] },
    svu: { name: 'svu next', samples: [] as number[] },
  };
  const svuBin = svuWhy ? undefined : join(dir, 'gobin', 'svu');
  for (let i = 0; i < n; i++) {
    s.ship.samples.push(await timeRun(process.execPath, [BUNDLE], stepEnv));
    if (sr.bin) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, srArgs(sr.bin), { cwd: work, env: srEnv, encoding: 'utf8' });
      if (r.status !== 0)
        throw new Error(`semantic-release failed: ${r.stdout.slice(-800)}${r.stderr.slice(-800)}`);
      s.sr.samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    if (svuBin) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(svuBin, ['next'], { cwd: work, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`svu failed: ${r.stderr.slice(-800)}`);
      s.svu.samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    process.stderr.write(
      `[${i + 1}/${n}] go-ship ${s.ship.samples.at(-1)!.toFixed(0)} ms${sr.bin ? `, semantic-release ${s.sr.samples.at(-1)!.toFixed(0)} ms` : ''}\n`,
    );
  }
  // Both must find the same next version, or the timing means nothing.
  const ours = /^tag<<(\S+)\n(\S+)\n/m.exec(readFileSync(join(stepDir, 'out'), 'utf8'))?.[2];
  let theirs: string | undefined;
  if (sr.bin) {
    const out = spawnSync(process.execPath, srArgs(sr.bin), {
      cwd: work,
      env: srEnv,
      encoding: 'utf8',
    }).stdout;
    theirs = /The next release version is (\S+)/.exec(out)?.[1];
    if (!ours || `v${theirs}` !== ours)
      throw new Error(`next versions differ: go-ship ${ours}, semantic-release ${theirs}`);
  }
  return {
    title: 'semver-tag: next version of a 50,000-commit repository with 5,000 tags',
    setup: `${COMMITS.toLocaleString('en')} commits (conventional messages), ${tags.toLocaleString('en')} lightweight release tags up to ${lastTag}, ${TAG_EVERY - 1} commits since; a fresh clone with its bare remote. Both tools fetch tags from the remote and compute the next version without tagging; both find ${ours}${sr.bin ? '' : ` (semantic-release not run: ${sr.why})`}. ${svuWhy ? `svu not run: ${svuWhy}.` : 'svu from the Go module proxy.'} Median of ${n} interleaved runs each (go-ship median ${median(s.ship.samples).toFixed(0)} ms).`,
    series: [s.ship, ...(sr.bin ? [s.sr] : []), ...(svuBin ? [s.svu] : [])],
    ratios: [
      ...(sr.bin ? [['go-ship / semantic-release', s.ship.name, s.sr.name] as [string, string, string]] : []),
      ...(svuBin ? [['go-ship / svu', s.ship.name, s.svu.name] as [string, string, string]] : []),
    ],
    goal: 'within 2x of svu and under 2 s',
  };
}
