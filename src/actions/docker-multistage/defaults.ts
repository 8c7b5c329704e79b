// Written by `node bin/go-ship.js docs` from docker-multistage/action.yml; change that file, not this one.

/** The defaults the runner fills in for inputs a workflow leaves out. */
export const DEFAULTS: Readonly<Record<string, string>> = {
  mode: 'prebuilt',
  dockerfile: 'Dockerfile',
  context: '.',
  package: '.',
  from: 'dist',
  'working-directory': '.',
  latest: 'auto',
  push: 'true',
  output: 'oci-image',
  sbom: 'false',
  provenance: 'false',
};
