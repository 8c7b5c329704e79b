import { runAction } from '../../runner/action.js';
import { run } from './main.js';

// comment-from runs with a write token beside a fork's downloaded report: nothing there steers it.
await runAction(run, { untrustedWorkspace: (env) => Boolean(env['INPUT_COMMENT-FROM']?.trim()) });
