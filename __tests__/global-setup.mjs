// One temp root per test run (workers inherit GO_SHIP_TEST_TMP): the teardown removes it, so a run
// leaves nothing behind in /tmp (they used to pile up to tens of gigabytes on a long-lived machine).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup() {
  process.env.GO_SHIP_TEST_TMP = mkdtempSync(join(tmpdir(), 'go-ship-tests-'));
}
