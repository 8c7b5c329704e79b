import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zip } from '../../src/archive/archive.js';

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
