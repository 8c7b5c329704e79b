import { goTool } from '../go/tools.js';
import { runCommand } from '../runner/command.js';
import { UserError } from '../runner/errors.js';
import { log } from '../runner/log.js';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** golang.org/x/vuln's govulncheck, pinned so the installed copy is reused across runs. */
const GOVULNCHECK = 'golang.org/x/vuln/cmd/govulncheck';
const GOVULNCHECK_VERSION = 'v1.9.0';

/**
 * How far a vulnerable module reaches into a binary, in govulncheck's scan levels: a vulnerable
 * function is in the binary (`symbol`), its package is (`package`), or only the module is
 * (`module`). In binary mode these are what the binary contains, not a call graph; and a stripped
 * binary (`-s -w`, build-matrix's default) has no symbol table, so govulncheck counts every
 * vulnerable function of a linked package as present. `vulncheck` picks the weakest level that fails.
 */
export type Reach = 'symbol' | 'package' | 'module';
const RANK: Record<Reach, number> = { symbol: 3, package: 2, module: 1 };

export interface VulnFinding {
  id: string;
  summary: string;
  module: string;
  version: string;
  /** The first version without it; undefined when there is no fix yet. */
  fixed?: string;
  reach: Reach;
  /** `pkg.Func` names govulncheck found in the binary. */
  symbols: string[];
  /** The binaries (target and name) it was found in. */
  binaries: string[];
}

interface Trace {
  module: string;
  version?: string;
  package?: string;
  function?: string;
  receiver?: string;
}
type Message = {
  osv?: { id: string; summary?: string };
  finding?: { osv: string; fixed_version?: string; trace: Trace[] };
};

/** The vulnerability database as govulncheck's -db wants it: a URL, or a local directory as file://. */
export function dbUrl(db: string, workspace: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(db)) return db;
  const dir = isAbsolute(db) ? db : resolve(workspace, db);
  if (!existsSync(dir))
    throw new UserError(
      `Input \`vulncheck-db\` got \`${db}\`; it accepts a database URL (https://vuln.go.dev, a mirror) or a directory in the vulndb layout (index/db.json, index/modules.json, ID/<id>.json). ${dir} does not exist.`,
    );
  return pathToFileURL(dir).href;
}

/** The objects of govulncheck's -format json stream (indented JSON values one after another). */
function parseStream(text: string): Message[] {
  const out: Message[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)) as Message);
  }
  return out;
}

/**
 * Scans each built binary with `govulncheck -mode binary` against `db`, and returns every
 * vulnerability found with the strongest reach seen, merged across binaries.
 */
export async function scanBinaries(
  binaries: { file: string; label: string }[],
  db: string,
): Promise<VulnFinding[]> {
  const bin = await goTool({
    pkg: GOVULNCHECK,
    version: GOVULNCHECK_VERSION,
    probe: ['-version'],
    expect: /Scanner: govulncheck@/,
    neededFor: 'vulncheck',
    fix: 'set vulncheck: off',
  });
  const found = new Map<string, VulnFinding>();
  for (const b of binaries) {
    const r = await runCommand(bin, ['-mode', 'binary', '-db', db, '-format', 'json', b.file], {
      check: false,
      timeoutMs: 10 * 60_000,
    });
    if (r.code !== 0)
      throw new UserError(
        `govulncheck could not scan ${b.label} against ${db}: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' ')}. Check vulncheck-db (a mirror or a local copy for runners without internet).`,
      );
    const messages = parseStream(r.stdout);
    const summaries = new Map(messages.filter((m) => m.osv).map((m) => [m.osv!.id, m.osv!.summary ?? '']));
    for (const { finding: f } of messages.filter((m) => m.finding)) {
      const top = f!.trace[0];
      const reach: Reach = top.function ? 'symbol' : top.package ? 'package' : 'module';
      const v = found.get(f!.osv) ?? {
        id: f!.osv,
        summary: summaries.get(f!.osv) ?? '',
        module: top.module,
        version: top.version ?? '',
        fixed: f!.fixed_version,
        reach,
        symbols: [],
        binaries: [],
      };
      if (RANK[reach] > RANK[v.reach]) v.reach = reach;
      if (top.function) {
        const symbol = `${top.package?.split('/').pop()}.${top.receiver ? `${top.receiver.replace(/^\*/, '')}.` : ''}${top.function}`;
        if (!v.symbols.includes(symbol)) v.symbols.push(symbol);
      }
      if (!v.binaries.includes(b.label)) v.binaries.push(b.label);
      found.set(f!.osv, v);
    }
  }
  const list = [...found.values()].sort((a, b) => RANK[b.reach] - RANK[a.reach] || a.id.localeCompare(b.id));
  log.info(
    `govulncheck: ${binaries.length} binar${binaries.length === 1 ? 'y' : 'ies'} scanned, ${list.length} known vulnerabilit${list.length === 1 ? 'y' : 'ies'} (${list.filter((v) => v.reach === 'symbol').length} at symbol level)`,
  );
  return list;
}

/** The findings at or above `failOn`, as the error that stops the release (nothing is written). */
export function vulnGate(findings: VulnFinding[], failOn: Reach): UserError | undefined {
  const failing = findings.filter((v) => RANK[v.reach] >= RANK[failOn]);
  if (!failing.length) return undefined;
  return new UserError(
    `vulncheck: ${failing.length} known vulnerabilit${failing.length === 1 ? 'y' : 'ies'} at or above \`${failOn}\` in the built binaries; nothing was written.\n${failing
      .map(
        (v) =>
          `  ${v.id} in ${v.module}@${v.version} (${v.reach}${v.symbols.length ? `: ${v.symbols.join(', ')}` : ''}) — ${v.fixed ? `fixed in ${v.fixed}: \`go get ${v.module}@${v.fixed}\`` : 'no fixed version yet'}; ${v.summary}`,
      )
      .join('\n')}`,
  );
}
