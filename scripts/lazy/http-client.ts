// What a bundle gets for `import ... from '@actions/http-client'` (tsconfig.json's `paths` maps it
// here; ncc follows them). @actions/core imports it at start for its OIDC client, and with it Node's
// https, http and tunnel: about 10 ms of every action's start (docs/benchmarks.md, "cold-start"),
// paid even by an action that makes no request. Here the package loads on first use of a name.
// TypeScript, not .cjs, so that tsc and ncc both find it (and its types) through the same mapping;
// a CommonJS module (scripts/lazy/package.json) because only getters can defer the load.
// __tests__/lazy-undici.test.ts fails when these names differ from the package's exports.
import type * as Real from '../../node_modules/@actions/http-client/lib/index.js';

export declare const Headers: typeof Real.Headers;
export declare const HttpClient: typeof Real.HttpClient;
export declare const HttpClientError: typeof Real.HttpClientError;
export declare const HttpClientResponse: typeof Real.HttpClientResponse;
export declare const HttpCodes: typeof Real.HttpCodes;
export declare const MediaTypes: typeof Real.MediaTypes;
export declare const getProxyUrl: typeof Real.getProxyUrl;
export declare const isHttps: typeof Real.isHttps;

export const NAMES = [
  'Headers',
  'HttpClient',
  'HttpClientError',
  'HttpClientResponse',
  'HttpCodes',
  'MediaTypes',
  'getProxyUrl',
  'isHttps',
] as const;

let real: typeof Real | undefined;
const load = (): typeof Real =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- only a require can wait for a getter
  (real ??= require('../../node_modules/@actions/http-client/lib/index.js') as typeof Real);
for (const name of NAMES) Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });
