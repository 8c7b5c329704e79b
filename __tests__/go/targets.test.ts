import { distList, parseTargets, type DistTarget } from '../../src/go/targets.js';
import { describeWith, hasCommand } from '../helpers/components.js';

describeWith('go', hasCommand('go', ['version']), 'targets against go tool dist list', () => {
  let dist: DistTarget[];
  beforeAll(async () => {
    dist = await distList();
  });

  test('first-class expands to exactly the first-class ports of this toolchain', () => {
    const names = parseTargets(['first-class'], dist).map((t) => t.name);
    expect(names.sort()).toEqual(
      dist
        .filter((d) => d.FirstClass)
        .map((d) => `${d.GOOS}/${d.GOARCH}`)
        .sort(),
    );
    expect(names).toContain('linux/amd64');
  });

  test('every dist list entry is accepted as a target', () => {
    const all = dist.map((d) => `${d.GOOS}/${d.GOARCH}`);
    expect(parseTargets(all, dist).map((t) => t.name)).toEqual(all);
  });

  test.each([
    ['linux/arm/7', { GOOS: 'linux', GOARCH: 'arm', GOARM: '7' }, 'linux_arm_7'],
    ['linux_amd64_v3', { GOOS: 'linux', GOARCH: 'amd64', GOAMD64: 'v3' }, 'linux_amd64_v3'],
    ['linux/386/softfloat', { GOOS: 'linux', GOARCH: '386', GO386: 'softfloat' }, 'linux_386_softfloat'],
    [
      'linux/mipsle/softfloat',
      { GOOS: 'linux', GOARCH: 'mipsle', GOMIPS: 'softfloat' },
      'linux_mipsle_softfloat',
    ],
    ['windows/amd64', { GOOS: 'windows', GOARCH: 'amd64' }, 'windows_amd64'],
  ])('%s', (raw, env, id) => {
    expect(parseTargets([raw], dist)[0]).toMatchObject({ env, id });
  });

  test('duplicates collapse, order is kept', () => {
    expect(parseTargets(['linux/amd64', 'darwin/arm64', 'linux_amd64'], dist).map((t) => t.name)).toEqual([
      'linux/amd64',
      'darwin/arm64',
    ]);
  });

  test.each([
    ['linux/amd46', 'Did you mean `linux/amd64`'],
    ['darwn/arm64', 'Did you mean `darwin/arm64`'],
    ['plan10/zz', 'Run `go tool dist list` to see every target.'],
    ['linux/amd64/v9', 'for amd64 one of the GOAMD64 values `v1`, `v2`, `v3`, `v4`'],
    ['darwin/arm64/v7', 'for arm64 one of the GOARM64 values'],
    ['linux/s390x/z15', 'no variant for s390x'],
    ['linux/amd64/v3/x', 'Input `targets` got `linux/amd64/v3/x`'],
  ])('%s is refused: %s', (raw, message) => {
    expect(() => parseTargets([raw], dist)).toThrow(message);
  });

  test('several invalid targets are all named in one error, each with its own fix', () => {
    const err = (() => {
      try {
        parseTargets(['linux/amd46', 'linux/arm64', 'darwn/arm64', 'linux/amd64/v9'], dist);
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(err).toContain('Input `targets` has 3 invalid targets:');
    expect(err).toContain('`linux/amd46`: it accepts GOOS/GOARCH pairs');
    expect(err).toContain('Did you mean `linux/amd64`');
    expect(err).toContain('`darwn/arm64`');
    expect(err).toContain('Did you mean `darwin/arm64`');
    expect(err).toContain('`linux/amd64/v9`: it accepts for amd64 one of the GOAMD64 values');
    expect(err).not.toContain('`linux/arm64`:');
  });

  test('an empty list is refused', () => {
    expect(() => parseTargets([], dist)).toThrow('lists no targets');
  });
});
