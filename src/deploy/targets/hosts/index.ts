import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { shippedBinaries } from '../../../crossbuild/binaries.js';
import { UserError, inputError } from '../../../runner/errors.js';
import type { Inputs } from '../../../runner/inputs.js';
import { formatDuration, log } from '../../../runner/log.js';
import * as workflow from '../../../runner/workflow.js';
import { batchSize, type Fleet } from '../../fleet.js';
import type { TargetContext, TargetPlugin } from '../plugin.js';
import { parseHost, SshFleet } from './ssh.js';
import { type Build, HostTarget, releaseId } from './target.js';

/**
 * A fleet of servers over SSH: build-matrix's binary for each server's platform, two systemd
 * instances per server behind its nginx, rolled out in batches.
 */
export const hosts: TargetPlugin = {
  name: 'hosts',
  inputs: [
    'hosts',
    'batch',
    'ssh',
    'ssh-key',
    'known-hosts',
    'ssh-jump',
    'ssh-accept-new-host-keys',
    'from',
    'binary',
    'deploy-dir',
    'keep-releases',
    'blue-port',
    'green-port',
    'nginx-upstream-file',
    'nginx-upstream',
    'nginx-conf',
    'nginx',
    'server-url',
    'systemd-unit',
    'server-switch',
  ],
  // The binary comes from build-matrix's output (`from`), not an image.
  imageOptional: () => true,
  configure(inputs, ctx) {
    const fleet = hostsFleet(inputs, ctx);
    return async () => fleet();
  },
};

const port = (inputs: Inputs, name: string) => inputs.int(name, { required: true, min: 1, max: 65535 })!;

/** The server's nginx that switches between the colours (server-switch: nginx). */
function serverNginx(inputs: Inputs, app: string) {
  const upstreamFile = inputs.optional('nginx-upstream-file');
  if (!upstreamFile?.startsWith('/'))
    throw new UserError(
      `Input \`nginx-upstream-file\` is required for target: hosts with server-switch: nginx, as an absolute path on the servers (got ${upstreamFile ? `\`${upstreamFile}\`` : 'nothing'}): the file go-ship writes the upstream into, included inside \`http { }\` by each server's nginx, e.g. /etc/nginx/conf.d/${app}-upstream.conf. A service that owns its port without nginx: server-switch: restart.`,
    );
  const upstreamName = inputs.optional('nginx-upstream') ?? app;
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(upstreamName))
    throw inputError('nginx-upstream', upstreamName, 'an upstream name: letters, digits, `_`, `.` and `-`');
  return {
    upstreamFile,
    upstreamName,
    conf: inputs.optional('nginx-conf'),
    binary: inputs.string('nginx', { required: true }),
  };
}

function hostsFleet(inputs: Inputs, { app, workspace, config }: TargetContext): () => Fleet {
  const list = inputs.lines('hosts');
  if (!list.length)
    throw new UserError(
      'Input `hosts` is required for target: hosts: the servers, one per line, `user@host` or `user@host:port`.',
    );
  const jumpLine = inputs.optional('ssh-jump');
  const jump = jumpLine ? parseHost(jumpLine, 'ssh-jump') : undefined;
  const servers = list.map((l) => parseHost(l, 'hosts', jump));
  const dup = servers.find((h, i) => servers.findIndex((x) => x.host === h.host && x.port === h.port) !== i);
  if (dup) throw inputError('hosts', dup.label, 'each server once');
  const batch = inputs.string('batch', { required: true });
  batchSize(batch, servers.length);
  const key = inputs.optional('ssh-key');
  if (key) workflow.setSecret(key);
  const switchBy = inputs.oneOf('server-switch', ['nginx', 'restart'] as const, { required: true });
  // restart: one colour at a time on the service's own port (blue-port).
  const ports =
    switchBy === 'restart'
      ? { blue: port(inputs, 'blue-port'), green: port(inputs, 'blue-port') }
      : { blue: port(inputs, 'blue-port'), green: port(inputs, 'green-port') };
  if (switchBy === 'nginx' && ports.blue === ports.green)
    throw inputError('green-port', String(ports.green), `a port other than blue-port (${ports.blue})`);
  if (switchBy === 'restart' && config.strategy === 'canary')
    throw new UserError(
      'strategy: canary needs both versions serving at once, and with server-switch: restart only one runs on each server. Use strategy: blue-green, or server-switch: nginx.',
    );
  const nginx = switchBy === 'nginx' ? serverNginx(inputs, app) : undefined;
  const dir = inputs.optional('deploy-dir') ?? `/opt/${app}`;
  if (!/^\/[A-Za-z0-9._/-]+$/.test(dir) || dir.split('/').includes('..'))
    throw inputError('deploy-dir', dir, 'an absolute path on the servers, e.g. `/opt/hello`');

  // What to ship: build-matrix's verified binaries, one per platform the fleet may run.
  const from = resolve(workspace, inputs.string('from', { required: true }));
  const builds = new Map<string, Build>();
  let binaryName = inputs.optional('binary') ?? app;
  if (config.action === 'deploy') {
    if (!existsSync(resolve(from, 'manifest.json')))
      throw inputError(
        'from',
        inputs.string('from'),
        "build-matrix's output-dir (with manifest.json)",
        "Run build-matrix for the servers' platforms (e.g. linux/amd64) before this step, or point `from` at its output-dir.",
      );
    const { manifest, binaries } = shippedBinaries(from, {
      binary: inputs.optional('binary'),
      wanted: (t) => !t.startsWith('windows/') && !t.startsWith('js/') && !t.startsWith('wasip1/'),
    });
    if (!binaries.length) throw new UserError(`${from} holds no binaries for servers (linux, freebsd, …).`);
    binaryName = binaries[0].binaryName;
    for (const b of binaries)
      builds.set(b.target, {
        sha256: b.artifact.binaries.find((x) => x.name === b.binaryName)!.sha256,
        data: b.binary,
      });
    const version = (config.release?.version ?? manifest.version).replace(/^v/, '');
    config.release = { image: releaseId(version), version };
  }
  const unitPath = inputs.optional('systemd-unit');
  let unit: string | undefined;
  if (unitPath) {
    const p = resolve(workspace, unitPath);
    if (!existsSync(p))
      throw inputError(
        'systemd-unit',
        unitPath,
        'a template unit file in the workspace, e.g. deploy/hello@.service',
      );
    unit = readFileSync(p, 'utf8');
    const line = (key: string) => new RegExp(`^\\s*${key}=.*%i`, 'm').test(unit!);
    if (!line('ExecStart') || !line('EnvironmentFile'))
      throw inputError(
        'systemd-unit',
        unitPath,
        "a template unit whose instance (%i) is the colour: it runs the colour's release and reads its environment",
        `Have it say \`ExecStart=${dir}/%i/${binaryName} ...\` and \`EnvironmentFile=${dir}/%i.env\` (PORT, COLOR, VERSION and env are there).`,
      );
  }
  const serverUrl = inputs.string('server-url', { required: true });
  let entry: URL;
  try {
    entry = new URL(serverUrl);
    if (entry.protocol !== 'http:') throw new Error('not http');
  } catch {
    throw inputError(
      'server-url',
      serverUrl,
      "an http:// URL of each server's nginx as the server itself reaches it",
      'For example `http://127.0.0.1:80` (the default) or `http://127.0.0.1:8080`.',
    );
  }
  const options = {
    app,
    unit,
    binaryName,
    dir,
    ports,
    env: inputs.keyValues('env'),
    args: inputs.lines('args'),
    builds,
    keep: inputs.int('keep-releases', { required: true, min: 1, max: 100 })!,
    drainMs: config.drainMs,
    switchBy,
    nginx,
    // With restart and no server-url of the user's, the service itself is the server's entry.
    entry:
      switchBy === 'restart' && !inputs.isSet('server-url')
        ? { host: '127.0.0.1', port: ports.blue, path: '' }
        : {
            host: entry.hostname.replace(/^\[|\]$/g, ''),
            port: Number(entry.port || 80),
            path: entry.pathname.replace(/\/$/, ''),
          },
  };
  if (inputs.boolean('ssh-accept-new-host-keys'))
    log.warning(
      "ssh-accept-new-host-keys is true: a server not in known-hosts is trusted on first use (a changed key is still refused). Put the servers' keys in known-hosts instead.",
    );
  const sshOptions = {
    ssh: inputs.string('ssh', { required: true }),
    key,
    knownHosts: inputs.optional('known-hosts'),
    acceptNewHostKeys: inputs.boolean('ssh-accept-new-host-keys'),
  };
  return () => {
    const ssh = new SshFleet(sshOptions);
    const members = servers.map((h) => {
      const target = new HostTarget(ssh, h, options);
      return {
        name: h.label,
        target,
        sent: () => target.uploaded,
        url: () => target.entry(),
        note: () => {
          const gap = target.restartGapMs();
          return gap === undefined ? undefined : `down ${formatDuration(gap)} while restarting`;
        },
      };
    });
    return {
      batch,
      members,
      // Every server's key is checked before anything changes anywhere.
      connect: async () => {
        await Promise.all(servers.map((h) => ssh.connect(h)));
        await Promise.all(members.map((m) => m.target.openTunnels()));
      },
      close: () => ssh.close(servers),
    };
  };
}
