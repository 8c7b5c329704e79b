import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getInputs as buildMatrix } from '../../src/actions/build-matrix/inputs.js';
import { getInputs as coverageGate } from '../../src/actions/coverage-gate/inputs.js';
import { getInputs as dockerMultistage } from '../../src/actions/docker-multistage/inputs.js';
import { getInputs as qualityGate } from '../../src/actions/quality-gate/inputs.js';
import { getInputs as semverTag } from '../../src/actions/semver-tag/inputs.js';
import { getInputs as setupGoCross } from '../../src/actions/setup-go-cross/inputs.js';
import type { Inputs } from '../../src/runner/inputs.js';
import { tempDir } from '../helpers/cli.js';
import { actionInputs } from '../helpers/inputs.js';

// Each action's getInputs, run on action.yml's defaults plus `with:`: no Go, git or network involved.
const workspace = tempDir('inputs');
writeFileSync(join(workspace, 'go.mod'), 'module example.com/app\n\ngo 1.24\n');
mkdirSync(join(workspace, 'svc'), { recursive: true });
const runner = { GITHUB_WORKSPACE: workspace, RUNNER_TOOL_CACHE: join(workspace, '.tools') };
const read = <T>(
  action: string,
  get: (inputs: Inputs, env: NodeJS.ProcessEnv) => T,
  withs: Record<string, string> = {},
) => {
  const { inputs, env } = actionInputs(action, withs, runner);
  return get(inputs, env);
};

describe('setup-go-cross', () => {
  test('defaults: the version from go.mod, caches keyed on every go.sum', () => {
    const c = read('setup-go-cross', setupGoCross);
    expect(c.reason).toContain('go.mod');
    expect(c.source).toBe('auto');
    expect(c.cacheDependencyPath).toEqual({ patterns: ['**/go.sum'], explicit: false });
    expect(c.workspace).toBe(workspace);
  });
  test('a bad go-download-source names the input, the value and what it accepts', () => {
    expect(() => read('setup-go-cross', setupGoCross, { 'go-download-source': 'ftp' })).toThrow(
      /Input `go-download-source` got `ftp`; it accepts .*auto.*dl.*proxy/,
    );
  });
  test('an unknown architecture lists the accepted names', () => {
    expect(() => read('setup-go-cross', setupGoCross, { architecture: 'sparc' })).toThrow(
      /Input `architecture` got `sparc`; it accepts .*aarch64/,
    );
  });
});

describe('build-matrix', () => {
  test('defaults: five targets, tar.gz, output-dir dist in the working directory', () => {
    const c = read('build-matrix', buildMatrix, { 'working-directory': 'svc' });
    expect(c.mode).toBe('build');
    expect(c.targets).toHaveLength(5);
    expect(c.archive).toBe('tar.gz');
    expect(c.outputDir).toBe(join(workspace, 'svc', 'dist'));
    expect(c.uploadArtifact).toBeUndefined();
  });
  test('an unknown ldflags field fails before anything is built', () => {
    expect(() => read('build-matrix', buildMatrix, { ldflags: '-X main.v={{.Versoin}}' })).toThrow(/Versoin/);
  });
  test('upload-artifact: true names the artifact after the shard; a slash is refused', () => {
    expect(read('build-matrix', buildMatrix, { 'upload-artifact': 'true', shard: '2' }).uploadArtifact).toBe(
      'go-ship-build-2',
    );
    expect(() => read('build-matrix', buildMatrix, { 'upload-artifact': 'a/b' })).toThrow(
      /Input `upload-artifact` got `a\/b`/,
    );
  });
  test('output-dir under a file is refused as an input', () => {
    expect(() => read('build-matrix', buildMatrix, { 'output-dir': 'go.mod/dist' })).toThrow(
      /^Input `output-dir` got `go\.mod\/dist`; it accepts a folder path this step can write\. \S+go\.mod is a file/,
    );
  });
  test.each([
    ['go.mod', /go\.mod is a file\./],
    ['../../../../../etc', /is outside the checkout/],
    ['x'.repeat(300), /longer than the system allows/],
  ])(
    'working-directory %s is refused by name (it crashed as spawn ENOTDIR in the pipeline)',
    (value, why) => {
      const attempt = () => read('build-matrix', buildMatrix, { 'working-directory': value });
      expect(attempt).toThrow(
        /^Input `working-directory` got `[^`]+`; it accepts a directory in the checkout\./,
      );
      expect(attempt).toThrow(why);
    },
  );
  test('a missing working-directory is named', () => {
    expect(() => read('build-matrix', buildMatrix, { 'working-directory': 'nope' })).toThrow(
      /Input `working-directory` got `nope`/,
    );
  });
});

describe('docker-multistage', () => {
  test('the version comes from a v-tag ref; the image is split into registry and repository', () => {
    const { inputs, env } = actionInputs(
      'docker-multistage',
      { image: 'registry.example:5000/team/app' },
      { ...runner, GITHUB_REF: 'refs/tags/v2.3.4' },
    );
    const c = dockerMultistage(inputs, env);
    expect(c.version).toBe('2.3.4');
    expect(c.image).toMatchObject({ registry: 'registry.example:5000', repository: 'team/app' });
    expect(c.from).toBe(join(workspace, 'dist'));
  });
  test('an image with a tag, and a tag that is not a valid tag, are refused by name', () => {
    expect(() => read('docker-multistage', dockerMultistage, { image: 'ghcr.io/o/app:1.0' })).toThrow(
      /Input `image` got `ghcr.io\/o\/app:1.0`; it accepts a repository without a tag/,
    );
    expect(() =>
      read('docker-multistage', dockerMultistage, { image: 'ghcr.io/o/app', tags: '-bad' }),
    ).toThrow(/Input `tags` got `-bad`/);
  });
});

describe('semver-tag', () => {
  test('defaults: v0.1.0 first, patch by default, origin, five attempts', () => {
    const c = read('semver-tag', semverTag);
    expect(c.initialVersion).toMatchObject({ major: 0, minor: 1, patch: 0 });
    expect(c.remote).toBe('origin');
    expect(c.maxAttempts).toBe(5);
  });
  test('an initial-version past 2^53 - 1 is refused, not rounded', () => {
    expect(() => read('semver-tag', semverTag, { 'initial-version': 'v1.9007199254740993.0' })).toThrow(
      /^Input `initial-version` got `v1\.9007199254740993\.0`/,
    );
  });
  test('a pre-release initial-version and a malformed prerelease-branches line are refused', () => {
    expect(() => read('semver-tag', semverTag, { 'initial-version': 'v1.0.0-rc.1' })).toThrow(
      /Input `initial-version` got `v1.0.0-rc.1`; it accepts a stable Go module version/,
    );
    expect(() => read('semver-tag', semverTag, { 'prerelease-branches': 'next' })).toThrow(
      /Input `prerelease-branches` got `next`; it accepts lines `branch-glob: identifier`/,
    );
  });
});

describe('coverage-gate', () => {
  test('thresholds are kept in tenths; per-file overrides by glob', () => {
    const c = read('coverage-gate', coverageGate, {
      'threshold-total': '72.5',
      'threshold-file': '60\ninternal/gen/**: 0',
    });
    expect(c.thresholdTotal).toBe(725);
    expect(c.thresholdFile).toBe(600);
    expect(c.fileOverrides.map((o) => [o.pattern, o.tenths])).toEqual([['internal/gen/**', 0]]);
  });
  test('a percentage with two decimals, and max-drop without a baseline, say how to fix them', () => {
    expect(() => read('coverage-gate', coverageGate, { 'threshold-total': '80.25' })).toThrow(
      /Input `threshold-total` got `80.25`; it accepts a percentage from 0 to 100 with at most one decimal/,
    );
    expect(() => read('coverage-gate', coverageGate, { 'max-drop': '0.5' })).toThrow(/set `baseline` too/);
  });
  test('baseline: artifact:NAME or a path in the working directory', () => {
    expect(read('coverage-gate', coverageGate, { baseline: 'artifact:coverage-main' }).baseline).toEqual({
      kind: 'artifact',
      name: 'coverage-main',
    });
    expect(read('coverage-gate', coverageGate, { baseline: 'base.json' }).baseline).toEqual({
      kind: 'file',
      path: join(workspace, 'base.json'),
    });
  });
  // Untrusted/odd input (#29 item 8): these crashed as "go-ship bug" (EEXIST, ENOTDIR, EISDIR) or
  // hung in a recursive mkdir under /proc. Now each is an input error before any work.
  test.each([
    ['report-file', 'go.mod/report.json', /go\.mod is a file, so nothing can be made under it/],
    ['report-file', '/proc/self/go-ship/report.json', /under the kernel's \/proc, \/sys or \/dev/],
    ['report-file', 'svc', /svc is a folder/],
    // A step run as root once wrote its report over /etc/passwd: outside the workspace and temp folders is refused.
    ['report-file', '/etc/passwd', /outside the workspace, RUNNER_TEMP and the temp folder/],
    ['badge', '../../../../../../etc/badge.svg', /outside the workspace, RUNNER_TEMP and the temp folder/],
    ['badge', '/proc/1/badge.svg', /under the kernel's \/proc, \/sys or \/dev/],
    ['badge', 'go.mod/badge.svg', /go\.mod is a file/],
  ])('%s %s is refused as an input: a file path this step can write', (name, value, why) => {
    const attempt = () => read('coverage-gate', coverageGate, { [name]: value });
    expect(attempt).toThrow(
      `Input \`${name}\` got \`${value}\`; it accepts a file path this step can write.`,
    );
    expect(attempt).toThrow(why);
  });
  test('a report-file that exists already is written over, not refused (a second step in the same job)', () => {
    expect(read('coverage-gate', coverageGate, { 'report-file': 'go.mod' }).reportFile).toBe(
      join(workspace, 'go.mod'),
    );
  });
  test.each(['comment-from', 'baseline'])('%s naming a folder is refused as an input, not EISDIR', (name) => {
    expect(() => read('coverage-gate', coverageGate, { [name]: 'svc' })).toThrow(
      `Input \`${name}\` got \`svc\`; it accepts a file path. ${join(workspace, 'svc')} is a folder.`,
    );
  });
});

describe('quality-gate', () => {
  test('defaults: lint and test, race auto, reports under RUNNER_TEMP', () => {
    const c = read('quality-gate', qualityGate, {});
    expect(c.checks).toEqual(['lint', 'test']);
    expect(c.race).toBe('auto');
    expect(c.golangciLintVersion).toMatch(/^v2\./);
  });
  test("go-ship's own go test flags are refused by name", () => {
    expect(() => read('quality-gate', qualityGate, { 'test-flags': '-count=1 -race' })).toThrow(
      /Input `test-flags` got `-count=1 -race`[\s\S]*`-race` is go-ship's own/,
    );
  });
  // A workflow's test-flags could make go test, run as root, write a profile over a system file.
  test.each([
    ['-cpuprofile /etc/passwd', /`-cpuprofile`: \/etc\/passwd is outside the workspace/],
    ['-count=1 -test.memprofile=/etc/shadow', /`-memprofile`: \/etc\/shadow is outside/],
    ['-trace=../../../../../etc/x.out', /`-trace`: \/etc\/x\.out is outside/],
    ['-outputdir /etc -cpuprofile cpu.out', /`-outputdir`: \/etc is outside/],
    ['-outputdir /tmp -cpuprofile ../etc/cpu.out', /`-cpuprofile`: \/etc\/cpu\.out is outside/],
    ['-cpuprofile', /`-cpuprofile` needs a path after it/],
  ])('test-flags %s is refused: %s', (flags, why) => {
    expect(() => read('quality-gate', qualityGate, { 'test-flags': flags })).toThrow(why);
  });
  test('profiles inside the workspace or the temp folder are kept as given', () => {
    const c = read('quality-gate', qualityGate, {
      'test-flags': '-cpuprofile cpu.out -outputdir svc -memprofile=/tmp/mem.out -run ^TestX$',
    });
    expect(c.testFlags).toEqual([
      '-cpuprofile',
      'cpu.out',
      '-outputdir',
      'svc',
      '-memprofile=/tmp/mem.out',
      '-run',
      '^TestX$',
    ]);
  });
});
