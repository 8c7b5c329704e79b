import { runCommand } from '../runner/command.js';
import { UserError } from '../runner/errors.js';
import { GlobSet, findFiles } from '../runner/glob.js';
import { log } from '../runner/log.js';
import { type Profile, type ProfileSource, parseProfiles } from './profile.js';
import { type CoverageReport, buildReport, narrowReport } from './report.js';
import { localModules, repoPath, sourceFacts } from './source.js';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** A file left out of the gated figures, and why: the `exclude` globs, or generated code. */
export interface Excluded {
  file: string;
  why: string;
}

export interface Coverage {
  sources: ProfileSource[];
  /** The profile without the excluded files: what patch coverage judges. */
  kept: Profile;
  /** Each profile file's path in the module (undefined when its source is not here). */
  paths: Map<string, string | undefined>;
  /** The whole profile: what `go tool cover -func` and `go test -cover` print. */
  whole: CoverageReport;
  /** After exclusions: what the gates judge. */
  report: CoverageReport;
  excluded: Excluded[];
}

/**
 * Reads the profiles (`profiles` globs and GOCOVERDIR directories) and computes the coverage of
 * the module in `workspace` as `go tool cover -func` does, and again after exclusions. Exclusions
 * apply before any gated total is computed; the whole profile's figures stay beside them.
 */
export async function collectCoverage(
  workspace: string,
  o: { profiles: string[]; expectedProfiles?: number; exclude: string[]; excludeGenerated: boolean },
): Promise<Coverage> {
  const sources = await loadProfiles(workspace, o.profiles, o.expectedProfiles);
  const profile = parseProfiles(sources);
  log.info(`Read ${sources.length} profile(s), mode ${profile.mode}: ${sources.map((s) => s.name).join(', ')}`);
  const modules = localModules(workspace);
  const source = sourceFacts(workspace);
  const paths = new Map<string, string | undefined>();
  for (const file of profile.files.keys())
    paths.set(
      file,
      repoPath(file, modules, workspace, (p) => source(p) !== undefined),
    );
  const exclude = new GlobSet(o.exclude, 'exclude');
  const excluded: Excluded[] = [];
  const kept: Profile = { mode: profile.mode, files: new Map() };
  for (const [file, blocks] of profile.files) {
    const p = paths.get(file);
    if (!exclude.empty && exclude.matches(p ?? file)) excluded.push({ file, why: 'exclude' });
    else if (o.excludeGenerated && p && source(p)!.generated) excluded.push({ file, why: 'generated' });
    else kept.files.set(file, blocks);
  }
  const whole = buildReport(profile, (file) => {
    const p = paths.get(file);
    return p ? source(p)!.funcs : undefined;
  });
  const report = excluded.length ? narrowReport(whole, (file) => kept.files.has(file)) : whole;
  if (report.missingSource.length)
    log.warning(
      `No source found for ${report.missingSource.length} file(s) (${report.missingSource.slice(0, 3).join(', ')}${report.missingSource.length > 3 ? ', …' : ''}); their function totals count all blocks. Run coverage-gate in the module's checkout (working-directory).`,
    );
  return { sources, kept, paths, whole, report, excluded };
}

/** Profile files matched by the globs, and GOCOVERDIR directories converted with `go tool covdata`. */
async function loadProfiles(workspace: string, profiles: string[], expected?: number): Promise<ProfileSource[]> {
  const sources: ProfileSource[] = [];
  const dirs = profiles.filter((p) => {
    const full = join(workspace, p);
    return existsSync(full) && statSync(full).isDirectory();
  });
  const globs = profiles.filter((p) => !dirs.includes(p));
  // Plain file names need no walk over the checkout (thousands of files in a big module).
  const literal = globs.every((p) => !/[*?{!]/.test(p));
  const files = literal
    ? globs.filter((p) => existsSync(join(workspace, p)) && statSync(join(workspace, p)).isFile())
    : findFiles(workspace, globs);
  for (const file of files) sources.push({ name: file, path: join(workspace, file) });
  for (const dir of dirs) {
    const out = join(mkdtempSync(join(process.env.RUNNER_TEMP ?? '/tmp', 'covdata-')), 'profile.out');
    await runCommand('go', ['tool', 'covdata', 'textfmt', `-i=${join(workspace, dir)}`, `-o=${out}`]);
    sources.push({ name: `GOCOVERDIR ${dir}`, path: out });
  }
  if (!sources.length)
    throw new UserError(
      `Input \`profiles\` got \`${profiles.join(', ')}\`; nothing under ${workspace} matches. It accepts globs of coverprofiles (\`go test -coverprofile=coverage.out\`) or GOCOVERDIR directories. Check that the test step wrote them, and that shards' artifacts were downloaded.`,
    );
  if (expected !== undefined && sources.length !== expected)
    throw new UserError(
      `Input \`expected-profiles\` is ${expected}, but ${sources.length} matched (${sources.map((s) => s.name).join(', ')}). The gate will not judge a partial set of shards: check that every shard uploaded its profile.`,
    );
  return sources;
}
