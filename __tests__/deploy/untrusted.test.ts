import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { loadKubeconfig } from '../../src/deploy/kubernetes-api.js';
import { LocalNginx } from '../../src/deploy/nginx.js';
import { tempDir } from '../helpers/cli.js';

// The upstream file was written through `.<PID>.go-ship-upstream.tmp`: a link planted at that
// guessable name made go-ship write wherever it pointed.
test('the nginx upstream file is written through a fresh, exclusive temp name, never a planted link', async () => {
  const dir = tempDir('nginx-tmp');
  const victim = join(dir, 'victim.conf');
  writeFileSync(victim, 'untouched\n');
  symlinkSync(victim, join(dir, `.${process.pid}.go-ship-upstream.tmp`));
  const file = join(dir, 'upstream.conf');
  await new LocalNginx('nginx').write(file, Buffer.from('upstream app { server 127.0.0.1:8081; }\n'));
  expect(readFileSync(file, 'utf8')).toContain('127.0.0.1:8081');
  expect(readFileSync(victim, 'utf8')).toBe('untouched\n');
  expect(
    readdirSync(dir).filter((f) => f.includes('go-ship-upstream.') && !f.startsWith(`.${process.pid}.`)),
  ).toEqual([]);
});

test('a kubeconfig that turns TLS verification off is used, with a warning that says what it costs', async () => {
  const dir = tempDir('kube-insecure');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'config');
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: c',
      'contexts: [{name: c, context: {cluster: k, user: u}}]',
      'clusters: [{name: k, cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}}]',
      'users: [{name: u, user: {token: abc}}]',
    ].join('\n'),
  );
  const out: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  try {
    const conn = await loadKubeconfig(file);
    expect(conn.insecure).toBe(true);
  } finally {
    spy.mockRestore();
  }
  expect(out.join('')).toMatch(/::warning::The kubeconfig's cluster `k` sets insecure-skip-tls-verify/);
  expect(existsSync(file)).toBe(true);
});
