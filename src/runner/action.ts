import { UserError } from './errors.js';
import type { Summary } from './summary.js';
import { appendSummary, setFailed } from './workflow.js';

/**
 * The bundle entry's wrapper: a UserError fails the step with its message alone (it already says how
 * to fix it); anything else is a go-ship bug and keeps its stack so it can be reported.
 */
export async function runAction(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (e) {
    if (e instanceof UserError) setFailed(e.message);
    else if (e instanceof Error)
      setFailed(`${e.stack ?? e.message}\n(This is a go-ship bug; please report it.)`);
    else setFailed(String(e));
  }
}

/** Appends to the step summary when the runner provides one (GitHub and the go-ship CLI both do). */
export function writeSummary(summary: Summary): void {
  if (!summary.isEmpty()) appendSummary(summary.toString());
}
