// Written by `node bin/go-ship.js docs` from semver-tag/action.yml; change that file, not this one.

/** The defaults the runner fills in for inputs a workflow leaves out. */
export const DEFAULTS: Readonly<Record<string, string>> = {
  'working-directory': '.',
  'default-bump': 'patch',
  'initial-version': 'v0.1.0',
  'major-zero-breaking': 'minor',
  labels: 'true',
  'create-release': 'false',
  sign: 'false',
  'major-tag': 'false',
  'api-check': 'false',
  'dry-run': 'false',
  remote: 'origin',
  'max-attempts': '5',
  'notify-on': 'release-published',
};
