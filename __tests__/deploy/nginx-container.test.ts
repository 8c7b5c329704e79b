import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir, runAction } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { DOCKER } from '../helpers/docker.js';
import { startLoad } from '../helpers/load.js';
import { freePort, waitForHttp } from '../helpers/net.js';
import { helloImage, nginxImage } from '../helpers/nginx.js';

const deploy = (withs: Record<string, string>) =>
  runAction('deploy-bluegreen', { with: withs, processEnv: { PATH: `/usr/bin:${process.env.PATH}` } });

const version = async (url: string) =>
  ((await (await fetch(`${url}/version`)).json()) as { version: string }).version;

describeWith(
  'Docker, nginx, wrk and go',
  hasCommand(DOCKER, ['version']) &&
    hasCommand('nginx', ['-v']) &&
    existsSync('/usr/bin/wrk') &&
    hasCommand('go', ['version']),
  'deploy-bluegreen with nginx in a container on the Docker host (everything through the docker CLI)',
  () => {
    const app = `hello-${randomBytes(3).toString('hex')}`;
    const proxy = `${app}-nginx`;
    const work = tempDir('deploy-ctr');
    const images: Record<string, string> = {};
    let base: Record<string, string>;
    let url = '';

    beforeAll(async () => {
      for (const v of ['1.0.0', '1.1.0', '1.2.0']) images[v] = helloImage(DOCKER, ROOT, v, work);
      const [pub, blue, green] = [await freePort(), await freePort(), await freePort()];
      url = `http://127.0.0.1:${pub}`;
      const conf = join(work, 'nginx.conf');
      writeFileSync(
        conf,
        `pid /run/nginx.pid;\nerror_log /var/log/nginx/error.log;\nevents {}\nhttp {\n  access_log off;\n  keepalive_timeout 0;\n  include /etc/nginx/conf.d/${app}.conf;\n  server {\n    listen 127.0.0.1:${pub};\n    location / { proxy_pass http://${app}; }\n  }\n}\n`,
      );
      // Before the first deploy the upstream is a placeholder (nothing listens there: 502).
      const placeholder = join(work, `${app}.conf`);
      writeFileSync(placeholder, `upstream ${app} { server 127.0.0.1:9; }\n`);
      execFileSync(DOCKER, ['create', '--name', proxy, '--network', 'host', nginxImage(DOCKER, work)]);
      execFileSync(DOCKER, ['cp', conf, `${proxy}:/etc/nginx/nginx.conf`]);
      execFileSync(DOCKER, ['cp', placeholder, `${proxy}:/etc/nginx/conf.d/${app}.conf`]);
      execFileSync(DOCKER, ['start', proxy]);
      base = {
        app,
        url,
        network: 'host',
        env: 'ADDR=127.0.0.1:${PORT}',
        'blue-port': String(blue),
        'green-port': String(green),
        'nginx-container': proxy,
        'nginx-upstream-file': `/etc/nginx/conf.d/${app}.conf`,
        'health-interval': '200ms',
        'verify-seconds': '2',
        drain: '2s',
      };
    }, 300_000);

    afterAll(() => {
      for (const c of ['blue', 'green', 'deploy-lock', 'nginx'])
        execFileSync(DOCKER, ['rm', '-f', `${app}-${c}`], { stdio: 'ignore' });
    });

    test('first deploy, a deploy under load, a roll back, and status, with the state read from the container', async () => {
      const first = await deploy({ ...base, image: images['1.0.0'] });
      expect(first.stderr).not.toMatch(/go-ship bug/);
      if (first.code !== 0) throw new Error(`first deploy failed:\n${first.stderr}`);
      expect(first.outputs).toMatchObject({ 'live-color': 'blue', outcome: 'switched' });
      await waitForHttp(`${url}/healthz`);
      expect(await version(url)).toBe('1.0.0');
      const file = execFileSync(DOCKER, ['exec', proxy, 'cat', `/etc/nginx/conf.d/${app}.conf`], {
        encoding: 'utf8',
      });
      expect(file).toContain(`server 127.0.0.1:${base['blue-port']};`);
      expect(file).toContain('"live":"blue"');

      const load = startLoad(url);
      await new Promise((r) => setTimeout(r, 500));
      const second = await deploy({ ...base, image: images['1.1.0'] });
      const broken = await deploy({
        ...base,
        image: images['1.2.0'],
        env: 'ADDR=127.0.0.1:${PORT}\nHELLO_FAULT=healthz-after=3',
      });
      await new Promise((r) => setTimeout(r, 500));
      const seen = await load.stop();
      console.log(
        `nginx in a container: wrk ${seen.requests} requests, ${seen.failed} failed ${JSON.stringify(seen.errors)}, ${JSON.stringify(seen.versions)}`,
      );
      if (second.code !== 0) throw new Error(`second deploy failed:\n${second.stderr}`);
      expect(second.outputs).toMatchObject({
        'live-color': 'green',
        'previous-color': 'blue',
        version: '1.1.0',
      });
      expect(broken.code).not.toBe(0);
      expect(broken.outputs).toMatchObject({
        'live-color': 'green',
        'rolled-back': 'true',
        version: '1.1.0',
      });
      expect(seen.failed).toBe(0);
      expect(seen.versions.map((v) => v.version)).toEqual(['1.0.0', '1.1.0', '1.2.0']);
      expect(await version(url)).toBe('1.1.0');

      const status = await deploy({
        app,
        action: 'status',
        'nginx-container': proxy,
        'nginx-upstream-file': base['nginx-upstream-file'],
      });
      expect(status.outputs).toMatchObject({
        'live-color': 'green',
        'previous-color': 'blue',
        version: '1.1.0',
      });
    }, 180_000);

    test('a missing nginx container is a clear error and nothing is started', async () => {
      const r = await deploy({
        ...base,
        app: `${app}x`,
        'nginx-container': `${app}-nope`,
        image: images['1.0.0'],
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(`Is the container \`${app}-nope\` \\(nginx-container\\) there\\?`));
      expect(() => execFileSync(DOCKER, ['inspect', `${app}x-blue`], { stdio: 'ignore' })).toThrow();
    });
  },
);
