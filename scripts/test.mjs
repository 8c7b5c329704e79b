// `npm test`: what the README promises in one command. Bundles whatever dist/ is older than the
// sources (the tests run the committed bundles, as GitHub does), starts the components that are
// installed (scripts/components.sh start), runs every suite with jest, and ends with the list of
// suites skipped for a missing component and the command that provides it.
// `npm run test:unit` (--unit): the suites that need nothing but Node, for quick iteration; it never
// bundles (a suite that runs a bundle refuses a stale one with the command to run, however jest started).
// Arguments after `--` go to jest: `npm test -- __tests__/cache -t restore`.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const unit = args.includes('--unit');
const jestArgs = args.filter((a) => a !== '--unit');
const run = (file, argv, env = process.env) =>
  spawnSync(file, argv, { cwd: root, stdio: 'inherit', env }).status;

if (!unit && run(process.execPath, [join('scripts', 'bundle.mjs'), '--stale']) !== 0) process.exit(1);
if (!unit && process.platform === 'linux' && process.env.GO_SHIP_TEST_START !== 'false') {
  console.log('$ bash scripts/components.sh start');
  if (run('bash', [join('scripts', 'components.sh'), 'start']) !== 0)
    console.log(
      'components: start failed; suites that need them will be listed as skipped (or fail under CI=true)',
    );
}
// Unit mode does not load the suites whose every test is inside describeWith (each needs Go, git or a
// component): loading them only to skip them costs a few seconds of TypeScript. Suites that mix
// unit tests with component tests load as usual and skip the rest (prettier keeps top-level calls at
// the start of a line, which is what this reads).
const componentOnly = (file) => {
  const text = readFileSync(file, 'utf8');
  return /^describeWith\(/m.test(text) && !/^(test|describe|it)(\.\w+)*\(/m.test(text);
};
const testFiles = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
const notLoaded = unit ? testFiles(join(root, '__tests__')).filter(componentOnly) : [];
if (notLoaded.length)
  console.log(
    `Unit tests only: ${notLoaded.length} suites that need Go, git or a component are not loaded; \`npm test\` runs them.`,
  );
const ignore = notLoaded.flatMap((f) => [
  '--testPathIgnorePatterns',
  relative(root, f).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
]);
const env = {
  ...process.env,
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules`.trim(),
  ...(unit ? { GO_SHIP_UNIT_ONLY: '1' } : {}),
};
// Unit suites mostly wait (timers, loopback servers, child processes): a third worker fills the gaps
// on a 2-core machine (28 s -> 20 s measured); the full run keeps jest.config's two.
const workers =
  unit && !jestArgs.some((a) => a.startsWith('--maxWorkers') || a === '-w') ? ['--maxWorkers=3'] : [];
process.exit(
  run(
    process.execPath,
    [join('node_modules', 'jest', 'bin', 'jest.js'), ...ignore, ...workers, ...jestArgs],
    env,
  ) ?? 1,
);
