import type { CacheOutcome, SaveResult } from '../../go/caches.js';
import type { InstallResult } from '../../go/installer.js';
import type { Target } from '../../go/targets.js';
import { formatBytes, formatDuration } from '../../runner/log.js';
import { Summary } from '../../runner/summary.js';
import type { Config } from './inputs.js';

export function installSummary(
  config: Pick<Config, 'baseUrl' | 'platform' | 'reason' | 'pinToolchain'>,
  r: InstallResult,
  targets: Target[],
  caches: CacheOutcome,
): Summary {
  const source = {
    'tool-cache': 'tool cache (no download)',
    dl: `download site ${config.baseUrl}`,
    proxy: 'Go module proxy (GOPROXY)',
  }[r.from];
  const s = new Summary()
    .heading(`setup-go-cross: ${r.version.name}`)
    .table(
      ['', ''],
      [
        ['Go', `${r.version.name} for ${config.platform.goos}/${config.platform.goarch}`],
        ['Why this version', config.reason],
        ['Source', source],
        ['Verified', r.verification],
        ...(r.from === 'tool-cache'
          ? []
          : [
              [
                'Time',
                `resolve ${formatDuration(r.timings.resolveMs)}, download ${formatBytes(r.bytes)} in ${formatDuration(r.timings.downloadMs)}, unpack ${formatDuration(r.timings.extractMs)}`,
              ],
            ]),
        ['GOROOT', r.goroot],
        ['GOTOOLCHAIN', config.pinToolchain ? 'local (pin-toolchain)' : 'left as is (pin-toolchain: false)'],
      ],
    );
  if (r.notes.length) s.list(r.notes);
  if (targets.length)
    s.heading('Targets', 3).table(
      ['target', 'environment', 'first-class', 'cgo'],
      targets.map((t) => [
        t.name,
        Object.entries(t.env)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
        t.firstClass ? 'yes' : 'no',
        t.cgoSupported ? 'yes' : 'no',
      ]),
    );
  if (caches.report)
    s.heading('Caches restored', 3).table(
      ['cache', 'key', 'restored from', 'size', 'time'],
      caches.report.caches.map((c) => [
        c.kind,
        `\`${c.key}\``,
        c.error
          ? `failed: ${c.error}`
          : c.matchedKey
            ? c.matchedKey === c.key
              ? 'exact key'
              : `\`${c.matchedKey}\``
            : 'miss',
        c.restoreBytes ? formatBytes(c.restoreBytes) : '',
        formatDuration(c.restoreMs),
      ]),
    );
  else s.list([`Caching: skipped (${caches.skipped}).`]);
  return s;
}

/** The post step's table: each cache saved (or why not), and what trimming removed. */
export function savedSummary(results: SaveResult[]): Summary {
  return new Summary().heading('setup-go-cross: caches saved', 3).table(
    ['cache', 'key', 'result', 'size', 'time', 'trimmed'],
    results.map((r) => [
      r.kind,
      `\`${r.key}\``,
      r.reason,
      r.saved ? formatBytes(r.bytes) : '',
      formatDuration(r.ms),
      r.trim ? `${r.trim.removed} entries, ${formatBytes(r.trim.removedBytes)}` : '',
    ]),
  );
}
