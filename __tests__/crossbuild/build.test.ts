import { binaryNameOf } from '../../src/crossbuild/build.js';
import { planShards } from '../../src/crossbuild/manifest.js';
import { renderTemplate } from '../../src/crossbuild/template.js';
import { parseTargets, type DistTarget } from '../../src/go/targets.js';

const dist: DistTarget[] = [
  'linux/amd64',
  'linux/arm64',
  'darwin/amd64',
  'darwin/arm64',
  'windows/amd64',
  'linux/386',
].map((t) => ({ GOOS: t.split('/')[0], GOARCH: t.split('/')[1], CgoSupported: true, FirstClass: true }));

test('binaries are named as go build names them, skipping a /vN suffix', () => {
  expect(binaryNameOf('example.com/tool')).toBe('tool');
  expect(binaryNameOf('example.com/tool/v2')).toBe('tool');
  expect(binaryNameOf('example.com/tool/cmd/v2ray')).toBe('v2ray');
});

test('templates: fields are substituted, `{{ .Field }}` spacing allowed, unknown fields and functions refused by name', () => {
  const f = { Version: '1.0.0', Commit: 'abc' };
  expect(renderTemplate('ldflags', '-X v={{.Version}} -X c={{ .Commit }}', f)).toBe('-X v=1.0.0 -X c=abc');
  expect(() => renderTemplate('ldflags', '{{.Dat}}', f)).toThrow('`.Dat` is not a template field');
  expect(() => renderTemplate('ldflags', '{{.Dat}}', f)).toThrow('fields `.Version`, `.Commit`');
  expect(() => renderTemplate('ldflags', '{{ .Version | lower }}', f)).toThrow(
    '`lower` is not a function go-ship knows',
  );
});

test('shards: every target exactly once, costs balanced, no empty shard', () => {
  const targets = parseTargets(
    dist.map((d) => `${d.GOOS}/${d.GOARCH}`),
    dist,
  );
  for (const n of [1, 2, 3, 6, 10]) {
    const shards = planShards(targets, n, false);
    expect(shards).toHaveLength(Math.min(n, targets.length));
    const all = shards.flatMap((s) => s.targets.split(','));
    expect(all.sort()).toEqual(targets.map((t) => t.name).sort());
    const sizes = shards.map((s) => s.targets.split(',').length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  }
});
