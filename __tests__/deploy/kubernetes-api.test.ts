import { createServer, type Server, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeClient, loadKubeconfig } from '../../src/deploy/targets/kubernetes/api.js';
import { tempDir } from '../helpers/cli.js';

/**
 * A loopback API server on raw sockets, so the test decides exactly when a kept-alive connection dies:
 * `closeAfter` requests are answered on each connection, then the next request on it is met by a
 * closed socket, as when kube-apiserver closes an idle keep-alive connection while the client writes.
 */
async function flakyServer(closeAfter: number, opts: { resetFirst?: boolean } = {}) {
  const seen: string[] = [];
  const sockets: Socket[] = [];
  const server: Server = createServer((socket: Socket) => {
    const n = sockets.push(socket);
    let answered = 0;
    let buffered = '';
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.slice(0, end);
        const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        const line = head.split('\r\n')[0];
        seen.push(`${n} ${line}`);
        if ((opts.resetFirst && n === 1) || answered >= closeAfter) {
          socket.resetAndDestroy();
          return;
        }
        answered++;
        const body = JSON.stringify({ kind: 'Status', path: line.split(' ')[1] });
        socket.write(
          `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n${body}`,
        );
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const client = new KubeClient({
    server: `http://127.0.0.1:${port}`,
    insecure: false,
    namespace: 'default',
    context: 'test',
    source: 'the test',
  });
  return {
    client,
    seen,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((r) => server.close(r));
    },
  };
}

test('a request written to a kept-alive socket the server closed is sent again, GET and POST alike', async () => {
  const s = await flakyServer(1);
  try {
    expect((await s.client.get('/api/v1/namespaces/default/pods/a'))?.path).toBe(
      '/api/v1/namespaces/default/pods/a',
    );
    // The second request goes out on the first connection (kept alive), which the server drops.
    expect((await s.client.get('/api/v1/namespaces/default/pods/b'))?.path).toBe(
      '/api/v1/namespaces/default/pods/b',
    );
    const created = await s.client.request('POST', '/api/v1/namespaces/default/configmaps', {
      body: { a: 1 },
    });
    expect(created.body.path).toBe('/api/v1/namespaces/default/configmaps');
    // Each retried request was seen once on a dropped connection and once answered on a new one.
    expect(s.seen.filter((l) => l.includes('pods/b'))).toHaveLength(2);
  } finally {
    await s.close();
  }
});

test('an idempotent request retries a reset on a fresh connection; a POST on a fresh connection is not sent twice', async () => {
  const get = await flakyServer(10, { resetFirst: true });
  try {
    expect((await get.client.get('/apis/apps/v1/deployments'))?.path).toBe('/apis/apps/v1/deployments');
  } finally {
    await get.close();
  }
  const post = await flakyServer(10, { resetFirst: true });
  try {
    const err = await post.client
      .request('POST', '/api/v1/namespaces/default/configmaps', { body: {} })
      .catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('UserError');
    expect((err as Error).message).toMatch(
      /Cannot reach the Kubernetes API server .*ECONNRESET.* for POST \/api\/v1\/namespaces\/default\/configmaps/,
    );
    // The cause keeps the socket error with its own stack (the frame that threw).
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    expect(post.seen).toHaveLength(1);
  } finally {
    await post.close();
  }
});

test('a server that never answers is given up after a few attempts, naming them', async () => {
  const s = await flakyServer(0);
  try {
    const err = await s.client.get('/version').catch((e: Error) => e);
    expect((err as Error).message).toMatch(/ECONNRESET, after 4 attempts\) for GET \/version/);
    expect(s.seen).toHaveLength(4);
  } finally {
    await s.close();
  }
});

// Untrusted input (#29 item 9): a proxy-url password was printed in an error, and an exec plugin's
// env and args (where cloud keys and tokens go) were neither masked nor kept out of messages.
describe('secrets in a kubeconfig', () => {
  const written: string[] = [];
  const capture = async <T>(fn: () => Promise<T>): Promise<T> => {
    const write = process.stdout.write;
    process.stdout.write = ((s: string) => written.push(String(s)) > 0) as typeof process.stdout.write;
    try {
      return await fn();
    } finally {
      process.stdout.write = write;
    }
  };
  const kubeconfig = (user: string, cluster = '') => {
    const dir = tempDir('kc-secrets');
    const file = join(dir, 'config');
    writeFileSync(
      file,
      `clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"${cluster}}}]\nusers: [{name: u, user: ${user}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
    );
    return file;
  };

  test('a proxy-url password is masked and left out of the error', async () => {
    const file = kubeconfig('{token: tok-123456}', ', proxy-url: "socks5://me:pr0xy-Secret@10.0.0.1:1080"');
    const conn = await capture(() => loadKubeconfig(file));
    expect(written.join('')).toContain('::add-mask::pr0xy-Secret');
    const client = new KubeClient(conn);
    await expect(client.request('GET', '/version')).rejects.toThrow(
      'has proxy-url `socks5://10.0.0.1:1080`; go-ship supports http:// and https:// proxies',
    );
    await expect(client.request('GET', '/version')).rejects.not.toThrow(/pr0xy-Secret/);
  });

  test("an exec plugin's env values are masked; its args never appear in an error", async () => {
    const file = kubeconfig(
      '{exec: {command: "false", args: ["--token=arg-Secret-1"], env: [{name: CLOUD_KEY, value: "env-Secret-1"}]}}',
    );
    const failed = await capture(() => loadKubeconfig(file)).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(written.join('')).toContain('::add-mask::env-Secret-1');
    expect(failed?.message).toMatch(/^The kubeconfig's exec plugin `false \(1 argument\)` failed/);
    expect(failed?.message).not.toContain('arg-Secret-1');
    const missing = kubeconfig('{exec: {command: "no-such-plugin-xyz", args: ["--token=arg-Secret-2"]}}');
    await expect(capture(() => loadKubeconfig(missing))).rejects.toThrow(
      "The kubeconfig's exec plugin `no-such-plugin-xyz (1 argument)` could not be run",
    );
  });
});
