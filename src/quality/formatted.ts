import { mkdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { sha256 } from '../runner/digest.js';

/**
 * What gofmt already said was formatted: the sha256 of each file's content, per gofmt binary. A warm
 * lint run then gives gofmt only the files whose content it has not seen formatted, as golangci-lint
 * re-lints only what changed: on the bench module gofmt over every file costs about 40 ms of
 * golangci-lint's time (both want the same two cores), which is most of what go-ship adds to it.
 * Like git's index, the record also keeps each file's size, modification time and inode with its
 * hash, so an unchanged file is not even read; a file changed within a second of the record being
 * written is read again whatever its stat says (git's "racily clean" rule), and a fresh checkout,
 * whose times are all new, is read once.
 *
 * The record lives in golangci-lint's own cache folder (GOLANGCI_LINT_CACHE, or golangci-lint's
 * default beside Go's build cache), so whatever keeps that folder warm keeps this warm, and a
 * `golangci-lint cache clean` clears both. A file is only ever skipped for exactly the content gofmt
 * found formatted; an unformatted file is never recorded, so it is checked (and reported) every run.
 * A record that cannot be read is an empty one: the worst a bad record does is make gofmt skip a
 * file of the user's own, never more.
 */
export class FormattedRecord {
  /** This run's files: their stat and content hash, from `unknown`. */
  private seen = new Map<string, Stat>();

  private constructor(
    private readonly file: string | undefined,
    private readonly known: Set<string>,
    private readonly stats: Map<string, Stat>,
    private readonly written: number,
    private readonly body: string,
  ) {}

  /** The record for the gofmt that `env.PATH` finds, or one that remembers nothing when there is none. */
  static open(env: Record<string, string>): FormattedRecord {
    const binary = onPath('gofmt', env.PATH ?? '');
    if (!binary) return new FormattedRecord(undefined, new Set(), new Map(), 0, '');
    const s = statSync(binary);
    const file = join(lintCacheDir(env), 'go-ship-gofmt', sha256(`${binary}\0${s.size}\0${s.mtimeMs}`));
    try {
      const text = readFileSync(file, 'utf8');
      const r = JSON.parse(text) as Partial<RecordFile>;
      const known = new Set((Array.isArray(r.formatted) ? r.formatted : []).filter(isHash));
      const stats = new Map<string, Stat>();
      for (const e of Array.isArray(r.stats) ? r.stats : [])
        if (
          Array.isArray(e) &&
          typeof e[0] === 'string' &&
          e.slice(1, 4).every((n) => typeof n === 'number') &&
          isHash(e[4]) &&
          known.has(e[4])
        )
          stats.set(e[0], { size: e[1], mtimeMs: e[2], ino: e[3], hash: e[4] });
      const written = typeof r.written === 'number' ? r.written : 0;
      return new FormattedRecord(file, known, stats, written, bodyOf(r.formatted, r.stats));
    } catch {
      return new FormattedRecord(file, new Set(), new Map(), 0, '');
    }
  }

  /** The files whose content gofmt has not found formatted before. */
  unknown(files: string[]): string[] {
    this.seen = new Map(
      files.map((f) => {
        const st = statSync(f);
        const was = this.stats.get(f);
        const same =
          was &&
          was.size === st.size &&
          was.mtimeMs === st.mtimeMs &&
          was.ino === st.ino &&
          st.mtimeMs < this.written - RACY_MS;
        const hash = same ? was.hash : sha256(readFileSync(f));
        return [f, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, hash }];
      }),
    );
    return files.filter((f) => !this.known.has(this.seen.get(f)!.hash));
  }

  /**
   * Writes the record: every file of this run that gofmt did not list. Only this run's files are
   * kept, so the record stays the size of the module. Written whole or not at all.
   */
  save(unformatted: string[]): void {
    if (!this.file) return;
    const bad = new Set(unformatted);
    const good = [...this.seen].filter(([f]) => !bad.has(f));
    const formatted = [...new Set(good.map(([, st]) => st.hash))].sort();
    const stats = good.map(([f, st]) => [f, st.size, st.mtimeMs, st.ino, st.hash] as StatEntry);
    const body = bodyOf(formatted, stats);
    // Rewritten when it says something new, or when some file was too recent to trust by its stat.
    const racy = good.some(([, st]) => st.mtimeMs >= this.written - RACY_MS);
    if (body === this.body && !racy) return;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const part = `${this.file}.${process.pid}.part`;
      writeFileSync(part, JSON.stringify({ written: Date.now(), formatted, stats } satisfies RecordFile));
      renameSync(part, this.file);
    } catch {
      // A record that cannot be written only makes the next run check every file again.
    }
  }
}

interface Stat {
  size: number;
  mtimeMs: number;
  ino: number;
  hash: string;
}
type StatEntry = [path: string, size: number, mtimeMs: number, ino: number, hash: string];
interface RecordFile {
  written: number;
  formatted: string[];
  stats: StatEntry[];
}

/** A file modified this close before the record was written may have changed again since, unseen by its stat. */
const RACY_MS = 1_000;

const isHash = (h: unknown): h is string => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h);
const bodyOf = (formatted: unknown, stats: unknown) => JSON.stringify([formatted, stats]);

/** golangci-lint's cache folder, as golangci-lint finds it: GOLANGCI_LINT_CACHE, else Go's os.UserCacheDir(). */
export function lintCacheDir(env: Record<string, string>): string {
  if (env.GOLANGCI_LINT_CACHE) return env.GOLANGCI_LINT_CACHE;
  const home = env.HOME || homedir();
  const base =
    process.platform === 'win32'
      ? env.LocalAppData || env.LOCALAPPDATA || join(home, 'AppData', 'Local')
      : process.platform === 'darwin'
        ? join(home, 'Library', 'Caches')
        : env.XDG_CACHE_HOME || join(home, '.cache');
  return join(base, 'golangci-lint');
}

/**
 * The Go release of the gofmt on PATH, from the VERSION file of the Go root it is in (`go1.26.1`);
 * undefined when it is not in a Go root (a distribution's own layout).
 */
export function gofmtVersion(env: Record<string, string>): string | undefined {
  const binary = onPath('gofmt', env.PATH ?? '');
  if (!binary) return undefined;
  try {
    const first = readFileSync(join(dirname(dirname(binary)), 'VERSION'), 'utf8')
      .split('\n')[0]
      .trim();
    return /^go\d+(\.\d+)*\S*$/.test(first) ? first : undefined;
  } catch {
    return undefined;
  }
}

function onPath(name: string, path: string): string | undefined {
  const exts = process.platform === 'win32' ? ['.exe', ''] : [''];
  for (const dir of path.split(delimiter).filter(Boolean))
    for (const ext of exts) {
      try {
        const full = realpathSync(join(dir, name + ext));
        if (statSync(full).isFile()) return full;
      } catch {
        // not here
      }
    }
  return undefined;
}
