import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './net.js';
import { tempDir } from './cli.js';

export interface LoginRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  user: string;
  password: string;
  close(): void;
}

/** A Distribution registry of the test's own behind an htpasswd login (bcrypt, as `htpasswd -B` writes). */
export async function startLoginRegistry(user = 'ci', password = 's3cret-pass'): Promise<LoginRegistry> {
  const dir = tempDir('login-registry');
  const port = await freePort();
  writeFileSync(
    join(dir, 'htpasswd'),
    execFileSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' }),
  );
  writeFileSync(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\nauth:\n  htpasswd:\n    realm: go-ship-test\n    path: ${join(dir, 'htpasswd')}\n`,
  );
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const status = await fetch(`http://127.0.0.1:${port}/v2/`)
      .then((r) => r.status)
      .catch(() => 0);
    if (status === 401) break;
    await sleep(100);
  }
  return { host: `127.0.0.1:${port}`, user, password, close: () => void child.kill('SIGTERM') };
}
