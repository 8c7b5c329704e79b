import { selectStore } from '../../cache/store.js';
import { type RestoreReport, restoreGoCaches, restoreOnlyReason, saveCaches } from '../../go/caches.js';
import { installGo } from '../../go/installer.js';
import { distList, parseTargets } from '../../go/targets.js';
import { ToolCache } from '../../go/toolcache.js';
import { writeSummary } from '../../runner/action.js';
import { runCommand } from '../../runner/command.js';
import { formatBytes, formatDuration, log } from '../../runner/log.js';
import * as workflow from '../../runner/workflow.js';
import { getInputs } from './inputs.js';
import { installSummary, savedSummary } from './summary.js';
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
    ? await log.group('Restore Go caches', () =>
        restoreGoCaches(
          config.workspace,
          config.cacheDependencyPath,
          { goroot: result.goroot, goVersion: result.version.semver, ...config.platform },
          targets.map((t) => t.name),
          restoreOnlyReason(config.cacheSave, {
            event: process.env.GITHUB_EVENT_NAME,
            ref: process.env.GITHUB_REF,
            defaultBranch: workflow.defaultBranch(),
          }),
        ),
      )
    : { skipped: 'cache: false' };
  if (caches.report) workflow.saveState(CACHE_STATE, JSON.stringify(caches.report));
  const modules = caches.report?.caches.find((c) => c.kind === 'modules');
  const build = caches.report?.caches.find((c) => c.kind === 'build');
  workflow.setOutput('cache-hit', String(!!modules && modules.matchedKey === modules.key));
  workflow.setOutput('build-cache-key', build?.matchedKey ?? '');
  await writeSummary(installSummary(config, result, targets, caches));
}

/** Where main leaves the restore report for the post step. */
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
  await writeSummary(savedSummary(results));
}
