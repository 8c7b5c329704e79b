import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCommand } from './components.js';
import { freeStaticPort, stopProcess, waitForPort } from './net.js';

export const SQUID = '/usr/sbin/squid';
export const hasSquid = (): boolean => existsSync(SQUID) && hasCommand(SQUID, ['-v']);

export interface ForwardProxy {
  /** `http://127.0.0.1:PORT`, for HTTPS_PROXY / HTTP_PROXY. */
  url: string;
  /** Access-log lines so far: `METHOD URL-or-host:port STATUS`, one per request it carried. */
  log(): string[];
  stop(): Promise<void>;
}

/**
 * A real forward proxy (Debian's squid) on loopback. `names` resolve to 127.0.0.1 only inside the
 * proxy (its own hosts file; no DNS server is configured), so a client that reaches a server by one
 * of these names can only have gone through the proxy. @actions/http-client never proxies loopback
 * addresses, which is why the tests use names.
 */
export async function startSquid(names: string[]): Promise<ForwardProxy> {
  // Squid started as root writes its logs as its own user (proxy), which must reach the folder: a
  // folder right under the system temp dir, not under the test run's private (0700) root.
  const dir = mkdtempSync(join(tmpdir(), 'go-ship-squid-'));
  chmodSync(dir, 0o777);
  writeFileSync(join(dir, 'hosts'), names.map((n) => `127.0.0.1 ${n}\n`).join(''));
  const accessLog = join(dir, 'access.log');
  // A busy machine can take the port between the check and squid's bind: try another one, twice.
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freeStaticPort();
    writeFileSync(join(dir, 'squid.conf'), squidConf(dir, port, accessLog));
    let stderr = '';
    child = spawn(SQUID, ['-N', '-f', join(dir, 'squid.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (b) => (stderr += b));
    try {
      await waitForPort(child, port, 'squid', () =>
        [stderr, existsSync(join(dir, 'cache.log')) ? readFileSync(join(dir, 'cache.log'), 'utf8') : '']
          .join('\n')
          .trim(),
      );
      break;
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
  return {
    url: `http://127.0.0.1:${port}`,
    log: () =>
      existsSync(accessLog)
        ? readFileSync(accessLog, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => {
              // time elapsed client code/status bytes method url ...
              const f = l.trim().split(/\s+/);
              return `${f[5]} ${f[6]} ${f[3]}`;
            })
        : [],
    stop: async () => {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function squidConf(dir: string, port: number, accessLog: string): string {
  return [
    `http_port 127.0.0.1:${port}`,
    `pid_filename ${join(dir, 'squid.pid')}`,
    `access_log stdio:${accessLog}`,
    `cache_log ${join(dir, 'cache.log')}`,
    `coredump_dir ${dir}`,
    `hosts_file ${join(dir, 'hosts')}`,
    // Only the hosts file resolves: a name it lacks fails instead of leaking to real DNS.
    'dns_nameservers 127.0.0.1',
    'cache deny all',
    'cache_mem 8 MB',
    'shutdown_lifetime 0 seconds',
    'acl loopback src 127.0.0.0/8',
    'acl CONNECT method CONNECT',
    'http_access allow loopback',
    'http_access deny all',
    '',
  ].join('\n');
}
