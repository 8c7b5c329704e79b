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
