import { UserError } from '../../src/runner/errors.js';
import { Inputs, parseDuration } from '../../src/runner/inputs.js';

const inputs = (env: Record<string, string>) => new Inputs(env);

describe('Inputs', () => {
  test('reads INPUT_ names the way the runner writes them', () => {
    expect(Inputs.envName('go-version')).toBe('INPUT_GO-VERSION');
    expect(Inputs.envName('my input')).toBe('INPUT_MY_INPUT');
    expect(inputs({ 'INPUT_GO-VERSION': '  1.22 \n' }).string('go-version')).toBe('1.22');
  });

  test('required input names itself and the fix', () => {
    expect(() => inputs({}).string('token', { required: true })).toThrow(UserError);
    expect(() => inputs({}).string('token', { required: true })).toThrow(
      /Input `token` is required.*--with token=/,
    );
  });

  test.each([
    ['true', true],
    ['True', true],
    ['TRUE', true],
    ['false', false],
    ['False', false],
    ['', false],
  ])('boolean %j -> %j', (value, expected) => {
    expect(inputs({ INPUT_CACHE: value }).boolean('cache')).toBe(expected);
  });

  test.each(['yes', 'tRUE', '1', 'on'])(
    'boolean rejects %j naming input, value and accepted values',
    (value) => {
      expect(() => inputs({ INPUT_CACHE: value }).boolean('cache')).toThrow(
        `Input \`cache\` got \`${value}\`; it accepts \`true\` or \`false\`.`,
      );
    },
  );

  test.each([
    ['4', 4],
    ['', undefined],
    ['-1', -1],
  ])('int %j', (value, expected) => {
    expect(inputs({ INPUT_N: value }).int('n')).toBe(expected);
  });

  test.each([
    ['x', /got `x`; it accepts a whole number from 1 to 64/],
    ['1.5', /got `1.5`/],
    ['0', /from 1 to 64/],
    ['65', /from 1 to 64/],
  ])('int rejects %j', (value, message) => {
    expect(() => inputs({ INPUT_N: value }).int('n', { min: 1, max: 64 })).toThrow(message);
  });

  test('oneOf lists what it accepts', () => {
    expect(inputs({ INPUT_MODE: 'plan' }).oneOf('mode', ['build', 'plan', 'merge'])).toBe('plan');
    expect(inputs({}).oneOf('mode', ['build', 'plan'])).toBeUndefined();
    expect(() => inputs({ INPUT_MODE: 'Plan' }).oneOf('mode', ['build', 'plan', 'merge'])).toThrow(
      'Input `mode` got `Plan`; it accepts one of `build`, `plan`, `merge`.',
    );
  });

  test('list splits on commas and newlines, drops blanks and comments', () => {
    const env = { INPUT_TARGETS: 'linux/amd64, linux/arm64\n# comment\n\ndarwin/arm64,\nwindows/amd64' };
    expect(inputs(env).list('targets')).toEqual([
      'linux/amd64',
      'linux/arm64',
      'darwin/arm64',
      'windows/amd64',
    ]);
  });

  test('lines keeps commas inside items', () => {
    expect(inputs({ INPUT_GLOBS: 'a/{b,c}/*.out\n  d.out  ' }).lines('globs')).toEqual([
      'a/{b,c}/*.out',
      'd.out',
    ]);
  });

  test('keyValues parses KEY=value lines and rejects others', () => {
    expect(inputs({ INPUT_ENV: 'GOFLAGS=-mod=mod\nCGO_ENABLED=0' }).keyValues('env')).toEqual({
      GOFLAGS: '-mod=mod',
      CGO_ENABLED: '0',
    });
    expect(() => inputs({ INPUT_ENV: 'not a pair' }).keyValues('env')).toThrow(
      /Input `env` got `not a pair`/,
    );
    expect(() => inputs({ INPUT_ENV: '1X=2' }).keyValues('env')).toThrow(/KEY=value/);
  });

  test.each([
    ['30', 30_000],
    ['1.5', 1_500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['2m30s', 150_000],
    ['', undefined],
  ])('duration %j', (value, ms) => {
    expect(inputs({ INPUT_T: value }).duration('t')).toBe(ms);
  });

  test.each(['5 minutes', 'm', '1d', '-3s'])('duration rejects %j', (value) => {
    expect(parseDuration(value)).toBeUndefined();
    expect(() => inputs({ INPUT_T: value }).duration('t')).toThrow(/accepts a duration such as/);
  });
});
