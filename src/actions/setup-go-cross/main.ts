import { noStoreReason, selectStore } from '../../cache/store.js';
import {
  type RestoreReport,
  goCacheDirs,
  hashFiles,
  planCaches,
  restoreCaches,
  saveCaches,
} from '../../go/caches.js';
import { type InstallResult, installGo } from '../../go/installer.js';
import { type Target, distList, parseTargets } from '../../go/targets.js';
import { ToolCache } from '../../go/toolcache.js';
import { writeSummary } from '../../runner/action.js';
import { runCommand } from '../../runner/command.js';
import { UserError } from '../../runner/errors.js';
import { findFiles } from '../../runner/glob.js';
import { formatBytes, formatDuration, log } from '../../runner/log.js';
import { Summary } from '../../runner/summary.js';
import * as workflow from '../../runner/workflow.js';
import { type Config, getInputs } from './inputs.js';
import { join } from 'node:path';

export async function run(): Promise<void> {
  const config = getInputs();
  log.info(`Go version: ${config.reason}`);

  const result = await log.group(
    `Install Go (${config.spec.text}) for ${config.platform.goos}/${config.platform.goarch}`,
    () => installGo({ ...config, toolCache: new ToolCache(config.toolCacheRoot) }),
  );
  for (const note of result.notes) log.warning(note);
  const go = join(result.goroot, 'bin', 'go');
  log.info(
    result.from === 'tool-cache'
      ? `${result.version.name} found in the tool cache: ${result.goroot}`
      : `${result.version.name} installed from the ${result.from === 'dl' ? 'download site' : 'module proxy'} in ${formatDuration(result.timings.downloadMs + result.timings.extractMs)}; ${result.verification}`,
  );

  // Targets are checked against the toolchain just installed: its `go tool dist list` is the truth.
  const targets = config.targets.length ? parseTargets(config.targets, await distList(go)) : [];
  const gopath = (
    await runCommand(go, ['env', 'GOPATH'], { env: { GOTOOLCHAIN: 'local', GOROOT: result.goroot } })
  ).stdout.trim();

  workflow.addPath(join(result.goroot, 'bin'));
  if (gopath) workflow.addPath(join(gopath, 'bin'));
  workflow.exportVariable('GOROOT', result.goroot);
  if (gopath) workflow.exportVariable('GOPATH', gopath);
  if (config.pinToolchain) workflow.exportVariable('GOTOOLCHAIN', 'local');

  workflow.setOutput('go-version', result.version.semver);
  workflow.setOutput('go-root', result.goroot);
  workflow.setOutput('go-source', result.from);
  workflow.setOutput('tool-cache-hit', String(result.from === 'tool-cache'));
  workflow.setOutput('targets', JSON.stringify(targets));

  const caches = config.cache
    ? await log.group('Restore Go caches', () => restoreGoCaches(config, result, targets, go))
    : { skipped: 'cache: false' };
  const modules = caches.report?.caches.find((c) => c.kind === 'modules');
  const build = caches.report?.caches.find((c) => c.kind === 'build');
  workflow.setOutput('cache-hit', String(!!modules && modules.matchedKey === modules.key));
  workflow.setOutput('build-cache-key', build?.matchedKey ?? '');
  await writeSummary(summarize(config, result, targets, caches));
}

interface CacheOutcome {
  report?: RestoreReport;
  skipped?: string;
}

async function restoreGoCaches(
  config: Config,
  result: InstallResult,
  targets: Target[],
  go: string,
): Promise<CacheOutcome> {
  const store = selectStore();
  if (!store) {
    const why = noStoreReason();
    log.info(`Caching skipped: ${why}.`);
    return { skipped: why };
  }
  const files = findFiles(config.workspace, config.cacheDependencyPath.patterns);
  if (config.cacheDependencyPath.explicit && files.length === 0) {
    throw new UserError(
      `Input \`cache-dependency-path\` got \`${config.cacheDependencyPath.patterns.join(', ')}\`; no file under ${config.workspace} matches. It accepts globs relative to the workspace, such as \`go.sum\` or \`services/**/go.sum\`. Fix the pattern, or remove the input to hash every go.sum.`,
    );
  }
  if (!files.length)
    log.info('No go.sum in the workspace: no module cache (there are no dependencies to keep).');
  else log.info(`Module cache keyed on ${files.join(', ')}`);
  const env = { GOTOOLCHAIN: 'local', GOROOT: result.goroot };
  const plans = planCaches(
    {
      goos: config.platform.goos,
      goarch: config.platform.goarch,
      image: process.env.ImageOS,
      goVersion: result.version.semver,
      targets: targets.map((t) => t.name),
      cgo: process.env.CGO_ENABLED ?? 'default',
      depsHash: files.length ? hashFiles(config.workspace, files) : undefined,
      commit: process.env.GITHUB_SHA,
    },
    await goCacheDirs(go, env),
  );
  const report = await restoreCaches(store, plans);
  workflow.saveState(CACHE_STATE, JSON.stringify(report));
  return { report };
}

const CACHE_STATE = 'go-ship-cache';

/** The post step: trim and save the caches that main restored (or found empty). */
export async function post(): Promise<void> {
  const raw = workflow.getState(CACHE_STATE);
  if (!raw) return;
  const store = selectStore();
  if (!store) return;
  const results = await log.group('Save Go caches', () =>
    saveCaches(store, JSON.parse(raw) as RestoreReport),
  );
  for (const r of results) {
    const trim = r.trim
      ? `; trimmed ${r.trim.removed} unused entries (${formatBytes(r.trim.removedBytes)}), kept ${r.trim.kept}`
      : '';
    log.info(
      `${r.kind} cache ${r.key}: ${r.reason}${r.saved ? ` (${formatBytes(r.bytes)} in ${formatDuration(r.ms)})` : ''}${trim}`,
    );
  }
  await writeSummary(
    new Summary().heading('setup-go-cross: caches saved', 3).table(
      ['cache', 'key', 'result', 'size', 'time', 'trimmed'],
      results.map((r) => [
        r.kind,
        `\`${r.key}\``,
        r.reason,
        r.saved ? formatBytes(r.bytes) : '',
        formatDuration(r.ms),
        r.trim ? `${r.trim.removed} entries, ${formatBytes(r.trim.removedBytes)}` : '',
      ]),
    ),
  );
}

function summarize(config: Config, r: InstallResult, targets: Target[], caches: CacheOutcome): Summary {
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
        ['GOTOOLCHAIN', config.pinToolchain ? 'local (pin-toolchain: true)' : 'left as is'],
      ],
    );
  if (r.notes.length) s.list(r.notes);
  if (targets.length) {
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
  }
  if (caches.report) {
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
  } else s.list([`Caching: skipped (${caches.skipped}).`]);
  return s;
}
