import { parseGoVersion, parseVersionSpec, selectVersion, type GoVersion } from '../../src/go/version.js';
import { fromSemver } from '../../src/go/installer.js';

const v = (name: string): GoVersion => parseGoVersion(name)!;

describe('Go version names', () => {
  test.each([
    ['go1.22.5', 'go1.22.5', '1.22.5'],
    ['1.22.5', 'go1.22.5', '1.22.5'],
    ['go1.20', 'go1.20', '1.20.0'],
    ['go1.21.0', 'go1.21.0', '1.21.0'],
    ['go1.23rc1', 'go1.23rc1', '1.23.0-rc.1'],
    ['1.9beta2', 'go1.9beta2', '1.9.0-beta.2'],
  ])('%s -> %s (%s)', (text, name, sv) => {
    expect(parseGoVersion(text)).toEqual({ name, semver: sv });
  });

  test.each(['1', 'go', '1.x', 'v1.22.5', '1.22.5-rc.1'])('%s is not a Go version', (text) => {
    expect(parseGoVersion(text)).toBeUndefined();
  });

  test.each([
    ['1.22.5', 'go1.22.5'],
    ['1.20.0', 'go1.20'],
    ['1.21.0', 'go1.21.0'],
    ['1.21.0-rc.2', 'go1.21rc2'],
  ])('tool-cache folder %s maps back to %s', (sv, name) => {
    expect(fromSemver(sv)?.name).toBe(name);
  });
});

describe('version specs', () => {
  const available = ['go1.23rc1', 'go1.22.5', 'go1.22.4', 'go1.21.13', 'go1.21.0', 'go1.20'].map(v);
  test.each([
    ['1.22.4', 'go1.22.4'],
    ['go1.22.4', 'go1.22.4'],
    ['1.22', 'go1.22.5'],
    ['1.22.x', 'go1.22.5'],
    ['^1.21', 'go1.22.5'],
    ['~1.21', 'go1.21.13'],
    ['>=1.20 <1.22', 'go1.21.13'],
    ['1.20', 'go1.20'],
    ['stable', 'go1.22.5'],
    ['oldstable', 'go1.21.13'],
    ['1.23rc1', 'go1.23rc1'],
    ['1.19', undefined],
    ['1.22.6', undefined],
  ])('%s selects %s', (spec, expected) => {
    expect(selectVersion(parseVersionSpec(spec), available)?.name).toBe(expected);
  });

  test('stable follows the source flag when it has one', () => {
    expect(selectVersion(parseVersionSpec('stable'), available, new Set(['go1.21.13']))?.name).toBe(
      'go1.21.13',
    );
  });

  test.each(['banana', 'latest', '', '1.x.y'])('%j is refused with what is accepted', (spec) => {
    expect(() => parseVersionSpec(spec)).toThrow(/Input `go-version` got .*; it accepts an exact version/);
  });
});

// Untrusted input: a listing entry with an absurd number crashed the version parser.
test('a listing entry with a number past any release is not a version, and selection goes on', () => {
  expect(parseGoVersion('go1.99999999999999999999.0')).toBeUndefined();
  const listed = ['go1.99999999999999999999.0', 'go1.22.5', 'go1.22.4']
    .map((n) => parseGoVersion(n))
    .filter((v): v is GoVersion => Boolean(v));
  expect(selectVersion(parseVersionSpec('1.22'), listed)?.name).toBe('go1.22.5');
});
