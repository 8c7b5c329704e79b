import { runAction } from '../../runner/action.js';
import { getState, saveState } from '../../runner/workflow.js';
import { post, run } from './main.js';

// One bundle serves both phases: main leaves a marker in the runner's state, which post sees.
if (getState('isPost') === 'true') await runAction(post);
else {
  saveState('isPost', 'true');
  await runAction(run);
}
