// `npm test`: what the README promises in one command. Bundles whatever dist/ is older than the
// sources (the tests run the committed bundles, as GitHub does), starts the components that are
// installed (scripts/components.sh start), runs every suite with jest, and ends with the list of
// suites skipped for a missing component and the command that provides it.
// `npm run test:unit` (--unit): the suites that need nothing but Node, for quick iteration; it never
// bundles (a suite that runs a bundle refuses a stale one with the command to run, however jest started).
// Arguments after `--` go to jest: `npm test -- __tests__/cache -t restore`.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

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
const env = {
  ...process.env,
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules`.trim(),
  ...(unit ? { GO_SHIP_UNIT_ONLY: '1' } : {}),
};
process.exit(run(process.execPath, [join('node_modules', 'jest', 'bin', 'jest.js'), ...jestArgs], env) ?? 1);
