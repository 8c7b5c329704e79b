import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './cli.js';
import { freePort } from './net.js';

export interface TestPrometheus {
  url: string;
  /** The metrics text the scraped target serves; change it to change what Prometheus sees. */
  metrics: { text: string };
  /** Resolves once Prometheus has scraped the target at least once after now. */
  scraped(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Debian's Prometheus on loopback, scraping every second a target this test process serves, so
 * a test decides the numbers and a real Prometheus evaluates the PromQL.
 */
export async function startPrometheus(): Promise<TestPrometheus> {
  const dir = tempDir('prom');
  const metrics = { text: '' };
  const target: Server = createServer((_req, res) => {
    res.setHeader('Content-Type', 'text/plain; version=0.0.4');
    res.end(metrics.text);
  });
  const targetPort = await freePort();
  await new Promise<void>((r) => target.listen(targetPort, '127.0.0.1', r));
  const port = await freePort();
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['127.0.0.1:${targetPort}']\n`,
  );
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // starting
    }
    if (Date.now() > deadline) throw new Error('prometheus did not become ready in 30s');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    metrics,
    async scraped() {
      const since = Date.now() / 1000;
      for (let i = 0; i < 100; i++) {
        const r = (await (await fetch(`${url}/api/v1/query?query=timestamp(up)`)).json()) as {
          data: { result: { value: [number, string] }[] };
        };
        const at = Number(r.data.result[0]?.value[1] ?? 0);
        if (at > since) return;
        await new Promise((res) => setTimeout(res, 200));
      }
      throw new Error('prometheus did not scrape the test target');
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise<void>((r) => target.close(() => r()));
    },
  };
}
