import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { actionStep, median, timeRun, type BenchReport, type Series } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..');
const BUNDLE = join(ROOT, 'dist', 'semver-tag', 'index.js');
const COMMITS = 50_000;
const TAG_EVERY = 10; // 5,000 tags: commits 1, 11, ..., 49,991
const SR_VERSION = '25';

/**
 * A repository of `commits` commits (50,000 by default) with a release tag on every 10th (v1.0.1 ...
 * v1.0.5000), written with git fast-import, its bare remote, and a clone like a CI checkout.
 */
export function generate(
  dir: string,
  commits = COMMITS,
): { work: string; remote: string; lastTag: string; tags: number } {
  const src = join(dir, 'src');
  execFileSync('git', ['init', '-q', '-b', 'main', src]);
  const lines: string[] = [];
  const types = ['fix', 'feat', 'chore', 'docs', 'perf'];
  let tags = 0;
  lines.push('blob', 'mark :1', 'data <<EOF', 'module example.com/big', '', 'go 1.22', 'EOF', '');
  for (let i = 1; i <= commits; i++) {
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

/** The git floor: what a person does by hand to find the next version (fetch tags, last tag, messages since). */
function gitFloor(work: string): number {
  const t0 = process.hrtime.bigint();
  const git = (args: string[]) => {
    const r = spawnSync('git', args, { cwd: work, encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout.trim();
  };
  git(['fetch', '--quiet', 'origin', '+refs/tags/*:refs/tags/*']);
  const last = git(['describe', '--tags', '--abbrev=0']);
  git(['log', '--format=%s%n%b', `${last}..HEAD`]);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const SIZES = [5_000, 50_000, 200_000];

/**
 * go-ship semver-tag (the bundle, dry run) on repositories of 5,000, 50,000 and 200,000 commits with
 * a release tag on every 10th and 9 commits since the last, against the git floor on the same
 * clone; and at 50,000 against semantic-release (dry run, commit analysis only). svu, which users
 * also pick, is not on this machine's Go module proxy; the report says so when it cannot be had.
 */
export async function bench(runs: number): Promise<BenchReport> {
  const n = runs || 5;
  const dir = mkdtempSync(join(tmpdir(), 'bench-semver-'));
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
  const svuBin = svuWhy ? undefined : join(dir, 'gobin', 'svu');
  const srEnv = { ...process.env, CI: 'false', GITHUB_ACTIONS: '' };
  const srArgs = (bin: string, remote: string) => [
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
  const series: Series[] = [];
  const ratios: [string, string, string][] = [];
  const found: string[] = [];
  const medians: { size: number; ship: number; floor: number; fetched: number }[] = [];
  for (const size of SIZES) {
    const k = `${size / 1000}k`;
    process.stderr.write(`generating ${size.toLocaleString('en')} commits...\n`);
    const { work, remote, lastTag } = generate(join(dir, k), size);
    const stepDir = mkdtempSync(join(tmpdir(), 'bench-semver-step-'));
    const stepEnv = {
      ...process.env,
      ...actionStep(stepDir, work),
      'INPUT_DRY-RUN': 'true',
      INPUT_LABELS: 'false',
      'INPUT_RELEASE-BRANCHES': 'main',
    };
    const ship: Series = { name: `go-ship semver-tag (bundle, dry-run), ${k} commits`, samples: [] };
    const floor: Series = { name: `git floor (fetch tags, describe, log since), ${k} commits`, samples: [] };
    const srSeries: Series = { name: `semantic-release ${SR_VERSION} (dry-run), ${k} commits`, samples: [] };
    const svuSeries: Series = { name: `svu next, ${k} commits`, samples: [] };
    const fetched: Series = {
      name: `go-ship semver-tag, the last release new on the remote, ${k} commits`,
      samples: [],
    };
    const withOthers = size === 50_000;
    // One of each first: the clone's first fetch of tags and the page cache are not what is measured.
    await timeRun(process.execPath, [BUNDLE], stepEnv);
    gitFloor(work);
    for (let i = 0; i < n; i++) {
      ship.samples.push(await timeRun(process.execPath, [BUNDLE], stepEnv));
      floor.samples.push(gitFloor(work));
      // The clone without its last release tag: the remote has one go-ship must fetch.
      spawnSync('git', ['tag', '-d', lastTag], { cwd: work });
      fetched.samples.push(await timeRun(process.execPath, [BUNDLE], stepEnv));
      if (
        spawnSync('git', ['rev-parse', '-q', '--verify', `refs/tags/${lastTag}`], { cwd: work }).status !== 0
      )
        throw new Error(`go-ship did not fetch ${lastTag}, new on the remote`);
      if (withOthers && sr.bin) {
        const t0 = process.hrtime.bigint();
        const r = spawnSync(process.execPath, srArgs(sr.bin, remote), {
          cwd: work,
          env: srEnv,
          encoding: 'utf8',
        });
        if (r.status !== 0)
          throw new Error(`semantic-release failed: ${r.stdout.slice(-800)}${r.stderr.slice(-800)}`);
        srSeries.samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      if (withOthers && svuBin) {
        const t0 = process.hrtime.bigint();
        const r = spawnSync(svuBin, ['next'], { cwd: work, encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`svu failed: ${r.stderr.slice(-800)}`);
        svuSeries.samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      process.stderr.write(
        `[${k} ${i + 1}/${n}] go-ship ${ship.samples[i].toFixed(0)} ms, git floor ${floor.samples[i].toFixed(0)} ms, go-ship with a tag to fetch ${fetched.samples[i].toFixed(0)} ms\n`,
      );
    }
    // go-ship must find the version the commits ask for after the last tag, or the timing means nothing.
    const ours = /^tag<<(\S+)\n(\S+)\n/m.exec(readFileSync(join(stepDir, 'out'), 'utf8'))?.[2];
    const previous = /^previous-tag<<(\S+)\n(\S+)\n/m.exec(readFileSync(join(stepDir, 'out'), 'utf8'))?.[2];
    if (previous !== lastTag || ours !== 'v1.1.0')
      throw new Error(`go-ship found ${ours} after ${previous}; expected v1.1.0 after ${lastTag}`);
    found.push(`${k}: ${lastTag} → ${ours}`);
    series.push(ship, floor, fetched);
    ratios.push([`go-ship / git floor, ${k}`, ship.name, floor.name]);
    ratios.push([`go-ship with a tag to fetch / git floor, ${k}`, fetched.name, floor.name]);
    medians.push({
      size,
      ship: median(ship.samples),
      floor: median(floor.samples),
      fetched: median(fetched.samples),
    });
    if (withOthers && sr.bin) {
      const out = spawnSync(process.execPath, srArgs(sr.bin, remote), {
        cwd: work,
        env: srEnv,
        encoding: 'utf8',
      }).stdout;
      const theirs = /The next release version is (\S+)/.exec(out)?.[1];
      if (`v${theirs}` !== ours)
        throw new Error(`next versions differ: go-ship ${ours}, semantic-release ${theirs}`);
      series.push(srSeries);
      ratios.push([`go-ship / semantic-release, ${k}`, ship.name, srSeries.name]);
    }
    if (withOthers && svuBin) {
      series.push(svuSeries);
      ratios.push([`go-ship / svu, ${k}`, ship.name, svuSeries.name]);
    }
  }
  const [small, , large] = medians;
  const growth = `From 5k to 200k commits go-ship's median grows by ${(large.ship - small.ship).toFixed(0)} ms (${(large.fetched - small.fetched).toFixed(0)} ms when it has a tag to fetch) and the git floor's by ${(large.floor - small.floor).toFixed(0)} ms.`;
  return {
    title: 'semver-tag: the next version at 5,000, 50,000 and 200,000 commits',
    setup: `Repositories written with git fast-import: conventional messages, a lightweight release tag on every 10th commit (500, 5,000 and 20,000 tags), 9 commits since the last; a fresh clone of each with its bare remote. The git floor always fetches the tags from the remote. go-ship lists the remote's tags (ls-remote) while it reads its own, and fetches only when a release tag is new or moved there: in the first go-ship series the clone already has every tag (as after actions/checkout with fetch-depth: 0); in the second its last release tag was deleted before each run, so go-ship lists, fetches and reads the tags again. go-ship then computes the next version without tagging (dry run, labels off). Found: ${found.join('; ')}. ${sr.bin ? 'semantic-release finds the same at 50k.' : `semantic-release not run: ${sr.why}.`} ${svuWhy ? `svu not run: ${svuWhy}.` : 'svu from the Go module proxy.'} Median of ${n} interleaved runs each, after one unmeasured run of each. ${growth}`,
    series,
    ratios,
    goal: 'at most 2x the git floor at every size, growing no faster than it',
  };
}
