import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The servers scripts/fleet-hosts.sh starts (systemd, sshd and nginx in containers with networks of
 * their own, the last one reachable over SSH only through a bastion), as its state folder
 * describes them.
 */
export interface TestFleet {
  /** The deploy's `hosts` input lines: `root@10.231.1.2`, …, `root@10.231.100.2 via root@10.231.0.2`. */
  lines: string[];
  /** Each server's HTTP address (its nginx on port 80), in the same order. */
  web: string[];
  /** The client's private key and the known_hosts of every server and the bastion. */
  key: string;
  keyFile: string;
  knownHosts: string;
  knownHostsFile: string;
  /** The ssh/scp options that reach the servers with the test key and known_hosts only. */
  sshOptions: string[];
  /** Runs a shell script on server `i` as root over SSH (through its bastion when it has one). */
  sh(i: number, script: string): { code: number; stdout: string; stderr: string };
}

export const HOSTS_STATE = process.env.GO_SHIP_HOSTS_DIR ?? '/tmp/go-ship-components/hosts';

export function testFleet(state = HOSTS_STATE): TestFleet | undefined {
  if (!existsSync(join(state, 'hosts')) || !existsSync(join(state, 'web'))) return undefined;
  const read = (f: string) => readFileSync(join(state, f), 'utf8');
  const lines = read('hosts').split('\n').filter(Boolean);
  const keyFile = join(state, 'client_ed25519');
  const knownHostsFile = join(state, 'known_hosts');
  const opts = [
    '-q',
    '-F',
    'none',
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'ConnectTimeout=10',
    '-o',
    `UserKnownHostsFile=${knownHostsFile}`,
    '-i',
    keyFile,
  ];
  const fleet: TestFleet = {
    lines,
    web: read('web').split('\n').filter(Boolean),
    key: read('client_ed25519'),
    keyFile,
    knownHosts: read('known_hosts'),
    knownHostsFile,
    sshOptions: opts,
    sh(i, script) {
      const [target, jump] = lines[i].split(' via ');
      const proxy = jump ? ['-o', `ProxyCommand=ssh ${opts.join(' ')} -W %h:%p ${jump}`] : [];
      const r = spawnSync('ssh', [...opts, ...proxy, target, script], { encoding: 'utf8', timeout: 60_000 });
      return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    },
  };
  return fleet;
}

/** The fleet when every server answers over SSH right now. */
export function reachableFleet(): TestFleet | undefined {
  const f = testFleet();
  return f && f.lines.every((_, i) => f.sh(i, 'systemctl is-active --quiet ssh').code === 0) ? f : undefined;
}
