import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CommandResult, runCommand, shellQuote } from '../../../runner/command.js';
import { UserError, inputError } from '../../../runner/errors.js';

/** One line of the `hosts` input: `user@host[:port]`, the host a name, IPv4 or bracketed IPv6. */
export interface SshHost {
  user: string;
  host: string;
  port: number;
  /** The bastion this host is reached through (`ProxyJump`), when it has one. */
  jump?: SshHost;
  /** As written, for messages: `deploy@web-1:2222`. */
  label: string;
}

const NAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const USER = /^[a-z_][a-z0-9_.-]{0,31}$/i;
const ACCEPTS =
  'lines `user@host`, `user@host:port` or `user@host via user@bastion` (a host name, an IPv4 address or a bracketed IPv6 one)';

function parseOne(text: string, input: string, line: string): Omit<SshHost, 'jump'> {
  const m = /^([^@\s]+)@(\[[0-9A-Fa-f:.]+\]|[^:\s[\]]+)(?::(\d{1,5}))?$/.exec(text);
  const port = m?.[3] ? Number(m[3]) : 22;
  if (
    !m ||
    !USER.test(m[1]) ||
    !(NAME.test(m[2]) || /^\[[0-9A-Fa-f:.]+\]$/.test(m[2])) ||
    port < 1 ||
    port > 65535
  )
    throw inputError(
      input,
      line,
      ACCEPTS,
      'For example `deploy@web-1.internal`, `root@10.0.0.5:2222` or `deploy@10.0.2.7 via ops@bastion.example.com`.',
    );
  return { user: m[1], host: m[2], port, label: text };
}

/**
 * `deploy@web-1`, `root@10.0.0.5:2222`, `ops@[fd00::5]:22`, and `deploy@10.0.2.7 via ops@bastion`
 * for a server reached only through a bastion; `jump` (the ssh-jump input) is the bastion of lines
 * that name none. Refused by name when it is anything else.
 */
export function parseHost(line: string, input = 'hosts', jump?: SshHost): SshHost {
  const [target, via, ...rest] = line.trim().split(/\s+via\s+/);
  if (rest.length) throw inputError(input, line, ACCEPTS, 'Name one bastion per server.');
  const host = parseOne(target, input, line);
  const bastion = via ? parseOne(via, input, line) : jump;
  return { ...host, jump: bastion, label: bastion ? `${host.label} (via ${bastion.label})` : host.label };
}

export interface SshOptions {
  /** The OpenSSH client. */
  ssh: string;
  /** A private key, written 0600 for this run (else the user's agent and ~/.ssh keys). */
  key?: string;
  /** known_hosts lines; an unknown or changed host key is refused. */
  knownHosts?: string;
  /** Accept an unknown host's key on first use (never a changed one): only when asked for by name. */
  acceptNewHostKeys: boolean;
}

/**
 * SSH through the OpenSSH client, so the user's own ~/.ssh/config, agent, certificates and
 * ProxyJump work as they do by hand. One master connection per host (ControlMaster), opened once
 * and reused by every command of the deploy, closed at the end.
 *
 * The options live in a config file of this run (`-F`), not on the command line: OpenSSH gives a
 * bastion only what the config file says (command-line options apply to the last hop), and the
 * bastion's key must be checked and its login made with the same known-hosts and key.
 */
export class SshFleet {
  private readonly dir: string;
  private readonly config: string;

  constructor(private readonly opts: SshOptions) {
    // Socket paths are limited to about 100 bytes: a short private folder under the system temp.
    this.dir = mkdtempSync(join(tmpdir(), 'gs-ssh-'));
    chmodSync(this.dir, 0o700);
    const knownHosts = join(this.dir, 'known_hosts');
    writeFileSync(knownHosts, opts.knownHosts ? `${opts.knownHosts.trim()}\n` : '', { mode: 0o600 });
    const key = join(this.dir, 'key');
    if (opts.key) writeFileSync(key, `${opts.key.trim()}\n`, { mode: 0o600 });
    const userConfig = join(homedir(), '.ssh', 'config');
    this.config = join(this.dir, 'config');
    writeFileSync(
      this.config,
      [
        // First value wins in ssh_config: these come before the user's own, so a `Host *` of
        // theirs cannot turn host-key checking off.
        'Host *',
        '  BatchMode yes',
        `  StrictHostKeyChecking ${opts.acceptNewHostKeys ? 'accept-new' : 'yes'}`,
        // The given known_hosts, then the user's own: a key from the secret is enough.
        `  UserKnownHostsFile "${knownHosts}"${opts.knownHosts ? '' : ' ~/.ssh/known_hosts'}`,
        '  ConnectTimeout 15',
        '  ServerAliveInterval 15',
        '  ServerAliveCountMax 4',
        `  ControlPath "${join(this.dir, '%C')}"`,
        ...(opts.key ? [`  IdentityFile "${key}"`, '  IdentitiesOnly yes'] : []),
        ...(existsSync(userConfig) ? [`  Include "${userConfig}"`] : []),
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  }

  private target(h: SshHost): string[] {
    const hop = (x: SshHost) => `${x.user}@${x.host}:${x.port}`;
    return [
      '-F',
      this.config,
      ...(h.jump ? ['-J', hop(h.jump)] : []),
      '-p',
      String(h.port),
      `${h.user}@${h.host.replace(/^\[|\]$/g, '')}`,
    ];
  }

  /**
   * Opens the host's master connection, checking its key (and its bastion's): an unknown or changed
   * key stops here, naming the host, before anything on any host changes.
   */
  async connect(h: SshHost): Promise<void> {
    const r = await runCommand(
      this.opts.ssh,
      ['-o', 'ControlMaster=yes', '-o', 'ControlPersist=600', '-f', '-N', ...this.target(h)],
      { check: false, timeoutMs: 60_000 },
    );
    if (r.code === 0) return;
    const why = r.stderr.trim();
    // With a bastion, OpenSSH names the host whose key it refused in the message.
    const who = h.jump && why.includes(`[${h.jump.host}]`) ? `the bastion ${h.jump.label}` : h.label;
    if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i.test(why))
      throw new UserError(
        `The SSH host key of ${who} has changed since known-hosts was written, so nothing was deployed anywhere. If the server was rebuilt, put its new key in known-hosts (ssh-keyscan -p ${h.port} ${h.host}, checked out of band); otherwise someone may be in the middle.`,
      );
    if (/Host key verification failed|No .* host key is known/i.test(why))
      throw new UserError(
        `${who} is not in known-hosts (or its key there is not the one it showed), so nothing was deployed anywhere. Add its key (ssh-keyscan -p ${h.port} ${h.host}, checked out of band) to the known-hosts input, or set ssh-accept-new-host-keys: true to trust it on first use.`,
      );
    throw new UserError(
      `Cannot reach ${h.label} over SSH (\`${r.display}\`): ${why || `exit code ${r.code}`}`,
    );
  }

  /**
   * A local port forwarded through the host's master connection to `port` on `to` as the server
   * resolves it (its own loopback by default): the engine's checks reach a colour or the server's
   * nginx that no firewall needs to open.
   */
  async tunnel(h: SshHost, port: number, to = '127.0.0.1'): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      const local = await freePort();
      const r = await runCommand(
        this.opts.ssh,
        ['-O', 'forward', '-L', `127.0.0.1:${local}:${to}:${port}`, ...this.target(h)],
        { check: false, timeoutMs: 30_000 },
      );
      if (r.code === 0) return local;
      // Another process may have taken the port between asking and binding: ask again.
      if (attempt >= 3)
        throw new UserError(
          `Cannot forward a local port to ${to}:${port} on ${h.label}: ${r.stderr.trim() || `exit code ${r.code}`}`,
        );
    }
  }

  /** Runs a POSIX shell script on the host through its master connection; `input` is its stdin. */
  run(h: SshHost, script: string, opts: { input?: Buffer; timeoutMs?: number } = {}): Promise<CommandResult> {
    return runCommand(
      this.opts.ssh,
      ['-o', 'ControlMaster=no', ...this.target(h), `sh -c ${shellQuote(script)}`],
      { check: false, input: opts.input, timeoutMs: opts.timeoutMs ?? 120_000 },
    );
  }

  /** `run`, failing with the host's name and the script's own error when it exits non-zero. */
  async must(h: SshHost, what: string, script: string, opts: { input?: Buffer; timeoutMs?: number } = {}) {
    const r = await this.run(h, script, opts);
    if (r.code !== 0)
      throw new UserError(
        `${what} on ${h.label} failed (exit code ${r.code}): ${(r.stderr || r.stdout).trim()}`,
      );
    return r.stdout;
  }

  /** Closes every master connection and removes the key and known_hosts written for this run. */
  async close(hosts: SshHost[]): Promise<void> {
    await Promise.all(
      hosts.map((h) =>
        runCommand(this.opts.ssh, ['-O', 'exit', ...this.target(h)], {
          check: false,
          timeoutMs: 15_000,
        }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A TCP port on the loopback nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}
