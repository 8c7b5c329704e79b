// Written by `node bin/go-ship.js docs` from quality-gate/action.yml; change that file, not this one.

/** The defaults the runner fills in for inputs a workflow leaves out. */
export const DEFAULTS: Readonly<Record<string, string>> = {
  checks: 'lint, test',
  'working-directory': '.',
  packages: './...',
  race: 'auto',
  retries: '1',
  'fail-on-flaky': 'false',
  'golangci-lint-version': 'v2.15.0',
  annotate: 'true',
};
