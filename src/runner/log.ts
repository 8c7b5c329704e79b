import * as workflow from './workflow.js';

/**
 * The one logging surface for domain code. It speaks the runner's workflow commands (::group::,
 * ::warning::, ::add-mask::), which GitHub renders and the go-ship CLI renders for a terminal.
 */
export const log = {
  info: workflow.info,
  debug: workflow.debug,
  warning: (message: string, file?: string): void => workflow.warning(message, file ? { file } : {}),
  error: (message: string): void => workflow.error(message),
  /** Registers a secret so the runner masks it everywhere; call before anything could print it. */
  mask: workflow.setSecret,
  group: workflow.group,
  /**
   * Prints `line()` every `everyMs` until the returned stop is called, so a long step (a cold
   * compile, a rollout) shows it is alive in a log that has nothing else to say.
   */
  heartbeat(everyMs: number, line: () => string): () => void {
    const timer = setInterval(() => workflow.info(line()), everyMs);
    timer.unref();
    return () => clearInterval(timer);
  },
};

/** `1.2s`, `340ms`, `2m05s`: short human durations for progress lines and summaries. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** `1.4 MB` in SI units, as `ls -h --si` and registries print sizes. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = -1;
  do {
    v /= 1000;
    i++;
  } while (v >= 1000 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}
