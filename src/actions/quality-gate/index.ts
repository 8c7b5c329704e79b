import { runAction } from '../../runner/action.js';
import { run } from './main.js';

await runAction(run);
