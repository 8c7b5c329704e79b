import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { runCommand } from '../../src/runner/command.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { freePort, waitForHttp } from '../helpers/net.js';

const SVC = join(ROOT, 'examples', 'hello-svc');

describeWith('go', hasCommand('go', ['version']), 'examples/hello-svc', () => {
  const bin = join(tempDir('hello'), 'hello-svc');

  beforeAll(async () => {
    const ldflags = '-X main.version=1.2.3 -X main.commit=abc1234 -X main.date=2026-01-02T03:04:05Z';
    await runCommand('go', ['build', '-trimpath', '-ldflags', ldflags, '-o', bin, '.'], { cwd: SVC, env: { CGO_ENABLED: '0' } });
  });

  test('go test ./... passes', async () => {
    const r = await runCommand('go', ['test', './...'], { cwd: SVC, check: false });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok\s+example\.com\/hello-svc/m);
  });

  test('go vet is clean', async () => {
    await runCommand('go', ['vet', './...'], { cwd: SVC });
  });

  test('reports the version injected with -ldflags -X on /version, and drains in-flight requests on SIGTERM', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = spawn(bin, ['-addr', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stderr.on('data', (b) => (log += b));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    try {
      await waitForHttp(`${base}/healthz`);
      const version = await fetch(`${base}/version`);
      expect(await version.json()).toEqual({ version: '1.2.3', commit: 'abc1234', date: '2026-01-02T03:04:05Z' });
      expect(version.headers.get('x-version')).toBe('1.2.3');

      // Start a 1.5 s request, then SIGTERM while it is in flight: it must still complete with 200.
      const inflight = fetch(`${base}/slow?ms=1500`);
      await new Promise((res) => setTimeout(res, 300));
      const signalledAt = Date.now();
      child.kill('SIGTERM');
      const r = await inflight;
      expect(r.status).toBe(200);
      expect(await r.text()).toBe('slept 1500ms\n');
      expect(await exited).toBe(0);
      expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(1000);
      expect(log).toContain('draining in-flight requests');
      await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
