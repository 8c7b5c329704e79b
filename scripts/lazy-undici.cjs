'use strict';
// What a bundle gets for `import ... from 'undici'` (tsconfig.json's `paths` maps it here; ncc follows them).
// @actions/core imports @actions/http-client, which imports undici at start for the ProxyAgent
// only OIDC tokens and Octokit's proxied fetch use; evaluating undici is ~40 ms of every action's
// start (docs/benchmarks.md, "Start"), paid even by actions that never make such a call. Here it is
// loaded on first use instead. These are the names the bundled packages import from it; a new one
// fails __tests__/lazy-undici.test.ts, not a run.
let undici;
const load = () => (undici ??= require('undici/index.js'));
for (const name of ['ProxyAgent', 'fetch']) {
  Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });
}
