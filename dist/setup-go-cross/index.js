import * as module from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
module.enableCompileCache?.(join(cache, 'go-ship', 'node-compile-cache'));
await import('./main.js');
