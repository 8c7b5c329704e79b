// Written by `node bin/go-ship.js docs` from setup-go-cross/action.yml; change that file, not this one.

/** The defaults the runner fills in for inputs a workflow leaves out. */
export const DEFAULTS: Readonly<Record<string, string>> = {
  'check-latest': 'false',
  'go-download-source': 'auto',
  cache: 'true',
  'cache-save': 'default-branch',
  'pin-toolchain': 'true',
};
