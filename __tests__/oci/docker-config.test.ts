import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dockerConfigCredentials } from '../../src/oci/docker-config.js';
import { tempDir } from '../helpers/cli.js';
import { quietly } from '../helpers/quiet.js';

function configDir(content: object | string): string {
  const dir = tempDir('docker-config');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

const auth = (user: string, pass: string) => Buffer.from(`${user}:${pass}`).toString('base64');

describe('registry credentials from a Docker config, as the docker CLI files them', () => {
  test.each([
    ['the host', 'ghcr.io'],
    ['the host with https://', 'https://ghcr.io'],
  ])('auths under %s', async (_what, key) => {
    const dir = configDir({ auths: { [key]: { auth: auth('octo', 'ghp_x:y') } } });
    const got = await quietly(() => dockerConfigCredentials('ghcr.io', { DOCKER_CONFIG: dir }));
    expect(got).toMatchObject({ username: 'octo', password: 'ghp_x:y' });
  });

  test("Docker Hub's legacy key answers for docker.io", async () => {
    const dir = configDir({ auths: { 'https://index.docker.io/v1/': { auth: auth('me', 'pw') } } });
    expect(await quietly(() => dockerConfigCredentials('docker.io', { DOCKER_CONFIG: dir }))).toMatchObject({
      username: 'me',
      password: 'pw',
    });
  });

  test('nothing for another registry, or without a config file', async () => {
    const dir = configDir({ auths: { 'ghcr.io': { auth: auth('octo', 'pw') } } });
    expect(await dockerConfigCredentials('quay.io', { DOCKER_CONFIG: dir })).toBeUndefined();
    expect(await dockerConfigCredentials('ghcr.io', { DOCKER_CONFIG: tempDir('empty') })).toBeUndefined();
  });

  test('a helper that is not installed, or a file that is not JSON, is named with the fix', async () => {
    const helper = configDir({ credsStore: 'nosuchhelper' });
    await expect(dockerConfigCredentials('ghcr.io', { DOCKER_CONFIG: helper })).rejects.toThrow(
      /names the credential helper `nosuchhelper`, but docker-credential-nosuchhelper could not be run/,
    );
    const broken = configDir('{ "auths": ');
    await expect(dockerConfigCredentials('ghcr.io', { DOCKER_CONFIG: broken })).rejects.toThrow(
      /is not valid JSON/,
    );
  });

  // Untrusted input (#29 item 9): `credHelpers: {"ghcr.io": "../../planted"}` ran
  // ./docker-credential-../../planted, a program from the checkout, with the registry name as input.
  test('a helper name with a path is refused, and nothing is run', async () => {
    const work = tempDir('helper-cwd');
    mkdirSync(join(work, 'docker-credential-..'), { recursive: true });
    const ran = join(work, 'ran');
    // `docker-credential-../planted` is the file `planted` in a folder named `docker-credential-..`.
    writeFileSync(
      join(work, 'docker-credential-..', 'planted'),
      `#!/bin/sh\ntouch ${ran}\necho '{"Username":"u","Secret":"s"}'\n`,
      {
        mode: 0o755,
      },
    );
    const dir = configDir({ credHelpers: { 'ghcr.io': '../planted' } });
    const cwd = process.cwd();
    process.chdir(work);
    try {
      await expect(dockerConfigCredentials('ghcr.io', { DOCKER_CONFIG: dir })).rejects.toThrow(
        /names the credential helper "\.\.\/planted", which is not a helper name/,
      );
    } finally {
      process.chdir(cwd);
    }
    expect(existsSync(ran)).toBe(false);
  });
});
