import { isAbsolute, resolve } from 'node:path';
import { UserError, inputError } from '../../../runner/errors.js';
import type { Inputs } from '../../../runner/inputs.js';
import { ContainerNginx, LocalNginx, NginxRouter } from '../../routers/nginx.js';
import type { TargetContext, TargetPlugin } from '../plugin.js';
import { DockerTarget } from './target.js';

/** Two containers on a Docker host behind nginx. */
export const docker: TargetPlugin = {
  name: 'docker',
  inputs: [
    'docker',
    'pull',
    'blue-port',
    'green-port',
    'network',
    'host',
    'nginx-upstream-file',
    'nginx-upstream',
    'nginx-conf',
    'nginx-prefix',
    'nginx-container',
    'nginx',
  ],
  configure(inputs, ctx) {
    // Checked now, before anything runs.
    const target = dockerTarget(inputs, ctx);
    return async () => target;
  },
};

const port = (inputs: Inputs, name: string) => inputs.int(name, { required: true, min: 1, max: 65535 })!;

function dockerTarget(inputs: Inputs, { app, workspace, config }: TargetContext): DockerTarget {
  const upstreamFile = inputs.optional('nginx-upstream-file');
  if (!upstreamFile)
    throw new UserError(
      'Input `nginx-upstream-file` is required for target: docker: the file go-ship writes the upstream into, included by your nginx config inside `http { }` (e.g. /etc/nginx/conf.d/app-upstream.conf).',
    );
  const ports = { blue: port(inputs, 'blue-port'), green: port(inputs, 'green-port') };
  if (ports.blue === ports.green)
    throw inputError(
      'green-port',
      String(ports.green),
      `a port other than blue-port (${ports.blue})`,
      'Each colour needs its own port.',
    );
  const nginxConf = inputs.optional('nginx-conf');
  const nginxContainer = inputs.optional('nginx-container');
  // Paths on this machine are relative to the workspace; inside the nginx container they must be absolute.
  const file = (name: string, value: string) => {
    if (isAbsolute(value)) return value;
    if (nginxContainer)
      throw inputError(
        name,
        value,
        'an absolute path inside the nginx container',
        "With nginx-container, paths are the container's.",
      );
    return resolve(workspace, value);
  };
  const nginx = inputs.string('nginx', { required: true });
  const docker = inputs.string('docker', { required: true });
  const nginxPrefix = inputs.optional('nginx-prefix');
  return new DockerTarget({
    app,
    docker,
    ports,
    network: inputs.oneOf('network', ['bridge', 'host'] as const, { required: true }),
    containerPort: port(inputs, 'container-port'),
    host: hostOf(inputs),
    env: inputs.keyValues('env'),
    args: inputs.lines('args'),
    pull: inputs.oneOf('pull', ['missing', 'always', 'never'] as const, { required: true }),
    pullTimeoutMs: config.pullTimeoutMs,
    router: new NginxRouter({
      upstreamFile: file('nginx-upstream-file', upstreamFile),
      upstreamName: upstreamNameOf(inputs, app),
      conf: nginxConf ? file('nginx-conf', nginxConf) : undefined,
      prefix: nginxPrefix ? file('nginx-prefix', nginxPrefix) : undefined,
      nginx,
      host: nginxContainer
        ? new ContainerNginx(docker, nginxContainer, nginx)
        : new LocalNginx(nginx, nginxConf ? file('nginx-conf', nginxConf) : undefined),
    }),
  });
}

/**
 * `host` goes into nginx's `server host:port;` and Docker's `--publish host:port:port`: a host name,
 * an IPv4 address or a bracketed IPv6 one, nothing that could end the line and add directives.
 */
function hostOf(inputs: Inputs): string {
  const v = inputs.string('host', { required: true });
  if (
    !/^([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$|^\[[0-9A-Fa-f:.]+\]$/.test(
      v,
    )
  )
    throw inputError('host', v, 'a host name or IP address where the colours are reached, e.g. `127.0.0.1`');
  return v;
}

/** `nginx-upstream` is written as `upstream NAME {`: one word, as nginx names it. */
function upstreamNameOf(inputs: Inputs, app: string): string {
  const v = inputs.optional('nginx-upstream') ?? app;
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(v))
    throw inputError('nginx-upstream', v, 'an upstream name: letters, digits, `_`, `.` and `-`');
  return v;
}
