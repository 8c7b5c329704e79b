import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goShip } from '../__tests__/helpers/cli.js';
import { greetApp } from '../__tests__/helpers/go-modules.js';
import type { BenchReport } from './harness.js';

/** Files and bytes under a directory store (one file per saved entry). */
function tally(dir: string): { entries: number; bytes: number } {
  let entries = 0;
  let bytes = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.isFile() && !e.name.endsWith('.tmp')) {
        entries++;
        bytes += statSync(join(d, e.name)).size;
      }
    }
  };
  walk(dir);
  return { entries, bytes };
}

const BRANCHES = ['main', 'feature/a', 'feature/b'];

/**
 * What 20 pushes on 3 branches leave in the cache store: go-ship saving on every run (`cache-save:
 * always`, what every run did before), go-ship saving on the default branch only (the default now),
 * and actions/setup-go's scheme by its documented key rule (one entry per OS, Go version and go.sum
 * hash, saved only when that key is new), sized as the first run's modules and build caches. Each
 * push changes a source file, as real pushes do; each run starts from an empty GOCACHE, as a fresh
 * runner does, and restores from the store.
 */
export async function bench(runs: number): Promise<BenchReport> {
  const pushes = runs || 20;
  const root = mkdtempSync(join(tmpdir(), 'bench-cache-'));
  const { dir, env: goEnv } = await greetApp(root, 'budget');
  const event = join(root, 'event.json');
  writeFileSync(event, JSON.stringify({ repository: { default_branch: 'main' } }));
  const rows: string[] = [];
  const result: Record<string, { entries: number; bytes: number; firstBytes: number }> = {};
  const offMain: Record<string, number> = {};
  try {
    for (const mode of ['always', 'default-branch']) {
      const store = join(root, `store-${mode}`);
      let firstBytes = 0;
      for (let i = 0; i < pushes; i++) {
        const branch = BRANCHES[i % BRANCHES.length];
        writeFileSync(join(dir, 'push.go'), `package main\n\nconst push = ${i}\n\nvar _ = push\n`);
        const home = join(root, `home-${mode}-${i}`);
        const r = await goShip(
          [
            'setup-go-cross',
            '--workspace',
            dir,
            '--with',
            'go-version-file=go.mod',
            '--with',
            `cache-save=${mode}`,
            '--env',
            `GITHUB_SHA=${(i + 1).toString(16).padStart(12, '0')}${'a'.repeat(28)}`,
            '--env',
            'GITHUB_EVENT_NAME=push',
            '--env',
            `GITHUB_REF=refs/heads/${branch}`,
            '--env',
            `GITHUB_EVENT_PATH=${event}`,
            '--',
            'go',
            'build',
            '-o',
            join(home, 'app'),
            '.',
          ],
          {
            env: {
              ...goEnv,
              GO_SHIP_CACHE_DIR: store,
              GOCACHE: join(home, 'gocache'),
              GOMODCACHE: join(home, 'gomodcache'),
              GOTOOLCHAIN: 'local',
            },
          },
        );
        if (r.code !== 0) throw new Error(`run ${i} (${mode}) failed:\n${r.stderr.slice(-2000)}`);
        if (branch !== 'main' && /build cache \S+: saved/.test(r.stdout))
          offMain[mode] = (offMain[mode] ?? 0) + 1;
        if (i === 0) firstBytes = tally(store).bytes;
        rmSync(home, { recursive: true, force: true });
      }
      result[mode] = { ...tally(store), firstBytes };
    }
    const mb = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
    const setupGo = { entries: 1, bytes: result.always.firstBytes };
    rows.push(
      '| scheme | entries in the store | bytes in the store | build entries saved by runs off main |',
      '| --- | ---: | ---: | ---: |',
      `| go-ship, \`cache-save: always\` (every run saved before) | ${result.always.entries} | ${mb(result.always.bytes)} | ${offMain.always ?? 0} |`,
      `| go-ship, \`cache-save: default-branch\` (the default now) | ${result['default-branch'].entries} | ${mb(result['default-branch'].bytes)} | ${offMain['default-branch'] ?? 0} |`,
      `| actions/setup-go's scheme (key: OS, Go, go.sum hash; saved when new) | ${setupGo.entries} | ${mb(setupGo.bytes)} | 0 (never updated after the first save: later builds recompile what changed since) |`,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return {
    title: `setup-go-cross cache budget: ${pushes} pushes on ${BRANCHES.length} branches`,
    setup: `A module with one dependency (go.sum), ${pushes} pushes cycling over ${BRANCHES.join(', ')}, each changing a source file and running \`go build\` after setup-go-cross on a fresh GOCACHE, with a directory store (GO_SHIP_CACHE_DIR) counting what is saved. actions/setup-go's row follows its documented key rule and is sized as the first run's modules and build entries; its bundle was not run.`,
    series: [],
    ratios: [],
    table: rows.join('\n'),
  };
}
