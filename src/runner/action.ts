import * as core from '@actions/core';
import { UserError } from './errors.js';
import type { Summary } from './summary.js';

/**
 * The bundle entry's wrapper: a UserError fails the step with its message alone (it already says how
 * to fix it); anything else is a go-ship bug and keeps its stack so it can be reported.
 */
export async function runAction(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (e) {
    if (e instanceof UserError) core.setFailed(e.message);
    else if (e instanceof Error)
      core.setFailed(`${e.stack ?? e.message}\n(This is a go-ship bug; please report it.)`);
    else core.setFailed(String(e));
  }
}

/** Appends to the step summary when the runner provides one (GitHub and the go-ship CLI both do). */
export async function writeSummary(summary: Summary): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY || summary.isEmpty()) return;
  await core.summary.addRaw(summary.toString()).write();
}
