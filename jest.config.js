// ESM + ts-jest: run with NODE_OPTIONS=--experimental-vm-modules (set by `npm test`).
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testTimeout: 120000,
  // Integration tests share loopback ports and the Go build cache; two workers keep the box responsive.
  maxWorkers: 2,
};
