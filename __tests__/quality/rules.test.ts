import { execFileSync, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { type Finding, dedupe, judge, repoPath } from '../../src/quality/findings.js';
import { gofmtVersion } from '../../src/quality/formatted.js';
import {
  argBatches,
  goFilesUnder,
  gofmt,
  gofmtHunks,
  localPattern,
  parseGolangci,
  parseVet,
} from '../../src/quality/lint.js';
import { type TestCase, parseTestEvents, raceSupported, runPattern } from '../../src/quality/gotest.js';
import { junitXml } from '../../src/quality/junit.js';
import { sarifLog } from '../../src/quality/sarif.js';
import { testReport } from '../../src/quality/report.js';
import { tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { readTestResults } from '../../src/coverage/report-json.js';
import { validSarif } from './sarif-schema.js';

const finding = (over: Partial<Finding>): Finding => ({
  linter: 'go vet',
  rule: 'printf',
  file: 'a.go',
  line: 1,
  message: 'm',
  severity: 'error',
  ...over,
});

test('judge: with changed lines only findings on them fail; without a base every one does', () => {
  const fs = [
    finding({ line: 3 }),
    finding({ line: 4 }),
    finding({ file: 'b.go', line: 3 }),
    finding({ file: '' }),
  ];
  const changed = new Map([['a.go', [3]]]);
  expect(judge(fs, changed).map((f) => f.failing)).toEqual([true, false, false, false]);
  expect(judge(fs, undefined).map((f) => f.failing)).toEqual([true, true, true, true]);
});

test('dedupe: go vet and golangci-lint govet at one place with one message are one finding, naming both', () => {
  const vet = finding({ message: 'fmt.Printf format %d has arg "a" of wrong type string' });
  const govet = finding({ linter: 'golangci-lint', rule: 'govet', message: `printf: ${vet.message}` });
  const other = finding({
    linter: 'golangci-lint',
    rule: 'errcheck',
    message: 'Error return value is not checked',
  });
  expect(dedupe([vet, govet, other])).toEqual([{ ...vet, alsoBy: ['golangci-lint'] }, other]);
  expect(dedupe([govet, vet])).toEqual([{ ...govet, alsoBy: ['go vet'] }]);
});

test('repoPath: inside the repository relative and /-separated; outside it empty', () => {
  expect(repoPath('/r', '/r/mod', 'x/a.go')).toBe('mod/x/a.go');
  expect(repoPath('/r', '/r/mod', '/r/b.go')).toBe('b.go');
  expect(repoPath('/r', '/r/mod', '/usr/local/go/src/fmt/print.go')).toBe('');
  expect(repoPath('/r', '/r/mod', '../../etc/passwd')).toBe('');
});

test('localPattern: folder patterns walked without go; import paths, `..` and wildcards inside names left to go list', () => {
  expect(localPattern('./...')).toEqual({ dir: '.', recursive: true });
  expect(localPattern('.')).toEqual({ dir: '.', recursive: false });
  expect(localPattern('./cmd/...')).toEqual({ dir: './cmd', recursive: true });
  expect(localPattern('./internal/x')).toEqual({ dir: './internal/x', recursive: false });
  expect(localPattern('./internal/x/')).toEqual({ dir: './internal/x', recursive: false });
  for (const other of [
    'example.com/m/...',
    'all',
    '../other/...',
    './a/../../b',
    './cmd/foo...',
    './.../x',
    'std',
    '',
  ])
    expect(localPattern(other)).toBeUndefined();
});

test('argBatches: every item once, in order, each run under the limit', () => {
  const files = Array.from({ length: 500 }, (_, i) => `/w/internal/p${i}/file.go`);
  const runs = argBatches(files, 2_000);
  expect(runs.flat()).toEqual(files);
  expect(runs.length).toBeGreaterThan(1);
  for (const run of runs) expect(run.join(' ').length).toBeLessThan(2_000);
  expect(argBatches([], 10)).toEqual([]);
});

test('runPattern: a top-level test alone, whatever its subtest', () => {
  expect(runPattern('TestA/sub')).toBe('^TestA$');
  expect(runPattern('TestA')).toBe('^TestA$');
});

describeWith('go', hasCommand('go', ['version']), "quality rules against Go's own tools", () => {
  test('raceSupported agrees with `go build -race` on every platform `go tool dist list` has', () => {
    const platforms = execFileSync('go', ['tool', 'dist', 'list'], { encoding: 'utf8' }).trim().split('\n');
    const disagree: string[] = [];
    for (const p of platforms) {
      const [goos, goarch] = p.split('/');
      const r = spawnSync('go', ['build', '-race', '-n', 'fmt'], {
        encoding: 'utf8',
        env: { ...process.env, GOOS: goos, GOARCH: goarch, CGO_ENABLED: '1', GOFLAGS: '' },
      });
      const goSays = !/-race is not supported/.test(r.stderr);
      if (goSays !== raceSupported(goos, goarch)) disagree.push(`${p}: go ${goSays}`);
    }
    expect(platforms.length).toBeGreaterThan(40);
    expect(disagree).toEqual([]);
  }, 120_000);

  test('gofmtHunks: one finding per run of lines `gofmt -d` changes, at its line in the file as it is', () => {
    const dir = tempDir('gofmt');
    const file = join(dir, 'a.go');
    writeFileSync(
      file,
      'package a\n\nfunc  A() int {\n  return 1\n}\n\nfunc B() {}\n\nfunc C() int {\nreturn 2\n}\n',
    );
    const diff = spawnSync('gofmt', ['-d', file], { encoding: 'utf8' }).stdout;
    expect(gofmtHunks(diff)).toEqual([3, 10]);
    expect(gofmtHunks('')).toEqual([]);
  });

  // #33: a warm lint run gives gofmt only content it has not seen formatted (the record beside
  // golangci-lint's cache); what it reports must not change, run after run or after an edit.
  test('gofmt: a warm run checks only unseen content and reports the same; an edit, a bad record or a file gofmt cannot parse are checked again', async () => {
    const dir = tempDir('gofmt-record');
    const bin = join(dir, 'bin');
    const calls = join(dir, 'calls');
    mkdirSync(bin);
    // A gofmt that says which files it was given, then runs the real one.
    const real = execFileSync('sh', ['-c', 'command -v gofmt'], { encoding: 'utf8' }).trim();
    writeFileSync(join(bin, 'gofmt'), `#!/bin/sh\necho "$@" >> ${calls}\nexec ${real} "$@"\n`, {
      mode: 0o755,
    });
    const mod = join(dir, 'm');
    mkdirSync(mod);
    writeFileSync(join(mod, 'go.mod'), 'module example.com/m\n\ngo 1.22\n');
    writeFileSync(join(mod, 'good.go'), 'package m\n\nfunc Good() int { return 1 }\n');
    writeFileSync(join(mod, 'also.go'), 'package m\n\nfunc Also() int { return 2 }\n');
    writeFileSync(join(mod, 'bad.go'), 'package m\n\nfunc  Bad() int { return 3 }\n');
    const cache = join(dir, 'lint-cache');
    const scope = {
      workspace: mod,
      top: mod,
      packages: ['./...'],
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: dir, GOLANGCI_LINT_CACHE: cache },
      scratch: dir,
    };
    const run = async () => {
      writeFileSync(calls, '');
      const found = (await gofmt(scope)).map((f) => `${f.file}:${f.line}`);
      const listed = readFileSync(calls, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('-l '))
        .flatMap((l) =>
          l
            .slice(3)
            .split(' ')
            .map((f) => basename(f)),
        )
        .sort();
      return { found, listed };
    };
    expect(await run()).toEqual({ found: ['bad.go:3'], listed: ['also.go', 'bad.go', 'good.go'] });
    // The version SARIF names, read from gofmt's Go root without starting go: what go says; the
    // wrapper above is in no Go root, so it has none.
    expect(gofmtVersion(scope.env)).toBeUndefined();
    expect(gofmtVersion({ PATH: process.env.PATH ?? '' })).toBe(
      execFileSync('go', ['env', 'GOVERSION'], {
        encoding: 'utf8',
        env: { ...process.env, GOTOOLCHAIN: 'local' },
      }).trim(),
    );
    expect(readdirSync(join(cache, 'go-ship-gofmt'))).toHaveLength(1);
    // Warm: only the file gofmt listed is given to it again, and it is still reported.
    expect(await run()).toEqual({ found: ['bad.go:3'], listed: ['bad.go'] });
    // An edit that unformats a file it had seen formatted: new content, checked and reported.
    writeFileSync(join(mod, 'good.go'), 'package m\n\nfunc Good() int {  return 1 }\n');
    expect(await run()).toEqual({ found: ['bad.go:3', 'good.go:3'], listed: ['bad.go', 'good.go'] });
    // A record that is not one is an empty one.
    const [record] = readdirSync(join(cache, 'go-ship-gofmt'));
    writeFileSync(join(cache, 'go-ship-gofmt', record), 'not a hash\n../../etc/passwd\n');
    expect((await run()).listed).toEqual(['also.go', 'bad.go', 'good.go']);
    // A file gofmt cannot parse: that run records nothing, so the next checks everything again.
    writeFileSync(join(cache, 'go-ship-gofmt', record), '');
    writeFileSync(join(mod, 'broken.go'), 'package m\n\nfunc Broken( {\n');
    await run();
    expect(readFileSync(join(cache, 'go-ship-gofmt', record), 'utf8')).toBe('');
    rmSync(join(mod, 'broken.go'));
    // Like git's index: files older than the record are known by size, time and inode, not read.
    writeFileSync(join(mod, 'good.go'), 'package m\n\nfunc Good() int { return 1 }\n');
    const old = new Date(Date.now() - 3_600_000);
    for (const f of ['good.go', 'also.go', 'bad.go']) utimesSync(join(mod, f), old, old);
    expect((await run()).listed).toEqual(['also.go', 'bad.go', 'good.go']);
    expect((await run()).listed).toEqual(['bad.go']);
    // So an edit that keeps the size and puts the old time back is not seen (git's index has the
    // same limit); any edit that leaves a new time is, even within the record's own second.
    writeFileSync(join(mod, 'also.go'), 'package m\n\nfunc Also() int {  return 2}\n');
    utimesSync(join(mod, 'also.go'), old, old);
    expect((await run()).listed).toEqual(['bad.go']);
    writeFileSync(join(mod, 'also.go'), 'package m\n\nfunc Also() int {  return 2}\n');
    expect(await run()).toEqual({ found: ['also.go:3', 'bad.go:3'], listed: ['also.go', 'bad.go'] });
  });

  test('goFilesUnder: the files of the packages `go list ./...` and `go list ./cmd/...` match, without starting go', () => {
    const dir = tempDir('gofiles');
    const put = (path: string, text = 'package x\n') => {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    put('go.mod', 'module example.com/files\n\ngo 1.22\n');
    put('main.go', 'package main\n\nfunc main() {}\n');
    put('main_test.go', 'package main\n');
    put('other_windows.go', 'package main\n'); // another platform's file: gofmt should see it
    put('ignored.go', '//go:build ignore\n\npackage main\n');
    put('_skip.go', 'package main\n');
    put('.hidden.go', 'package main\n');
    put('cmd/tool/tool.go', 'package main\n\nfunc main() {}\n');
    put('cmd/tool/testdata/fixture.go', 'package fixture\n');
    put('internal/lib/lib.go', 'package lib\n');
    put('internal/lib/lib_x_test.go', 'package lib_test\n');
    put('internal/_old/old.go', 'package old\n');
    put('.git/hooks/x.go', 'package x\n');
    put('vendor/example.com/dep/dep.go', 'package dep\n');
    put('tools/go.mod', 'module example.com/tools\n\ngo 1.22\n'); // a nested module: not ours
    put('tools/tools.go', 'package tools\n');
    put('docs/README.md', 'no Go here\n');
    symlinkSync(join(dir, 'internal'), join(dir, 'linked'));
    const fields = ['GoFiles', 'CgoFiles', 'TestGoFiles', 'XTestGoFiles', 'IgnoredGoFiles'];
    const format = `{{$d := .Dir}}${fields.map((f) => `{{range .${f}}}{{$d}}/{{.}}\n{{end}}`).join('')}`;
    const goList = (pattern: string) =>
      execFileSync('go', ['list', '-e', '-f', format, pattern], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, GOFLAGS: '-mod=mod' },
      })
        .split('\n')
        .filter(Boolean)
        .sort();
    expect(goFilesUnder(dir, true).sort()).toEqual(goList('./...'));
    expect(goFilesUnder(join(dir, 'cmd'), true).sort()).toEqual(goList('./cmd/...'));
    expect(goFilesUnder(dir, false).sort()).toEqual(goList('.'));
    expect(goList('./...')).toHaveLength(7);
  });

  test('parseVet: go vet -json output, a package per object, with the # lines between', () => {
    const dir = tempDir('vet');
    writeFileSync(join(dir, 'go.mod'), 'module example.com/v\n\ngo 1.22\n');
    writeFileSync(
      join(dir, 'a.go'),
      'package v\n\nfunc A() int {\n\treturn 1\n\tprintln("x")\n\treturn 2\n}\n',
    );
    const r = spawnSync('go', ['vet', '-json', './...'], { cwd: dir, encoding: 'utf8' });
    expect(parseVet(r.stderr + r.stdout)).toEqual([
      { posn: `${dir}/a.go:5:2`, analyzer: 'unreachable', message: 'unreachable code' },
    ]);
    expect(
      parseVet(
        '# example.com/x\n{\n\t"example.com/x": {\n\t\t"printf": {"error": "could not run"}\n\t}\n}\n',
      ),
    ).toEqual([]);
  });

  test('parseTestEvents: real go test -json, a subtest failure at its line, a skip, a build failure at the compiler line', () => {
    const dir = tempDir('events');
    writeFileSync(join(dir, 'go.mod'), 'module example.com/e\n\ngo 1.22\n');
    writeFileSync(
      join(dir, 'e_test.go'),
      'package e\n\nimport "testing"\n\nfunc TestA(t *testing.T) {\n\tt.Run("sub", func(t *testing.T) {\n\t\tt.Errorf("bad %d", 1)\n\t})\n}\n\nfunc TestSkip(t *testing.T) { t.Skip("later") }\n\nfunc TestPanic(t *testing.T) {\n\tvar m map[string]int\n\tm["x"] = 1\n}\n',
    );
    const r = spawnSync('go', ['test', '-json', './...'], { cwd: dir, encoding: 'utf8' });
    const run = parseTestEvents(r.stdout, {
      top: dir,
      workspace: dir,
      dirs: new Map([['example.com/e', dir]]),
    });
    const byName = Object.fromEntries(run.tests.map((t) => [t.name, t]));
    expect(byName['TestA/sub']).toMatchObject({ status: 'fail', place: { file: 'e_test.go', line: 7 } });
    expect(byName['TestA'].status).toBe('fail');
    expect(byName['TestSkip'].status).toBe('skip');
    // A panic points at the line that panicked, the first frame in the repository.
    expect(byName['TestPanic']).toMatchObject({ status: 'fail', place: { file: 'e_test.go', line: 15 } });
    const report = testReport(run, { on: false, why: 'test' }, false);
    expect(report.failed.map((f) => f.name)).toEqual(['TestA/sub', 'TestPanic']);

    writeFileSync(join(dir, 'broken.go'), 'package e\n\nfunc Broken() int {\n\treturn "x"\n}\n');
    const b = spawnSync('go', ['test', '-json', './...'], { cwd: dir, encoding: 'utf8' });
    const broken = parseTestEvents(b.stdout, { top: dir, workspace: dir, dirs: new Map() });
    expect(broken.packages[0]).toMatchObject({ status: 'fail', buildFailed: true });
    expect(broken.packages[0].buildErrors[0].place).toEqual({ file: 'broken.go', line: 4 });
    expect(testReport(broken, { on: false }, false).brokenPackages.map((p) => p.pkg)).toEqual([
      'example.com/e',
    ]);
  }, 120_000);
});

test('parseGolangci: golangci-lint v2 JSON, absolute paths made repository paths, severities kept, linters the config turned on', () => {
  const json = JSON.stringify({
    Issues: [
      {
        FromLinter: 'errcheck',
        Text: 'not checked',
        Severity: '',
        Pos: { Filename: '/r/mod/a.go', Line: 3, Column: 2 },
      },
      {
        FromLinter: 'revive',
        Text: 'exported',
        Severity: 'warning',
        Pos: { Filename: '/r/mod/b.go', Line: 1, Column: 0 },
      },
    ],
    Report: {
      Linters: [{ Name: 'errcheck', Enabled: true }, { Name: 'gofmt' }, { Name: 'govet', Enabled: false }],
    },
  });
  const run = parseGolangci(json, { top: '/r', workspace: '/r/mod' });
  expect([...run.enabled]).toEqual(['errcheck']);
  expect(run.findings).toEqual([
    {
      linter: 'golangci-lint',
      rule: 'errcheck',
      file: 'mod/a.go',
      line: 3,
      column: 2,
      message: 'not checked',
      severity: 'error',
    },
    {
      linter: 'golangci-lint',
      rule: 'revive',
      file: 'mod/b.go',
      line: 1,
      column: undefined,
      message: 'exported',
      severity: 'warning',
    },
  ]);
  expect(parseGolangci('{"Issues":null}', { top: '/r', workspace: '/r' })).toEqual({
    findings: [],
    enabled: new Set(),
  });
});

test('sarifLog: valid SARIF 2.1.0 by the OASIS schema, odd file names as URI references, no-file findings without a location', () => {
  const log = sarifLog(
    [
      finding({ file: 'dir with space/#1.go', line: 2, column: 3 }),
      finding({ linter: 'gofmt', rule: 'gofmt', file: 'a.go', line: 9, severity: 'note' }),
      finding({ linter: 'golangci-lint', rule: 'errcheck', file: '', line: 0 }),
    ],
    { gofmt: 'go1.26.8', 'go vet': 'go1.26.8', 'golangci-lint': '2.15.0' },
  );
  expect(validSarif(log)).toEqual([]);
  const vet = log.runs.find((r) => r.tool.driver.name === 'go vet')!;
  expect(vet.results![0].locations![0].physicalLocation!.artifactLocation!.uri).toBe(
    'dir%20with%20space/%231.go',
  );
  expect(log.runs.find((r) => r.tool.driver.name === 'golangci-lint')!.results![0].locations).toBeUndefined();
  expect(validSarif({ version: '2.1.0', runs: [{ tool: { driver: {} } }] })).not.toEqual([]);
});

describeWith('python3 (an XML parser)', hasCommand('python3'), 'junitXml', () => {
  test('JUnit XML a real parser reads: text escaped, control characters replaced, flaky passed unless asked', () => {
    const t = (over: Partial<TestCase>): TestCase => ({
      pkg: 'example.com/p',
      name: 'TestA',
      status: 'pass',
      elapsedMs: 12,
      output: [],
      race: false,
      ...over,
    });
    const tests = [
      t({ name: 'TestFail', status: 'fail', output: ['    a_test.go:3: <b>&"\'</b> ]]> \u0001\u001b[31m'] }),
      t({ name: 'TestFlaky', status: 'fail', flaky: true, output: ['    a_test.go:9: odd'] }),
      t({ name: 'TestSkip', status: 'skip', output: ['    a_test.go:12: later'] }),
      t({ name: 'TestOk' }),
    ];
    const packages = [
      {
        pkg: 'example.com/p',
        status: 'fail' as const,
        elapsedMs: 40,
        output: [],
        buildFailed: false,
        buildErrors: [],
      },
      {
        pkg: 'example.com/q',
        status: 'fail' as const,
        elapsedMs: 0,
        output: ['q.go:1:1: syntax error'],
        buildFailed: true,
        buildErrors: [],
      },
    ];
    const read = (xml: string) => {
      const dir = tempDir('junit');
      writeFileSync(join(dir, 'j.xml'), xml);
      return execFileSync(
        'python3',
        [
          '-c',
          'import sys, xml.etree.ElementTree as ET\nr = ET.parse(sys.argv[1]).getroot()\nprint(r.get("tests"), r.get("failures"), r.get("skipped"))\nfor c in r.iter("testcase"):\n  f = c.find("failure")\n  print(c.get("classname"), c.get("name"), "failure:" + (f.text or "") if f is not None else "skipped" if c.find("skipped") is not None else "passed")',
          join(dir, 'j.xml'),
        ],
        { encoding: 'utf8' },
      )
        .trim()
        .split('\n');
    };
    expect(read(junitXml(packages, tests, false))).toEqual([
      '5 2 1',
      'example.com/p TestFail failure:    a_test.go:3: <b>&"\'</b> ]]> \uFFFD\uFFFD[31m',
      'example.com/p TestFlaky passed',
      'example.com/p TestSkip skipped',
      'example.com/p TestOk passed',
      'example.com/q [build failed] failure:q.go:1:1: syntax error',
    ]);
    expect(read(junitXml(packages, tests, true))[0]).toBe('5 3 1');
  });
});

test('test results travel as data: counts checked, names that are not plain names dropped and counted', () => {
  const bad = (what: string): never => {
    throw new Error(what);
  };
  const { tests, dropped } = readTestResults(
    {
      total: 3,
      passed: 1,
      skipped: 0,
      race: true,
      failed: [
        { pkg: 'example.com/p', name: 'TestA/case_1', race: false, file: 'a_test.go', line: 4 },
        { pkg: 'example.com/p', name: 'TestB<img src=x>', race: false },
        { pkg: 'example.com/p', name: 'TestC', race: true, file: '../../etc/passwd', line: 1 },
      ],
      flaky: [{ pkg: 'example.com/p', name: 'Test`x` y' }],
      broken: ['example.com/q', 'q <script>'],
    },
    bad,
  );
  expect(tests.failed).toEqual([
    { pkg: 'example.com/p', name: 'TestA/case_1', race: false, file: 'a_test.go', line: 4 },
    { pkg: 'example.com/p', name: 'TestC', race: true },
  ]);
  expect(tests.flaky).toEqual([]);
  expect(tests.broken).toEqual(['example.com/q']);
  expect(dropped).toBe(3);
  expect(() =>
    readTestResults({ total: -1, passed: 0, skipped: 0, failed: [], flaky: [], broken: [] }, bad),
  ).toThrow('tests.total is not a whole number');
});
