import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { tempDir } from './cli.js';
import { freePort, waitForHttp } from './net.js';

/** Debian's Docker client: a newer one earlier on PATH may refuse BuildKit builds without buildx. */
export const DOCKER = '/usr/bin/docker';
export const BUILDER_IMAGE = 'local/golang:test';

/**
 * A Go builder image made locally (no image can be pulled here): the machine's GOROOT at
 * /usr/local/go and a static busybox for the shell, imported with `docker import`. Made once.
 */
export async function ensureBuilderImage(): Promise<string> {
  try {
    execFileSync(DOCKER, ['image', 'inspect', BUILDER_IMAGE], { stdio: 'ignore' });
    return BUILDER_IMAGE;
  } catch {
    // not there yet
  }
  const rootfs = join(tempDir('builder'), 'rootfs');
  for (const d of ['bin', 'tmp', 'root', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
  symlinkSync('busybox', join(rootfs, 'bin', 'sh'));
  const goroot = execFileSync('go', ['env', 'GOROOT'], { encoding: 'utf8' }).trim();
  const tar = spawn('tar', [
    '-c',
    '-C',
    rootfs,
    '.',
    '-C',
    dirname(goroot),
    '--transform',
    `s,^${basename(goroot)},usr/local/go,`,
    basename(goroot),
  ]);
  const imp = spawn(DOCKER, [
    'import',
    '-c',
    'ENV PATH=/usr/local/go/bin:/bin',
    '-c',
    'ENV GOTOOLCHAIN=local',
    '-',
    BUILDER_IMAGE,
  ]);
  tar.stdout.pipe(imp.stdin);
  const code = await new Promise<number | null>((resolve) => imp.on('close', resolve));
  if (code !== 0) throw new Error(`docker import of ${BUILDER_IMAGE} failed (${code})`);
  return BUILDER_IMAGE;
}

/**
 * Pulls an image of hello-svc, runs it on the host network (no bridge here) and returns its
 * /version answer; the container and the pulled image are removed afterwards.
 */
export async function versionOf(ref: string): Promise<unknown> {
  execFileSync(DOCKER, ['pull', '-q', ref]);
  const port = await freePort();
  const id = execFileSync(
    DOCKER,
    ['run', '-d', '--rm', '--network', 'host', ref, '-addr', `127.0.0.1:${port}`],
    {
      encoding: 'utf8',
    },
  ).trim();
  try {
    await waitForHttp(`http://127.0.0.1:${port}/version`, 10_000);
    return await (await fetch(`http://127.0.0.1:${port}/version`)).json();
  } finally {
    execFileSync(DOCKER, ['rm', '-f', id]);
    execFileSync(DOCKER, ['rmi', ref]);
  }
}

/**
 * What `skopeo inspect` says of an image in a registry (TLS verification off: the test registry is
 * plain HTTP): its raw manifest or index, one platform's config (`arch`), or its digest.
 */
export function skopeoInspect(
  ref: string,
  what: { raw: true } | { config: string } | { digest: true },
  // JSON as skopeo prints it; each test reads the fields it checks.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): any {
  const args = ['inspect', '--tls-verify=false'];
  if ('raw' in what) args.push('--raw');
  else if ('config' in what) args.push('--override-os', 'linux', '--override-arch', what.config, '--config');
  else args.push('--format', '{{.Digest}}');
  const out = execFileSync('skopeo', [...args, ref.includes(':/') ? ref : `docker://${ref}`], {
    encoding: 'utf8',
  });
  return 'digest' in what ? { digest: out.trim() } : JSON.parse(out);
}
