import { hostPlatform } from '../../src/go/platform.js';

test('a runner OS go-ship does not run on is the runner’s to change, named with the fix', () => {
  const real = Object.getOwnPropertyDescriptor(process, 'platform')!;
  Object.defineProperty(process, 'platform', { value: 'aix' });
  try {
    const err = (() => {
      try {
        hostPlatform('x64');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.name).toBe('UserError');
    expect(err?.message).toContain("This runner's operating system is `aix`");
    expect(err?.message).toContain('runs-on: ubuntu-latest');
  } finally {
    Object.defineProperty(process, 'platform', real);
  }
  expect(hostPlatform('x64')).toMatchObject({ goos: 'linux', goarch: 'amd64' });
});
