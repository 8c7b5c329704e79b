import * as tc from '@actions/tool-cache';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ToolCache } from '../../src/go/toolcache.js';
import { tempDir } from '../helpers/cli.js';
import { quietly } from '../helpers/quiet.js';

/**
 * go-ship installs Go with its own atomic rename (tool-cache's cacheDir copies the tree) but in
 * @actions/tool-cache's layout, so each finds what the other installed: actions/setup-go after
 * go-ship, and go-ship after setup-go or a runner image's preinstalled Go.
 */
describe("the tool cache is @actions/tool-cache's layout", () => {
  const saved = process.env.RUNNER_TOOL_CACHE;
  let root: string;
  beforeEach(() => {
    root = tempDir('toolcache');
    process.env.RUNNER_TOOL_CACHE = root;
  });
  afterAll(() => {
    process.env.RUNNER_TOOL_CACHE = saved;
  });

  test("what go-ship installs, tool-cache's find and findAllVersions see", async () => {
    const dir = await new ToolCache(root).install('go', '1.22.12', 'x64', async (staging) => {
      const goroot = join(staging, 'go');
      mkdirSync(join(goroot, 'bin'), { recursive: true });
      writeFileSync(join(goroot, 'VERSION'), 'go1.22.12');
      return goroot;
    });
    // (quietly: tool-cache reports its search as ::debug:: lines on stdout)
    const found = await quietly(async () => ({
      exact: tc.find('go', '1.22.12', 'x64'),
      range: tc.find('go', '1.22.x', 'x64'),
      all: tc.findAllVersions('go', 'x64'),
      minor: tc.find('go', '1.22', 'x64'),
    }));
    expect(found).toEqual({ exact: dir, range: dir, all: ['1.22.12'], minor: dir });
    expect(readFileSync(join(found.minor, 'VERSION'), 'utf8')).toBe('go1.22.12');
  });

  test("what tool-cache's cacheDir installs, go-ship finds; a folder without its marker it does not", async () => {
    const src = tempDir('toolcache-src');
    writeFileSync(join(src, 'VERSION'), 'go1.21.13');
    const dir = await quietly(() => tc.cacheDir(src, 'go', '1.21.13', 'x64'));
    const cache = new ToolCache(root);
    expect(cache.find('go', '1.21.13', 'x64')).toBe(dir);
    mkdirSync(join(root, 'go', '1.20.14', 'x64'), { recursive: true });
    expect(cache.versions('go', 'x64')).toEqual(['1.21.13']);
    expect(await quietly(async () => tc.findAllVersions('go', 'x64'))).toEqual(['1.21.13']);
  });
});
