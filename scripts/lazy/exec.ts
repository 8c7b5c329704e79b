// What a bundle gets for `import ... from '@actions/exec'` (tsconfig.json's `paths` maps it here, as
// for @actions/http-client). @actions/core imports it at start only to ask Windows and macOS for
// their version in `platform.getDetails()`, and with it Node's child_process, assert and
// fs/promises through @actions/io: about 5 ms of every action's start, paid even by an action that
// runs no program (go-ship's own commands go through src/runner/command.ts). Here the package loads
// on the first use of a name. __tests__/lazy-undici.test.ts fails when these names differ from the
// package's exports.
import type * as Real from '../../node_modules/@actions/exec/lib/exec.js';

export declare const exec: typeof Real.exec;
export declare const getExecOutput: typeof Real.getExecOutput;

export const NAMES = ['exec', 'getExecOutput'] as const;

let real: typeof Real | undefined;
const load = (): typeof Real =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- only a require can wait for a getter
  (real ??= require('../../node_modules/@actions/exec/lib/exec.js') as typeof Real);
for (const name of NAMES) Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });
