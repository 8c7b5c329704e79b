import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline } from '../../src/pipeline/pipeline.js';
import { STAGE_RECORDS, type StageRecord } from '../../src/pipeline/stages.js';
import { goShip, ROOT, runAction, tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { DOCKER } from '../helpers/docker.js';
import { startLoad } from '../helpers/load.js';
import { freePort } from '../helpers/net.js';
import { helloImage, nginxConfig, type Nginx } from '../helpers/nginx.js';

/**
 * #32: staging and production as .go-ship.yml environments on one Docker engine, each behind its own
 * nginx, with images in a real registry. A push to develop deploys staging through the pipeline's
 * own deploy stage; `go-ship promote staging production` gives production the identical digest,
 * read back from both; a version that failed in staging, or a staging that does not answer, is
 * refused before production changes.
 */
const REGISTRY = process.env.GO_SHIP_TEST_REGISTRY ?? '127.0.0.1:5055';
const registryUp = (): boolean => {
  try {
    execFileSync('curl', ['-fsS', `http://${REGISTRY}/v2/`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

describeWith(
  'Docker, a registry, nginx, wrk and go',
  hasCommand(DOCKER, ['version']) &&
    hasCommand('nginx', ['-v']) &&
    existsSync('/usr/bin/wrk') &&
    hasCommand('go', ['version']) &&
    registryUp(),
  'environments: staging deployed by a push, promoted to production by digest',
  () => {
    const id = randomBytes(3).toString('hex');
    const work = tempDir('promotion');
    const repo = join(work, 'repo');
    const apps = { staging: `promo-s-${id}`, production: `promo-p-${id}` };
    const nginx: Record<string, Nginx> = {};
    const digests: Record<string, string> = {};
    const processEnv = { PATH: `/usr/bin:${process.env.PATH}` };
    let config = '';

    /** .go-ship.yml: the shared deploy settings, and each environment's own app, ports and nginx. */
    const writeConfig = async (stagingEnv = 'ADDR=127.0.0.1:${PORT}') => {
      const env = async (name: 'staging' | 'production', rule: string, extra = '') =>
        [
          `  ${name}:`,
          `    ${rule}`,
          '    deploy-bluegreen:',
          `      app: ${apps[name]}`,
          `      url: ${nginx[name].publicUrl}`,
          `      blue-port: ${await freePort()}`,
          `      green-port: ${await freePort()}`,
          `      nginx-upstream-file: ${nginx[name].upstreamFile}`,
          `      nginx-conf: ${nginx[name].conf}`,
          extra,
        ].join('\n');
      config ||= [
        'deploy-bluegreen:',
        '  network: host',
        `  env: 'ADDR=127.0.0.1:\${PORT}'`,
        '  health-interval: 200ms',
        "  verify-seconds: '2'",
        '  drain: 1s',
        "  ready-timeout: '10s'",
        'environments:',
        await env('staging', 'branch: develop', '      env: STAGING_ENV'),
        await env('production', 'from: staging'),
        '',
      ].join('\n');
      writeFileSync(join(repo, '.go-ship.yml'), config.replace('STAGING_ENV', JSON.stringify(stagingEnv)));
    };

    /** The pipeline's deploy stage for a push of `ref`, after a tag and an image stage that stand for semver-tag and docker-multistage. */
    const push = (ref: string, version: string) => {
      const given = (outputs: Record<string, string>): StageRecord => ({
        events: ['push'],
        run: async () => ({ passed: true, outputs, summary: '' }),
        describe: () => '',
      });
      return runPipeline({
        root: ROOT,
        workspace: repo,
        event: 'push',
        skip: new Set(),
        env: { ...processEnv, GITHUB_REF: ref },
        stages: [
          ['tag', given({ version })],
          ['image', given({ image: digests[version] })],
          ['deploy', STAGE_RECORDS.deploy],
        ],
      });
    };

    const status = (name: 'staging' | 'production') =>
      runAction('deploy-bluegreen', {
        workspace: repo,
        with: { action: 'status', environment: name },
        processEnv,
      }).then((r) => r.outputs);

    const promote = (...args: string[]) =>
      goShip(['promote', 'staging', 'production', '--workspace', repo, '--json', ...args], {
        env: processEnv,
      });

    beforeAll(async () => {
      mkdirSync(repo, { recursive: true });
      for (const v of ['1.0.0', '1.1.0']) {
        const local = helloImage(DOCKER, ROOT, v, work);
        const ref = `${REGISTRY}/go-ship-test/promo-${id}:${v}`;
        execFileSync(DOCKER, ['tag', local, ref]);
        execFileSync(DOCKER, ['push', '--quiet', ref], { stdio: 'ignore' });
        digests[v] = execFileSync(DOCKER, ['image', 'inspect', '--format', '{{index .RepoDigests 0}}', ref], {
          encoding: 'utf8',
        }).trim();
        expect(digests[v]).toMatch(/@sha256:[0-9a-f]{64}$/);
      }
      for (const name of ['staging', 'production'] as const)
        nginx[name] = nginxConfig(join(work, name), apps[name], await freePort(), { keepalive: false });
      await writeConfig();
    }, 300_000);

    afterAll(() => {
      for (const n of Object.values(nginx)) n.stop();
      for (const app of Object.values(apps))
        for (const c of ['blue', 'green', 'deploy-lock'])
          execFileSync(DOCKER, ['rm', '-f', `${app}-${c}`], { stdio: 'ignore' });
      for (const v of Object.keys(digests))
        execFileSync(DOCKER, ['rmi', '-f', `${REGISTRY}/go-ship-test/promo-${id}:${v}`], { stdio: 'ignore' });
    });

    test('a push to develop deploys staging; a push to main deploys no environment', async () => {
      const main = await push('refs/heads/main', '1.0.0');
      expect(main.at(-1)).toMatchObject({ stage: 'deploy', status: 'skipped' });
      expect(main.at(-1)!.detail).toBe(
        'no environment is deployed by main (staging: branch develop; production: promoted from staging)',
      );
      const develop = await push('refs/heads/develop', '1.0.0');
      expect(develop.at(-1)).toMatchObject({ stage: 'deploy', status: 'passed' });
      expect(develop.at(-1)!.outputs).toMatchObject({ outcome: 'switched', version: '1.0.0' });
      const s = await status('staging');
      expect(s).toMatchObject({ version: '1.0.0', 'image-digest': digests['1.0.0'], healthy: 'true' });
      // Production was not touched by the push.
      expect((await status('production'))['live-color']).toBe('');
    }, 300_000);

    test('promote staging → production: the identical digest, read back from both, with no failed request', async () => {
      const load = startLoad(nginx.staging.publicUrl);
      const r = await promote();
      const seen = await load.stop();
      expect(r.stderr).not.toMatch(/go-ship bug/);
      const out = JSON.parse(r.stdout) as {
        passed: boolean;
        digest: string;
        version: string;
        reason?: string;
      };
      expect(out).toMatchObject({ passed: true, digest: digests['1.0.0'], version: '1.0.0' });
      expect(r.code).toBe(0);
      expect(seen.failed).toBe(0);
      const [staging, production] = [await status('staging'), await status('production')];
      expect(production['image-digest']).toBe(staging['image-digest']);
      expect(production).toMatchObject({
        version: '1.0.0',
        healthy: 'true',
        'image-digest': digests['1.0.0'],
      });
      const answer = (await (await fetch(`${nginx.production.publicUrl}/version`)).json()) as {
        version: string;
      };
      expect(answer.version).toBe('1.0.0');
    }, 300_000);

    test('a version that failed in staging is refused by name, and production keeps what it runs', async () => {
      await writeConfig('ADDR=127.0.0.1:${PORT}\nHELLO_FAULT=healthz');
      try {
        const failed = await push('refs/heads/develop', '1.1.0');
        expect(failed.at(-1)).toMatchObject({ stage: 'deploy', status: 'failed' });
      } finally {
        await writeConfig();
      }
      expect((await status('staging')).version).toBe('1.0.0');
      const r = await promote('--with', 'version=1.1.0');
      expect(r.code).toBe(1);
      const out = JSON.parse(r.stdout) as { passed: boolean; reason: string; steps: { name: string }[] };
      expect(out.passed).toBe(false);
      expect(out.reason).toMatch(
        /^Version 1\.1\.0 is not what staging runs: staging runs 1\.0\.0 on (blue|green)\. A version that failed there, or never went there, is not promoted/,
      );
      expect(out.steps.map((s) => s.name)).toEqual(['read staging']);
      expect(await status('production')).toMatchObject({
        version: '1.0.0',
        'image-digest': digests['1.0.0'],
      });
    }, 300_000);

    test('a staging that does not answer is not promoted from; production is refused as a source', async () => {
      const live = (await status('staging'))['live-color'];
      execFileSync(DOCKER, ['stop', '-t', '1', `${apps.staging}-${live}`], { stdio: 'ignore' });
      try {
        const r = await promote();
        const out = JSON.parse(r.stdout) as { passed: boolean; reason: string };
        expect(r.code).toBe(1);
        expect(out.reason).toMatch(
          /^staging's live version 1\.0\.0 does not answer its health check through http/,
        );
      } finally {
        execFileSync(DOCKER, ['start', `${apps.staging}-${live}`], { stdio: 'ignore' });
      }
      const back = await goShip(['promote', 'production', 'staging', '--workspace', repo], {
        env: processEnv,
      });
      expect(back.code).not.toBe(0);
      expect(back.stdout + back.stderr).toContain(
        'Cannot promote production → staging: staging is not fed by promotion (.go-ship.yml: staging: branch develop).',
      );
      expect(await status('production')).toMatchObject({
        version: '1.0.0',
        'image-digest': digests['1.0.0'],
      });
    }, 300_000);
  },
);
