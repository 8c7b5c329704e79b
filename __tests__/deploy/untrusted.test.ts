import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { mergeSummary } from '../../src/actions/build-matrix/summary.js';
import { renderSummary } from '../../src/actions/deploy-bluegreen/summary.js';
import type { Manifest } from '../../src/crossbuild/manifest.js';
import type { Shard } from '../../src/crossbuild/merge.js';
import type { DeployConfig, DeployResult } from '../../src/deploy/engine.js';
import { loadKubeconfig } from '../../src/deploy/targets/kubernetes/api.js';
import { LocalNginx } from '../../src/deploy/routers/nginx.js';
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

// #29 item 9: the deploy and merge summaries put outside text into Markdown as it came: a version
// label, a lock holder, Prometheus's answer, a shard's manifest.
const HOSTILE =
  '<img src=x onerror=alert(1)> **approved** by @org/security [ok](https://evil.example) |x| ```';
const rendered = (md: string) => {
  // Inside a code span the text is literal (no HTML, links or mentions); outside, nothing may be live.
  const prose = md.replace(/(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, '');
  for (const raw of ['<img', '**approved**', '@org', '](https://', '|x|']) expect(prose).not.toContain(raw);
  expect(md).toContain('approved');
};

test('the deploy summary shows outside text as text', () => {
  const state = {
    live: 'green' as const,
    colors: {
      blue: { state: 'running' as const, version: HOSTILE, image: `img:${HOSTILE}`, deployedAt: HOSTILE },
      green: { state: 'running' as const, version: '1.0.0', image: 'img:1', deployedAt: 'now' },
    },
    history: [{ version: HOSTILE, image: HOSTILE, at: HOSTILE }],
    lock: { holder: HOSTILE, since: HOSTILE, expires: HOSTILE },
  };
  const md = renderSummary({ app: 'app', action: 'status' } as DeployConfig, {
    action: 'status',
    outcome: 'failed',
    rolledBack: false,
    error: HOSTILE,
    plan: [HOSTILE],
    hooks: [
      {
        hook: 'before-traffic',
        where: HOSTILE,
        command: HOSTILE,
        code: 1,
        timedOut: false,
        durationMs: 5,
        output: HOSTILE,
        passed: false,
      },
    ],
    phases: [{ name: `gate ${HOSTILE}`, startMs: 0, durationMs: 5, note: HOSTILE }],
    checks: [
      { phase: HOSTILE, what: HOSTILE, url: HOSTILE, attempts: 1, passed: false, detail: HOSTILE, ms: 1 },
    ],
    state: state as unknown as DeployResult['state'],
  }).toString();
  rendered(md);
  // Every table row still has its columns: no pipe from the text split a cell.
  for (const line of md.split('\n').filter((l) => l.startsWith('| ') && l.includes('img:')))
    expect(line.split(/(?<!\\)\|/).length).toBe(7);
});

test('the merge summary shows a shard manifest as text', () => {
  const manifest = { project: HOSTILE, version: HOSTILE } as Manifest;
  const shards = [
    {
      dir: '/w/shard',
      manifest: {
        shard: HOSTILE,
        targets: [HOSTILE],
        artifacts: [{ path: HOSTILE, size: 1 }],
      } as unknown as Manifest,
    },
  ] as Shard[];
  rendered(mergeSummary(manifest, shards, '/w').toString());
});
