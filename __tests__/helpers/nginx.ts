import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Nginx {
  dir: string;
  conf: string;
  upstreamFile: string;
  publicUrl: string;
  stop(): void;
}

/**
 * An nginx on loopback with its own config and prefix, as a user would write it for go-ship: the
 * server block proxies to upstream `app`, defined by the file go-ship owns. It is not started here:
 * the first deploy starts it once the upstream exists. `keepalive` sets client keep-alive
 * (`keepalive_timeout`); see docs/benchmarks.md for what a reload does to idle keep-alive connections.
 */
export function nginxConfig(
  dir: string,
  app: string,
  port: number,
  opts: { keepalive?: boolean } = {},
): Nginx {
  const keepalive = opts.keepalive ?? true;
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  const upstreamFile = join(dir, 'upstream.conf');
  writeFileSync(
    conf,
    `pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
worker_processes 2;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_timeout ${keepalive ? '65s' : '0'};
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  include ${upstreamFile};
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://${app};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
  );
  return {
    dir,
    conf,
    upstreamFile,
    publicUrl: `http://127.0.0.1:${port}`,
    stop() {
      const pid = join(dir, 'nginx.pid');
      if (existsSync(pid)) {
        try {
          process.kill(Number(readFileSync(pid, 'utf8').trim()), 'SIGQUIT');
        } catch {
          // gone
        }
      }
    },
  };
}

/**
 * Builds examples/hello-svc with the version baked in and imports it as
 * local/hello-svc-<hash of its sources>:<version>, so a changed example is never served from an old image.
 */
export function helloImage(docker: string, root: string, version: string, work: string): string {
  const src = join(root, 'examples', 'hello-svc');
  const hash = createHash('sha256');
  for (const f of readdirSync(src).sort()) hash.update(f).update(readFileSync(join(src, f)));
  const ref = `local/hello-svc-${hash.digest('hex').slice(0, 8)}:${version}`;
  try {
    execFileSync(docker, ['image', 'inspect', ref], { stdio: 'ignore' });
    return ref;
  } catch {
    // build it
  }
  const rootfs = join(work, `rootfs-${version}`);
  mkdirSync(rootfs, { recursive: true });
  execFileSync(
    'go',
    [
      'build',
      '-trimpath',
      '-ldflags',
      `-s -w -X main.version=${version}`,
      '-o',
      join(rootfs, 'hello-svc'),
      '.',
    ],
    { cwd: src, env: { ...process.env, CGO_ENABLED: '0' }, stdio: 'inherit' },
  );
  const tar = execFileSync('tar', ['-C', rootfs, '-c', '.'], { maxBuffer: 256 * 1024 * 1024 });
  execFileSync(docker, ['import', '-c', 'ENTRYPOINT ["/hello-svc"]', '-', ref], {
    input: tar,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  return ref;
}

/**
 * An nginx image made from this machine's nginx (no image can be pulled here): the binary, the
 * shared libraries `ldd` names, a static busybox, and the users nginx switches to. It runs
 * `nginx -g 'daemon off;'` with /etc/nginx/nginx.conf, which the test copies in before starting it.
 */
export function nginxImage(docker: string, work: string): string {
  const ref = 'local/nginx:test';
  try {
    execFileSync(docker, ['image', 'inspect', ref], { stdio: 'ignore' });
    return ref;
  } catch {
    // build it
  }
  const rootfs = join(work, 'nginx-rootfs');
  const nginx = execFileSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).trim();
  const libs = [...execFileSync('ldd', [nginx], { encoding: 'utf8' }).matchAll(/(\/\S+) \(0x/g)].map(
    (m) => m[1],
  );
  for (const d of ['bin', 'tmp', 'run', 'etc/nginx/conf.d', 'var/lib/nginx', 'var/log/nginx'])
    mkdirSync(join(rootfs, d), { recursive: true });
  const copy = (from: string) => {
    mkdirSync(join(rootfs, dirname(from)), { recursive: true });
    execFileSync('cp', ['-L', from, join(rootfs, from)]);
  };
  for (const f of [nginx, ...libs, '/bin/busybox']) copy(f);
  for (const tool of ['sh', 'rm', 'cat', 'ls']) symlinkSync('busybox', join(rootfs, 'bin', tool));
  writeFileSync(
    join(rootfs, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n',
  );
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  const tar = execFileSync('tar', ['-C', rootfs, '-c', '.'], { maxBuffer: 256 * 1024 * 1024 });
  execFileSync(docker, ['import', '-c', `ENTRYPOINT ["${nginx}", "-g", "daemon off;"]`, '-', ref], {
    input: tar,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  return ref;
}
