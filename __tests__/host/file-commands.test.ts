import { parseKeyValueFile, parsePathFile } from '../../src/host/file-commands.js';

describe('file commands', () => {
  test('reads simple and heredoc values as @actions/core writes them', () => {
    const text = [
      'simple=value=with=equals',
      'multi<<ghadelimiter_1234',
      'line one',
      'a=b looks like a pair',
      '',
      'ghadelimiter_1234',
      'empty<<EOF',
      'EOF',
      '',
    ].join('\n');
    expect(parseKeyValueFile(text)).toEqual({
      simple: 'value=with=equals',
      multi: 'line one\na=b looks like a pair\n',
      empty: '',
    });
  });

  test('a later value wins, as the runner applies them in order', () => {
    expect(parseKeyValueFile('a=1\na=2\n')).toEqual({ a: '2' });
  });

  test('an unterminated heredoc is an error naming the key', () => {
    expect(() => parseKeyValueFile('x<<END\nno end\n')).toThrow(/`x`.*END/);
  });

  test('path lines', () => {
    expect(parsePathFile('/a/bin\n\n /b/bin \n')).toEqual(['/a/bin', '/b/bin']);
  });
});
