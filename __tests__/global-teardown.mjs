import { rmSync } from 'node:fs';

export default function teardown() {
  const dir = process.env.GO_SHIP_TEST_TMP;
  if (dir && process.env.GO_SHIP_KEEP_TEST_TMP !== '1') rmSync(dir, { recursive: true, force: true });
}
