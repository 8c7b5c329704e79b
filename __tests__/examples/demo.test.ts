import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';
import { DOCKER } from '../helpers/docker.js';

/** `npm run demo`, the README's first command, on a machine with every component. */
describeWith(
  'go, git, docker-registry, a Docker engine and nginx',
  hasCommand('go', ['version']) &&
    hasCommand('git') &&
    hasCommand('sh', ['-c', 'command -v docker-registry']) &&
    hasCommand(DOCKER, ['version']) &&
    hasCommand('nginx', ['-v']),
  'the demo',
  () => {
    test('it deploys, prints a table that fits a terminal, and leaves nothing behind', async () => {
      const tmp = join(tempDir('demo'), 'tmp');
      mkdirSync(tmp);
      const images = () =>
        execFileSync(DOCKER, ['images', '--format', '{{.Repository}}'], { encoding: 'utf8' })
          .split('\n')
          .filter((r) => r.includes('go-ship-demo'));
      const containers = () =>
        execFileSync(DOCKER, ['ps', '-a', '--format', '{{.Names}}'], { encoding: 'utf8' })
          .split('\n')
          .filter((n) => n.startsWith('hello-demo-'));
      let out = '';
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn(process.execPath, [join(ROOT, 'scripts', 'demo.mjs')], {
          cwd: ROOT,
          env: { ...process.env, TMPDIR: tmp, NO_COLOR: '1' },
        });
        child.stdout.on('data', (b) => (out += b));
        child.stderr.on('data', (b) => (out += b));
        child.on('error', reject);
        child.on('close', (c) => resolve(c ?? -1));
      });
      expect({ code, tail: code ? out.slice(-3000) : '' }).toEqual({ code: 0, tail: '' });
      const table = out.slice(out.indexOf('What the demo produced')).split('\n').slice(1).filter(Boolean);
      expect(table[0]).toMatch(/^ {2}stage\s+result$/);
      expect(table.find((l) => l.startsWith('  deploy-bluegreen'))).toMatch(/(blue|green) live \(switched\)/);
      expect(out).toMatch(/\/version answers \d+\.\d+\.\d+ \(commit [0-9a-f]{7}\)/);
      expect(Math.max(...table.map((l) => [...l].length))).toBeLessThanOrEqual(100);
      // No line a terminal has to wrap many times (JSON outputs are cut, --json prints them whole).
      expect(Math.max(...out.split('\n').map((l) => [...l].length))).toBeLessThanOrEqual(250);
      // Nothing left: no scratch directory, no registry data, no image, no container, no process.
      expect(readdirSync(tmp)).toEqual([]);
      expect(images()).toEqual([]);
      expect(containers()).toEqual([]);
      expect(hasCommand('pgrep', ['-f', `${tmp}/go-ship-demo-`])).toBe(false);
    }, 600_000);
  },
);
