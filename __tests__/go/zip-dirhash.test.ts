import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hash1 } from '../../src/go/dirhash.js';
import { extractZip, readZip } from '../../src/archive/zip-reader.js';
import { runCommand } from '../../src/runner/command.js';
import { tempDir } from '../helpers/cli.js';
import { describeWith, hasCommand } from '../helpers/components.js';

/** Writes a zip with Python's zipfile, which (unlike `zip`) will store hostile names verbatim. */
async function pyZip(entries: Record<string, string>): Promise<string> {
  const out = join(tempDir('zip'), 'a.zip');
  const script =
    'import sys,zipfile,json\nz=zipfile.ZipFile(sys.argv[1],"w",zipfile.ZIP_DEFLATED)\nfor k,v in json.loads(sys.argv[2]).items(): z.writestr(k,v)\nz.close()';
  await runCommand('python3', ['-c', script, out, JSON.stringify(entries)]);
  return out;
}

describeWith('python3', hasCommand('python3'), 'zip reader', () => {
  test('reads and extracts deflated entries under a prefix, with modes and renames', async () => {
    const zip = await pyZip({
      'm@v1/bin/tool': '#!/bin/sh\n',
      'm@v1/src/_go.mod': 'module std\n',
      'm@v1/README': 'hi',
    });
    const dest = tempDir('unz');
    const hashes = extractZip(readZip(readFileSync(zip)), dest, {
      prefix: 'm@v1/',
      rename: (r) => r.replace(/_go\.mod$/, 'go.mod'),
      mode: (r) => (r.startsWith('bin/') ? 0o755 : 0o644),
    });
    expect(hashes.map((h) => h.name).sort()).toEqual(['m@v1/README', 'm@v1/bin/tool', 'm@v1/src/_go.mod']);
    expect(readFileSync(join(dest, 'src', 'go.mod'), 'utf8')).toBe('module std\n');
    expect(statSync(join(dest, 'bin', 'tool')).mode & 0o777).toBe(0o755);
    expect(statSync(join(dest, 'README')).mode & 0o777).toBe(0o644);
  });

  test.each(['../evil', 'a/../../evil', '/etc/passwd', 'a\\b'])(
    'refuses the unsafe name %j before writing anything',
    async (name) => {
      const zip = await pyZip({ 'ok/file': 'x', [name]: 'x' });
      expect(() => readZip(readFileSync(zip))).toThrow('refusing unsafe path');
    },
  );

  test('a truncated zip is an error, not a partial listing', async () => {
    const zip = await pyZip({ 'a/b': 'x'.repeat(1000) });
    const buf = readFileSync(zip);
    expect(() => readZip(buf.subarray(0, buf.length - 30))).toThrow(/not a zip archive|truncated|corrupt/);
  });
});

describeWith(
  'go (module proxy)',
  hasCommand('go', ['version']),
  'h1: dirhash agrees with the go command',
  () => {
    test('for a module downloaded by go mod download', async () => {
      const mod = 'github.com/google/uuid@v1.6.0';
      const info = JSON.parse(
        (await runCommand('go', ['mod', 'download', '-json', mod], { env: { GOFLAGS: '-mod=mod' } })).stdout,
      );
      const entries = readZip(readFileSync(info.Zip));
      const { createHash } = await import('node:crypto');
      const ours = hash1(
        entries.map((e) => ({ name: e.name, sha256: createHash('sha256').update(e.read()).digest('hex') })),
      );
      expect(ours).toBe(info.Sum);
      expect(readdirSync(info.Dir).length).toBeGreaterThan(0);
    });
  },
);
