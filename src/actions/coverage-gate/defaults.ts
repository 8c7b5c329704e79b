// Written by `node bin/go-ship.js docs` from coverage-gate/action.yml; change that file, not this one.

/** The defaults the runner fills in for inputs a workflow leaves out. */
export const DEFAULTS: Readonly<Record<string, string>> = {
  profiles: 'coverage.out',
  'working-directory': '.',
  'exclude-generated': 'true',
  annotate: 'true',
  comment: 'true',
  'notify-on': 'coverage-failed',
};
