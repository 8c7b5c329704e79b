import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { renderTemplate, type TemplateFields } from '../../src/crossbuild/template.js';
import { hasCommand, describeWith } from '../helpers/components.js';
import { ROOT } from '../helpers/cli.js';

// Fields as GoReleaser fills them for an archive of linux/arm/6 (internal/tmpl: Commit is the full
// hash, Major/CommitTimestamp are numbers, Env is a map).
const arm: TemplateFields = {
  ProjectName: 'hello',
  Version: '1.4.0-rc.1',
  Tag: 'v1.4.0-rc.1',
  Commit: '0123456789abcdef0123456789abcdef01234567',
  ShortCommit: '0123456',
  CommitDate: '2026-11-30T12:00:00Z',
  CommitTimestamp: 1795953600,
  Major: 1,
  Prerelease: 'rc.1',
  IsSnapshot: false,
  Os: 'linux',
  Arch: 'arm',
  Arm: '6',
  Amd64: '',
  Mips: '',
  Binary: 'hello',
  Env: { GITHUB_SHA: 'deadbeef', EMPTY: '' },
};
const amd64: TemplateFields = { ...arm, Arch: 'amd64', Arm: '', Amd64: 'v1', Os: 'darwin' };
const amd64v3: TemplateFields = { ...amd64, Os: 'windows', Amd64: 'v3', IsSnapshot: true };

// GoReleaser's own defaults and the shapes its docs and `goreleaser init` write, plus edge cases.
const TEMPLATES = [
  // archives.name_template default (GoReleaser v2)
  '{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}{{ with .Arm }}v{{ . }}{{ end }}{{ with .Mips }}_{{ . }}{{ end }}{{ if not (eq .Amd64 "v1") }}{{ .Amd64 }}{{ end }}',
  // goreleaser init's archives.name_template
  `{{ .ProjectName }}_
  {{- title .Os }}_
  {{- if eq .Arch "amd64" }}x86_64
  {{- else if eq .Arch "386" }}i386
  {{- else }}{{ .Arch }}{{ end }}
  {{- if .Arm }}v{{ .Arm }}{{ end }}`,
  // default ldflags and a checksum name
  '-s -w -X main.version={{.Version}} -X main.commit={{.Commit}} -X main.date={{.CommitDate}} -X main.builtBy=goreleaser',
  '{{ .ProjectName }}_{{ .Version }}_checksums.txt',
  // snapshot.version_template shapes
  '{{ incpatch .Version }}-next',
  '{{ .Version }}-SNAPSHOT-{{ .ShortCommit }}',
  '{{ incminor .Tag }}-dev+{{ .ShortCommit }}',
  '{{ incmajor .Version }}',
  // pipelines, functions, literals
  '{{ .Os | title }}-{{ .Arch | toupper }}-{{ tolower "MiXeD" }}',
  '{{ replace .Version "." "_" }} {{ trimprefix .Tag "v" }} {{ trimsuffix .ProjectName "lo" }} {{ trim "  x  " }}',
  '{{ if and .Arm (ne .Os "windows") }}arm{{ .Arm }}{{ else }}other{{ end }}',
  '{{ if or .IsSnapshot .Prerelease }}pre{{ end }}|{{ if eq .Major 1 }}one{{ end }}|{{ .CommitTimestamp }}',
  '{{ if contains .Version "rc" }}candidate{{ end }} {{ .Env.GITHUB_SHA }} [{{ .Env.EMPTY }}]',
  '{{ with .Env.EMPTY }}set{{ else }}unset{{ end }} {{ if eq .Os "linux" "darwin" }}unix{{ end }}',
  '{{- /* a comment */ -}}  {{ .Binary }}  {{- " trimmed" }}',
  '{{ `raw "quoted"` }} {{ (print .Os "/" .Arch) }}',
  // errors: both must refuse
  '{{ .Env.MISSING }}',
  '{{ .NoSuchField }}',
  '{{ if .Arm }}unclosed',
  '{{ eq .Major "1" }}',
];

describeWith('go', hasCommand('go', ['version']), "templates agree with Go's text/template", () => {
  test.each([
    ['linux/arm/6', arm],
    ['darwin/amd64', amd64],
    ['windows/amd64/v3 snapshot', amd64v3],
  ])(
    '%s: every template renders as Go renders it, or both refuse it',
    (_label, fields) => {
      const jobs = TEMPLATES.map((template) => ({ template, fields }));
      const go = JSON.parse(
        execFileSync('go', ['run', '.'], {
          cwd: join(ROOT, '__tests__', 'fixtures', 'gotemplate'),
          input: JSON.stringify(jobs),
          encoding: 'utf8',
          env: { ...process.env, GOFLAGS: '-mod=mod' },
        }),
      ) as { out?: string; err?: string }[];
      const ours = TEMPLATES.map((t) => {
        try {
          return { out: renderTemplate('name_template', t, fields) };
        } catch (e) {
          return { err: (e as Error).message };
        }
      });
      const both = TEMPLATES.map((t, i) => ({
        template: t,
        go: go[i].out ?? 'ERROR',
        ours: ours[i].out ?? 'ERROR',
      }));
      expect(both.filter((b) => b.go !== b.ours)).toEqual([]);
      // Sanity: the comparison covers successes and refusals, not errors on both sides throughout.
      expect(both.filter((b) => b.go !== 'ERROR').length).toBeGreaterThanOrEqual(TEMPLATES.length - 4);
      expect(both.slice(-4).every((b) => b.go === 'ERROR')).toBe(true);
    },
    120_000,
  );
});

test('a refusal names the field, the function or the missing variable', () => {
  expect(() => renderTemplate('archives.name_template', '{{ .Env.MISSING }}', arm)).toThrow(
    '`.Env.MISSING` is not set (the environment has no such variable)',
  );
  expect(() => renderTemplate('archives.name_template', '{{ .Os | upper }}', arm)).toThrow(
    '`upper` is not a function go-ship knows',
  );
  expect(() => renderTemplate('archives.name_template', '{{ range .Env }}x{{ end }}', arm)).toThrow(
    '`{{range}}` is not supported',
  );
  expect(() => renderTemplate('archives.name_template', '{{ .Nope }}', arm)).toThrow(
    /fields `\.ProjectName`, `\.Version`.*`\.Nope` is not a template field/s,
  );
});
