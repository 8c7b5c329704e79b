import { execFileSync } from 'node:child_process';

/**
 * Tests that need a real program (go, git, docker, nginx, a registry) declare it here. Off CI a
 * missing program skips the suite with a visible reason; under CI=true it fails, so a broken CI
 * machine can never turn into a green run that tested nothing.
 */
export function hasCommand(file: string, args: string[] = ['--version']): boolean {
  try {
    execFileSync(file, args, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

export function describeWith(component: string, available: boolean, name: string, fn: () => void): void {
  if (process.env.GO_SHIP_UNIT_ONLY === '1') {
    describe.skip(`${name} (skipped: unit tests only)`, fn);
  } else if (available) {
    describe(name, fn);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      test(`needs ${component}`, () => {
        throw new Error(`${component} is missing on this CI machine; .ci/run must install and start it.`);
      });
    });
  } else {
    describe.skip(`${name} (skipped: ${component} is not available)`, fn);
  }
}
