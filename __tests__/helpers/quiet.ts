/**
 * Runs `fn` with stdout muted: in-process, workflow commands (go-ship's `::add-mask::`,
 * @actions/core's `::debug::`), meant for the runner, would otherwise land in the test log.
 */
export async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await fn();
  } finally {
    process.stdout.write = write;
  }
}

/**
 * Mutes stdout for a whole suite (call in beforeAll, call what it returns in afterAll): for suites
 * that drive GitHub's packages in-process, which report through `::debug::` lines on stdout.
 */
export function muteStdout(): () => void {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  return () => {
    process.stdout.write = write;
  };
}
