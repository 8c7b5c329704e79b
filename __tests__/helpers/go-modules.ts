import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zip } from '../../src/archive/archive.js';
import { testRepo } from './git.js';

/**
 * A GOPROXY on disk (`file://` URL) serving modules the test writes, in the layout the go command
 * reads (`<path>/@v/list`, `.info`, `.mod`, `.zip`): real module resolution and go.sum hashes with
 * no network. Each module is `{ path, version, files }`; go.mod is written from the path.
 */
export async function moduleProxy(
  dir: string,
  modules: { path: string; version: string; files: Record<string, string> }[],
): Promise<string> {
  for (const m of modules) {
    const at = join(dir, m.path, '@v');
    mkdirSync(at, { recursive: true });
    const gomod = `module ${m.path}\n\ngo 1.22\n`;
    writeFileSync(join(at, 'list'), `${m.version}\n`);
    writeFileSync(
      join(at, `${m.version}.info`),
      JSON.stringify({ Version: m.version, Time: '2026-01-02T03:04:05Z' }),
    );
    writeFileSync(join(at, `${m.version}.mod`), gomod);
    const files = { 'go.mod': gomod, ...m.files };
    const entries = Object.entries(files).map(([name, text]) => ({
      name: `${m.path}@${m.version}/${name}`,
      data: Buffer.from(text),
      executable: false,
    }));
    writeFileSync(
      join(at, `${m.version}.zip`),
      await zip(entries, Date.parse('2026-01-02T03:04:05Z') / 1000),
    );
  }
  return `file://${dir}`;
}

/**
 * A Go vulnerability database on disk in the documented layout (go.dev/doc/security/vuln/database:
 * index/db.json, index/modules.json, index/vulns.json, ID/<id>.json), for govulncheck's -db.
 */
export function vulnDb(
  dir: string,
  vulns: { id: string; module: string; fixed: string; symbols: string[]; summary: string }[],
): string {
  const modified = '2026-11-01T00:00:00Z';
  mkdirSync(join(dir, 'index'), { recursive: true });
  mkdirSync(join(dir, 'ID'), { recursive: true });
  writeFileSync(join(dir, 'index', 'db.json'), JSON.stringify({ modified }));
  const modules = [...new Set(vulns.map((v) => v.module))].map((path) => ({
    path,
    vulns: vulns.filter((v) => v.module === path).map((v) => ({ id: v.id, modified, fixed: v.fixed })),
  }));
  writeFileSync(join(dir, 'index', 'modules.json'), JSON.stringify(modules));
  writeFileSync(
    join(dir, 'index', 'vulns.json'),
    JSON.stringify(vulns.map((v) => ({ id: v.id, modified, aliases: [] }))),
  );
  for (const v of vulns)
    writeFileSync(
      join(dir, 'ID', `${v.id}.json`),
      JSON.stringify({
        schema_version: '1.3.1',
        id: v.id,
        modified,
        published: modified,
        summary: v.summary,
        details: v.summary,
        affected: [
          {
            package: { name: v.module, ecosystem: 'Go' },
            ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: v.fixed.replace(/^v/, '') }] }],
            ecosystem_specific: { imports: [{ path: v.module, symbols: v.symbols }] },
          },
        ],
        database_specific: { url: `https://pkg.go.dev/vuln/${v.id}` },
      }),
    );
  return dir;
}

/**
 * A committed app (`example.com/<name>`, main calls greet.Hello) that requires the fixture module
 * example.com/greet v1.4.2 (Hello and Bye) from a file GOPROXY: go.sum written by `go mod tidy`.
 * `env` is what every go command (and build-matrix) needs to resolve it with no network.
 */
export async function greetApp(
  root: string,
  name: string,
): Promise<{ dir: string; git: (...args: string[]) => string; env: Record<string, string>; h1: string }> {
  const proxy = await moduleProxy(join(root, 'proxy'), [
    {
      path: 'example.com/greet',
      version: 'v1.4.2',
      files: {
        'greet.go':
          'package greet\n\nfunc Hello() string { return "hello" }\n\nfunc Bye() string { return "bye" }\n',
      },
    },
  ]);
  const env = { GOPROXY: proxy, GOSUMDB: 'off', GOFLAGS: '-mod=mod', GOMODCACHE: join(root, 'modcache') };
  const { dir, git } = testRepo(join(root, name), {
    files: {
      'go.mod': `module example.com/${name}\n\ngo 1.22\n\nrequire example.com/greet v1.4.2\n`,
      'main.go':
        'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/greet"\n)\n\nfunc main() { fmt.Println(greet.Hello()) }\n',
      '.gitignore': '/dist/\n',
    },
  });
  execFileSync('go', ['mod', 'tidy'], { cwd: dir, env: { ...process.env, ...env } });
  git('add', '-A');
  git('commit', '-qm', 'feat: app');
  const h1 = /example\.com\/greet v1\.4\.2 (h1:\S+)/.exec(readFileSync(join(dir, 'go.sum'), 'utf8'))![1];
  return { dir, git, env, h1 };
}
