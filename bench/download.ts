import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadFile } from '../src/runner/http.js';
import type { BenchReport } from './harness.js';

/**
 * A download from a mirror that answers 503 twice before it serves the file (a mirror under load,
 * a CDN node restarting), and from one that serves it at once: go-ship's downloadFile (on
 * @actions/http-client, retries 1 s / 2 s / 4 s apart, Retry-After honoured) against
 * @actions/tool-cache's downloadTool (what actions/setup-go uses: 3 attempts, 10-20 s apart).
 */
export async function bench(runs: number): Promise<BenchReport> {
  const n = runs || 3;
  const dir = mkdtempSync(join(tmpdir(), 'bench-dl-'));
  const size = 64 * 1024 * 1024;
  const file = join(dir, 'go.tar.gz');
  writeFileSync(file, randomBytes(size));
  let failuresLeft = 0;
  const server = createServer((_req, res) => {
    if (failuresLeft > 0) {
      failuresLeft--;
      res.writeHead(503).end('overloaded');
      return;
    }
    res.writeHead(200, { 'content-length': String(size) });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/go.tar.gz`;
  const tc = await import('@actions/tool-cache');
  const write = process.stdout.write.bind(process.stdout);
  const time = async (fn: () => Promise<unknown>, failures: number): Promise<number> => {
    failuresLeft = failures;
    // Both print progress and retry lines; the bench prints only its table.
    process.stdout.write = (() => true) as typeof process.stdout.write;
    const started = performance.now();
    try {
      await fn();
    } finally {
      process.stdout.write = write;
    }
    return performance.now() - started;
  };
  const series = [
    { name: 'go-ship downloadFile, 503 twice', samples: [] as number[] },
    { name: 'tool-cache downloadTool, 503 twice', samples: [] as number[] },
    { name: 'go-ship downloadFile, no fault', samples: [] as number[] },
    { name: 'tool-cache downloadTool, no fault', samples: [] as number[] },
    { name: 'tool-cache downloadTool + sha256 of the file, no fault', samples: [] as number[] },
  ];
  // go-ship verifies what it downloads; with tool-cache that is a second pass over the file.
  const sha256File = async (path: string) => {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  };
  try {
    for (let i = 0; i < n; i++) {
      const out = (name: string) => join(dir, `${name}-${i}`);
      series[0].samples.push(await time(() => downloadFile(url, out('gs-flaky')), 2));
      series[1].samples.push(await time(() => tc.downloadTool(url, out('tc-flaky')), 2));
      series[2].samples.push(await time(() => downloadFile(url, out('gs')), 0));
      series[3].samples.push(await time(() => tc.downloadTool(url, out('tc')), 0));
      series[4].samples.push(
        await time(async () => sha256File(await tc.downloadTool(url, out('tc-sum'))), 0),
      );
      for (const f of ['gs-flaky', 'tc-flaky', 'gs', 'tc', 'tc-sum']) {
        if (statSync(out(f)).size !== size) throw new Error(`${f}: wrong size`);
        rmSync(out(f));
      }
    }
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    title: 'download: a Go archive from a mirror that answers 503 twice',
    setup: `A 64 MiB file from a loopback mirror that answers 503 twice before serving it (and, for scale, one that serves it at once); ${n} interleaved runs each, in one process. go-ship's downloadFile hashes the bytes as they arrive (it checks them against the listing's or the checksum database's sum); tool-cache does not, so the last row adds the second pass that verifying its download takes.`,
    series,
    ratios: [
      ['503 twice: go-ship / tool-cache', series[0].name, series[1].name],
      ['no fault: go-ship / tool-cache', series[2].name, series[3].name],
      ['no fault, both verified: go-ship / tool-cache + sha256', series[2].name, series[4].name],
    ],
    goal: 'recover from a transient 503 in seconds, not tens of seconds; a verified download no slower than the package plus a hash',
  };
}
