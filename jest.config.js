// ESM + ts-jest: run with NODE_OPTIONS=--experimental-vm-modules (scripts/test.mjs sets it).
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  globalSetup: '<rootDir>/__tests__/global-setup.mjs',
  globalTeardown: '<rootDir>/__tests__/global-teardown.mjs',
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testTimeout: 120000,
  // The default output, then the list of suites skipped for a missing component and how to add it.
  reporters: ['default', '<rootDir>/__tests__/helpers/skip-reporter.mjs'],
  // Integration tests share loopback ports and the Go build cache; two workers keep the box responsive.
  maxWorkers: 2,
};
