// Written by `node bin/go-ship.js docs` from build-matrix/action.yml; change that file, not this one.

/** The defaults the runner fills in for inputs a workflow leaves out. */
export const DEFAULTS: Readonly<Record<string, string>> = {
  mode: 'build',
  'working-directory': '.',
  packages: '.',
  cgo: 'false',
  trimpath: 'true',
  strip: 'true',
  archive: 'tar.gz',
  checksums: 'true',
  'output-dir': 'dist',
  shards: '2',
  'upload-artifact': 'false',
  'verify-reproducible': 'false',
  sbom: 'false',
  provenance: 'false',
  vulncheck: 'off',
  'vulncheck-db': 'https://vuln.go.dev',
  sign: 'none',
  'sign-cmd': 'gpg',
};
