import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findFuncs, type FuncExtent } from '../../src/coverage/funcs.js';
import { runCommand } from '../../src/runner/command.js';
import { findFiles } from '../../src/runner/glob.js';
import { parseProfiles, type ProfileSource } from '../../src/coverage/profile.js';
import { formatDelta, parseBaseline, withinDrop } from '../../src/coverage/baseline.js';
import { buildReport, formatPercent, formatRatio, meets, percent } from '../../src/coverage/report.js';
import { localModules, repoPath } from '../../src/coverage/source.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { tempDir } from '../helpers/cli.js';
import { covmodCopy, goTest, goToolCoverFunc } from './gocover.js';

function reportFor(dir: string, ...profiles: string[]) {
  const sources: ProfileSource[] = profiles.map((p) => ({ name: p, text: readFileSync(join(dir, p), 'utf8') }));
  const modules = localModules(dir);
  return buildReport(parseProfiles(sources), (file) => {
    const p = repoPath(file, modules, dir);
    return p ? findFuncs(readFileSync(join(dir, p))) : undefined;
  });
}

describe('percentages print as Go prints them', () => {
  test.each([
    [5, 16, '31.2'], // 31.25: an exact tie; Go rounds half to even, toFixed would say 31.3
    [3, 8, '37.5'],
    [1, 3, '33.3'],
    [2, 3, '66.7'],
    [7, 8, '87.5'],
    [1, 400, '0.2'], // 0.25
    [3, 400, '0.8'], // 0.75
    [13, 16, '81.2'], // 81.25
    [15, 16, '93.8'], // 93.75
    [0, 0, '0.0'],
  ])('%i/%i is %s', (covered, total, expected) => {
    expect(formatPercent(percent({ covered, total }))).toBe(expected);
  });

  test('thresholds compare integers: 79.96% does not meet 80, though it prints as 80.0', () => {
    const r = { covered: 7996, total: 10000 };
    expect(formatRatio(r)).toBe('80.0%');
    expect(meets(r, 800)).toBe(false);
    expect(meets({ covered: 8, total: 10 }, 800)).toBe(true);
    expect(meets({ covered: 0, total: 0 }, 1000)).toBe(true);
  });
});

describe('profiles: parsing and merging', () => {
  const p = (name: string, text: string): ProfileSource => ({ name, text });

  test('parsed from the right, so file names may contain colons; repeated mode lines are dropped', () => {
    const prof = parseProfiles([
      p('a.out', 'mode: count\nex.com/m/c:d/x.go:1.2,3.4 2 5\n'),
      p('b.out', 'mode: count\nex.com/m/c:d/x.go:1.2,3.4 2 1\nex.com/m/c:d/x.go:4.1,5.2 1 0\n'),
    ]);
    expect([...prof.files.keys()]).toEqual(['ex.com/m/c:d/x.go']);
    expect(prof.files.get('ex.com/m/c:d/x.go')!.toArray()).toEqual([
      { startLine: 1, startCol: 2, endLine: 3, endCol: 4, numStmt: 2, count: 6 },
      { startLine: 4, startCol: 1, endLine: 5, endCol: 2, numStmt: 1, count: 0 },
    ]);
  });

  test('a Buffer parses like a string, CRLF and blank lines included', () => {
    const text = 'mode: count\r\nex.com/m/é.go:10.2,12.30 3 7\r\n\r\nex.com/m/é.go:10.2,12.30 3 1\r\n';
    const a = parseProfiles([p('s', text)]);
    expect(parseProfiles([{ name: 'b', text: Buffer.from(text) }])).toEqual(a);
    expect(a.files.get('ex.com/m/é.go')!.toArray()).toEqual([
      { startLine: 10, startCol: 2, endLine: 12, endCol: 30, numStmt: 3, count: 8 },
    ]);
  });

  test('repeats in another order merge as x/tools merges them (add, after sorting)', () => {
    const one = 'x.go:1.1,2.2 1 1\nx.go:3.1,4.2 2 0\nx.go:5.1,6.2 3 2\ny.go:1.1,2.2 1 5\n';
    const shuffled = 'x.go:5.1,6.2 3 1\nx.go:1.1,2.2 1 0\ny.go:1.1,2.2 1 1\nx.go:3.1,4.2 2 7\nx.go:1.1,2.2 1 4\n';
    const prof = parseProfiles([p('a', `mode: count\n${one}${one}`), p('b', `mode: count\n${shuffled}`)]);
    expect(prof.files.get('x.go')!.toArray().map((b) => [b.startLine, b.count])).toEqual([
      [1, 6],
      [3, 7],
      [5, 5],
    ]);
    expect(prof.files.get('y.go')!.toArray().map((b) => b.count)).toEqual([11]);
  });

  test('a profile read from its file in chunks parses as its text does (lines across chunk edges, no final newline)', () => {
    const dir = tempDir('profile-chunks');
    const lines = ['mode: count'];
    for (let i = 0; i < 60_000; i++)
      lines.push(`example.com/m/pkg${i % 7}/file_${i % 13}.go:${i + 1}.2,${i + 1}.40 ${1 + (i % 3)} ${i % 5}`);
    for (let i = 0; i < 60_000; i += 3) lines.push(`example.com/m/pkg${i % 7}/file_${i % 13}.go:${i + 1}.2,${i + 1}.40 ${1 + (i % 3)} 1`);
    for (const [name, text] of [
      ['lf', lines.join('\n')],
      ['crlf', `${lines.join('\r\n')}\r\n`],
    ]) {
      const file = join(dir, `${name}.out`);
      writeFileSync(file, text);
      expect(text.length).toBeGreaterThan(3 << 20);
      expect(parseProfiles([{ name, path: file }])).toEqual(parseProfiles([p(name, text)]));
    }
  });

  test('names that differ in one byte anywhere, or hold NULs, stay apart (the fast run compares 8 bytes at a time)', () => {
    // Every name is 21 bytes (two 8-byte words and 5 more), and differs from the base in one byte;
    // the NUL pair differs only where one reads as float 0 and the other as -0.
    const base = 'example.com/m/abc.go';
    const names = [base + 'x', ...Array.from({ length: 21 }, (_, i) => `${base}x`.slice(0, i) + '~' + `${base}x`.slice(i + 1))];
    names.push('\0'.repeat(8) + 'a.go', '\0'.repeat(7) + '\x80a.go');
    const lines = ['mode: count'];
    // Each name's runs of lines, one after another, then the whole again: the run loop meets every
    // neighbour; a block's count is where its line is, so a wrong merge changes a total.
    for (let round = 0; round < 2; round++)
      names.forEach((name, n) => {
        for (let b = 1; b <= 3; b++) lines.push(`${name}:${b}.1,${b}.9 1 ${n * 10 + b + round}`);
      });
    const text = `${lines.join('\n')}\n`;
    const prof = parseProfiles([{ name: 'n', text: Buffer.from(text, 'latin1') }]);
    // The oracle: each line split from the right, its name decoded as the parser decodes it.
    const want = new Map<string, number[]>();
    for (const line of lines.slice(1)) {
      const colon = line.lastIndexOf(':');
      const file = Buffer.from(line.slice(0, colon), 'latin1').toString('utf8');
      const counts = want.get(file) ?? [0, 0, 0];
      counts[Number(line.slice(colon + 1).split('.')[0]) - 1] += Number(line.slice(line.lastIndexOf(' ') + 1));
      want.set(file, counts);
    }
    expect(want.size).toBe(names.length);
    expect(new Map([...prof.files].map(([file, blocks]) => [file, blocks.toArray().map((b) => b.count)]))).toEqual(want);
  });

  test('a -coverpkg profile (runs repeated by every test binary, most of them all 0) merges as line-by-line merging does', () => {
    // Test binaries that each list every file's blocks, mostly with count 0: runs that repeat a run
    // already read byte for byte are stepped over. Runs that differ from it in one count, that go on
    // with blocks the earlier run lacked, that hold a blank or a repeated mode line, or that cross a
    // chunk edge are read; the oracle below merges every line, as x/tools does.
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const files = Array.from({ length: 9 }, (_, f) => `example.com/m/p${f % 3}/file_${f}.go`);
    const lines = ['mode: count'];
    let bytes = 0;
    const push = (line: string) => (lines.push(line), (bytes += line.length + 1));
    // A file first listed across the first chunk's edge (1 MB), all 0, then again by later binaries.
    const late = 'example.com/m/late.go';
    for (let binary = 0; lines.length < 90_000; binary++)
      for (const [f, file] of [...files, late].entries()) {
        if (file === late && bytes < 1_000_000) continue;
        const blocks = file === late ? 2_000 : 40 + f + (rand(10) === 0 ? 1 : 0); // sometimes one block more
        for (let b = 1; b <= blocks; b++) {
          const count = file !== late && (binary % 9 === f || rand(400) === 0) ? 1 + rand(5) : 0;
          push(`${file}:${b * 3}.2,${b * 3 + 1}.9 ${1 + (b % 4)} ${count}`);
          if (file !== late && rand(3000) === 0) push(rand(2) ? '' : 'mode: count');
        }
      }
    const want = new Map<string, Map<string, number>>();
    for (const line of lines) {
      if (!line || line.startsWith('mode:')) continue;
      const colon = line.lastIndexOf(':');
      const sp = line.lastIndexOf(' ');
      const blocks = want.get(line.slice(0, colon)) ?? new Map<string, number>();
      blocks.set(line.slice(colon + 1, sp), (blocks.get(line.slice(colon + 1, sp)) ?? 0) + Number(line.slice(sp + 1)));
      want.set(line.slice(0, colon), blocks);
    }
    const dir = tempDir('profile-coverpkg');
    for (const [name, text] of [
      ['lf', `${lines.join('\n')}\n`],
      ['crlf', `${lines.join('\r\n')}\r\n`],
    ]) {
      const file = join(dir, `${name}.out`);
      writeFileSync(file, text);
      expect(text.length).toBeGreaterThan(3 << 20); // several 1 MB chunks
      for (const prof of [parseProfiles([{ name, path: file }]), parseProfiles([p(name, text)])]) {
        const got = new Map(
          [...prof.files].map(([f, blocks]) => [
            f,
            new Map(blocks.toArray().map((b) => [`${b.startLine}.${b.startCol},${b.endLine}.${b.endCol} ${b.numStmt}`, b.count])),
          ]),
        );
        expect(got).toEqual(want);
      }
    }
    // Line numbers still count every line stepped over.
    const bad = join(dir, 'bad.out');
    writeFileSync(bad, `${lines.join('\n')}\nexample.com/m/x.go:1.1 2 1\n`);
    expect(() => parseProfiles([{ name: 'bad.out', path: bad }])).toThrow(`bad.out:${lines.length + 1}: no \`file:line.col,line.col\``);
  });

  test('set mode merges with OR', () => {
    const prof = parseProfiles([p('a', 'mode: set\nx.go:1.1,2.2 1 1\n'), p('b', 'mode: set\nx.go:1.1,2.2 1 1\n')]);
    expect(prof.files.get('x.go')!.count(0)).toBe(1);
  });

  test.each([
    ['a malformed line names the profile and line', [p('unit.out', 'mode: set\nx.go:1.1,2.2 1 1\nx.go:1.1 2 1\n')], 'unit.out:3: no `file:line.col,line.col` position in `x.go:1.1 2 1`'],
    ['a non-numeric count', [p('u', 'mode: set\nx.go:1.1,2.2 1 one\n')], 'u:2: count `one` is not a number'],
    ['mixed modes', [p('a', 'mode: set\n'), p('b', 'mode: count\n')], 'b:1: mode `count` differs from `set` in a:1'],
    ['NumStmt mismatch', [p('a', 'mode: set\nx.go:1.1,2.2 1 1\n'), p('b', 'mode: set\nx.go:1.1,2.2 3 1\n')], 'b:2: block x.go:1.1,2.2 has 3 statements, but a:2 says 1'],
    ['overlapping blocks', [p('a', 'mode: set\nx.go:1.1,5.2 1 1\n'), p('b', 'mode: set\nx.go:3.1,6.2 1 1\n')], 'b:2: block x.go:3.1,6.2 starts inside 1.1,5.2 from a:2'],
    ['a non-numeric statement count', [p('u', 'mode: set\nx.go:1.1,2.2 x 1\n')], 'u:2: statement count `x` is not a number'],
    ['two fields only', [p('u', 'mode: set\nx.go:1.1,2.2 1\n')], 'u:2: missing fields'],
    ['same start, different end', [p('a', 'mode: set\nx.go:1.1,5.2 1 1\n'), p('b', 'mode: set\r\nx.go:1.1,6.2 1 1\r\n')], 'b:2: block x.go:1.1,6.2 starts where 1.1,5.2 from a:2 does'],
    ['an empty profile', [p('empty.out', '')], 'empty.out is empty'],
    ['not a profile', [p('notes.txt', 'hello world\n')], 'notes.txt:1: expected the `mode: set|count|atomic` line first'],
    ['an unknown mode', [p('m', 'mode: sometimes\n')], 'm:1: unknown coverage mode `sometimes`'],
  ])('%s', (_name, sources, message) => {
    expect(() => parseProfiles(sources)).toThrow(message);
  });
});

describe('function extents', () => {
  test('declarations only: not literals, not func types, not text in strings or comments', () => {
    const src = Buffer.from(
      [
        'package p',
        'var F = func() {}',
        'type T func()',
        'const s = `func fake() {`',
        '// func commented() {}',
        '/* func block() {} */',
        'func asm(x int)',
        'func (r *R[T]) M(s struct{ a int }) interface{ N() } { return nil }',
        'func G[T any](x T) T {',
        '\tf := func() {}',
        '\treturn x',
        '}',
        'func U() { s := "é}" ; _ = s }',
      ].join('\n'),
    );
    expect(findFuncs(src)).toEqual([
      { name: 'M', startLine: 8, startCol: 1, endLine: 8, endCol: 68 },
      { name: 'G', startLine: 9, startCol: 1, endLine: 12, endCol: 2 },
      // byte columns: é is two bytes
      { name: 'U', startLine: 13, startCol: 1, endLine: 13, endCol: 32 },
    ]);
  });
});

describeWith('go', hasCommand('go', ['version']), 'function extents agree with go/parser', () => {
  // cmd/cover -func finds functions with go/parser; funcextents/main.go prints what go/parser finds.
  test('on every file of GOROOT/src that go/parser accepts', async () => {
    const goroot = (await runCommand('go', ['env', 'GOROOT'])).stdout.trim();
    const files = findFiles(join(goroot, 'src'), ['**/*.go']).map((f) => join(goroot, 'src', f));
    const out = await runCommand('go', ['run', join(import.meta.dirname, 'funcextents', 'main.go')], {
      input: files.join('\n'),
      env: { GOTOOLCHAIN: 'local', GOFLAGS: '' },
    });
    let compared = 0;
    let funcs = 0;
    const differ: string[] = [];
    for (const line of out.stdout.trim().split('\n')) {
      const ref = JSON.parse(line) as { file: string; error?: boolean; funcs: FuncExtent[] };
      if (ref.error) continue;
      compared++;
      funcs += ref.funcs.length;
      if (JSON.stringify(findFuncs(readFileSync(ref.file))) !== JSON.stringify(ref.funcs)) differ.push(ref.file);
    }
    expect(compared).toBeGreaterThan(5000);
    expect(funcs).toBeGreaterThan(50_000);
    expect(differ).toEqual([]);
  }, 300_000);
});

describeWith('go', hasCommand('go', ['version']), 'totals agree with go tool cover -func and go test -cover', () => {
  const dir = covmodCopy();
  let unitOut: string;

  beforeAll(async () => {
    unitOut = await goTest(dir, ['-coverprofile=set.out', './...']);
    await goTest(dir, ['-covermode=count', '-coverpkg=./...', '-coverprofile=count.out', './...']);
    for (const pkg of ['calc', 'cmd/tool', 'util'])
      await goTest(dir, ['-covermode=count', '-coverpkg=./...', `-coverprofile=shard-${pkg.replace('/', '-')}.out`, `./${pkg}`]);
  }, 300_000);

  test.each(['set.out', 'count.out'])('%s: every function and the total, to the printed digit', async (profile) => {
    const go = await goToolCoverFunc(dir, profile);
    const ours = reportFor(dir, profile);
    expect(ours.missingSource).toEqual([]);
    const funcs = ours.files.flatMap((f) => f.funcs);
    expect(funcs.map((f) => ({ file: f.file, line: f.line, name: f.name, percent: formatRatio(f) }))).toEqual(go.funcs);
    expect(formatRatio(ours.totalFunc)).toBe(go.total);
    // The package-level closure (Double) is outside every declaration: -func leaves it out.
    expect(ours.totalAll.total).toBeGreaterThan(ours.totalFunc.total);
  });

  test("per package, the all-blocks figure is go test -cover's", () => {
    const ours = reportFor(dir, 'set.out');
    const printed = [...unitOut.matchAll(/^(?:ok\s+|\s+)(\S+)\s.*coverage: ([\d.]+%) of statements/gm)].map((m) => [m[1], m[2]]);
    expect(printed.length).toBe(3);
    for (const [pkg, pct] of printed) {
      const p = ours.packages.find((x) => x.pkg === pkg || x.pkg.startsWith(`${pkg}`))!;
      expect([pkg, formatRatio(p.all)]).toEqual([pkg, pct]);
    }
  });

  test('shards merged (with -coverpkg duplicates) equal the combined run', async () => {
    const merged = reportFor(dir, 'shard-calc.out', 'shard-cmd-tool.out', 'shard-util.out');
    const combined = reportFor(dir, 'count.out');
    expect(merged.totalFunc).toEqual(combined.totalFunc);
    expect(merged.totalAll).toEqual(combined.totalAll);
    expect(merged.files).toEqual(combined.files);
    // And the joined text goes through go tool cover itself to the same total.
    const joined = ['shard-calc.out', 'shard-cmd-tool.out', 'shard-util.out']
      .flatMap((f, i) => readFileSync(join(dir, f), 'utf8').split('\n').slice(i ? 1 : 0))
      .filter(Boolean)
      .join('\n');
    writeFileSync(join(dir, 'joined.out'), joined);
    expect(formatRatio(merged.totalFunc)).toBe((await goToolCoverFunc(dir, 'joined.out')).total);
  });
});

describe('baseline comparison', () => {
  test('max-drop compares integers: 79.96% is within 0.1 of 80.05%, 79.94% is not', () => {
    const base = { covered: 1601, total: 2000 }; // 80.05%
    expect(withinDrop({ covered: 7996, total: 10000 }, base, 1)).toBe(true);
    expect(withinDrop({ covered: 7994, total: 10000 }, base, 1)).toBe(false);
    expect(withinDrop({ covered: 1601, total: 2000 }, base, 0)).toBe(true);
    expect(withinDrop({ covered: 0, total: 0 }, base, 0)).toBe(true);
  });
  test('the delta prints like the totals: signed, one decimal, Go rounding', () => {
    expect(formatDelta({ covered: 81, total: 100 }, { covered: 80, total: 100 })).toBe('+1.0');
    expect(formatDelta({ covered: 5, total: 16 }, { covered: 0, total: 1 })).toBe('+31.2');
    expect(formatDelta({ covered: 1, total: 3 }, { covered: 1, total: 3 })).toBe('±0.0');
    expect(formatDelta({ covered: 79, total: 100 }, { covered: 80, total: 100 })).toBe('-1.0');
  });
  test('a baseline that is not a report says what it must be', () => {
    expect(() => parseBaseline('{"total": 80}', 'b.json')).toThrow('The baseline b.json has no `totalFunc`');
    expect(() => parseBaseline('80%', 'b.json')).toThrow('The baseline b.json is not JSON');
  });
});
