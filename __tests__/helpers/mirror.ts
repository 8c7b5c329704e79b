import { createReadStream, readFileSync } from 'node:fs';
import { startServer, type LoopbackServer } from './server.js';
import { TEST_GO, type ToolchainFixture } from './toolchain.js';

export interface MirrorOptions {
  sha256?: string;
  /**
   * `flaky`: 503 twice, then the archive; `throttled`: 429 with Retry-After: 2 once, then the
   * archive; `down`: 503 every time.
   */
  archive?: 'ok' | 'truncated' | '404' | 'flaky' | 'throttled' | 'down';
  listing?: 'ok' | '500';
}

/** A loopback Go download site (under /dl): the JSON listing and the real archive, with faults on request. */
export async function startMirror(fx: ToolchainFixture, opts: MirrorOptions = {}): Promise<LoopbackServer> {
  const filename = `${fx.version}.linux-amd64.tar.gz`;
  let archiveRequests = 0;
  return startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/dl/' && url.searchParams.get('mode') === 'json') {
      if (opts.listing === '500') {
        res.writeHead(500).end('mirror is down');
        return;
      }
      const file = {
        filename,
        os: 'linux',
        arch: 'amd64',
        version: fx.version,
        sha256: opts.sha256 ?? fx.sha256,
        size: fx.size,
        kind: 'archive',
      };
      const listing = [
        {
          version: 'go1.23rc1',
          stable: false,
          files: [{ ...file, filename: 'go1.23rc1.linux-amd64.tar.gz', version: 'go1.23rc1' }],
        },
        {
          version: fx.version,
          stable: true,
          files: [file, { ...file, filename: `${fx.version}.src.tar.gz`, os: '', arch: '', kind: 'source' }],
        },
        {
          version: 'go1.21.13',
          stable: true,
          files: [{ ...file, os: 'darwin', filename: 'go1.21.13.darwin-amd64.tar.gz', version: 'go1.21.13' }],
        },
      ];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(listing));
    } else if (url.pathname === `/dl/${filename}`) {
      archiveRequests++;
      if (opts.archive === 'down' || (opts.archive === 'flaky' && archiveRequests <= 2)) {
        res.writeHead(503).end('mirror overloaded');
      } else if (opts.archive === 'throttled' && archiveRequests === 1) {
        res.writeHead(429, { 'retry-after': '2' }).end('slow down');
      } else if (opts.archive === '404') {
        res.writeHead(404).end('not found');
      } else if (opts.archive === 'truncated') {
        res.writeHead(200, { 'content-length': String(fx.size) });
        res.write(readFileSync(fx.tarGz).subarray(0, 1_000_000), () => res.destroy());
      } else {
        res.writeHead(200, { 'content-length': String(fx.size) });
        createReadStream(fx.tarGz).pipe(res);
      }
    } else {
      res.writeHead(404).end();
    }
  });
}

/** setup-go-cross's inputs for the test's Go (TEST_GO) from a loopback download mirror only. */
export const fromMirror = (mirror: { url: string }): string[] => [
  '--with',
  `go-version=${TEST_GO.slice(2)}`,
  '--with',
  `go-download-base-url=${mirror.url}/dl`,
  '--with',
  'go-download-source=dl',
];

/** setup-go-cross's inputs for the test's Go from the module proxy (GOPROXY) only. */
export const fromProxy = (): string[] => [
  '--with',
  `go-version=${TEST_GO.slice(2)}`,
  '--with',
  'go-download-source=proxy',
];
