import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './cli.js';

export interface LoadReport {
  requests: number;
  /** Non-2xx/3xx answers plus socket errors (connect: refused; read/write: resets; timeouts). */
  failed: number;
  errors: { connect: number; read: number; write: number; timeout: number; status: number };
  /** Answers per X-Version, in the order each version first answered. */
  versions: { version: string; count: number }[];
  /** Answers per wall-clock second (Unix time) and version, for shares over a window. */
  perSecond: { second: number; version: string; count: number }[];
  output: string;
}

// wrk's Lua hooks: each thread counts answers per X-Version and remembers when (in its own request
// sequence) a version first answered; done() adds the threads up.
const SCRIPT = `
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) versions = {}; firsts = {}; seconds = {}; seq = 0 end
function response(status, headers, body)
  seq = seq + 1
  local v = headers["X-Version"] or headers["x-version"] or "(none)"
  if versions[v] == nil then versions[v] = 0; firsts[v] = seq end
  versions[v] = versions[v] + 1
  local key = os.time() .. " " .. v
  seconds[key] = (seconds[key] or 0) + 1
end
function done(summary, latency, requests)
  local counts, firsts_all, per = {}, {}, {}
  for _, t in ipairs(threads) do
    local vs, fs, ss = t:get("versions"), t:get("firsts"), t:get("seconds")
    for k, n in pairs(vs) do
      counts[k] = (counts[k] or 0) + n
      if firsts_all[k] == nil or fs[k] < firsts_all[k] then firsts_all[k] = fs[k] end
    end
    for k, n in pairs(ss) do per[k] = (per[k] or 0) + n end
  end
  for k, n in pairs(counts) do io.write(string.format("go-ship-version %s %d %d\\n", k, n, firsts_all[k])) end
  for k, n in pairs(per) do io.write(string.format("go-ship-second %s %d\\n", k, n)) end
  local e = summary.errors
  io.write(string.format("go-ship-errors %d %d %d %d %d %d\\n", summary.requests, e.connect, e.read, e.write, e.timeout, e.status))
end
`;

/**
 * Constant load with wrk (Debian's) against the public entry for as long as a scenario runs. wrk
 * honours `Connection: close` and counts refused connections, resets, timeouts and non-2xx/3xx
 * answers; the script adds answers per version. stop() interrupts it (SIGINT) and reads its report.
 */
export function startLoad(url: string, opts: { connections?: number; path?: string } = {}) {
  const script = join(tempDir('wrk'), 'versions.lua');
  writeFileSync(script, SCRIPT);
  const child = spawn(
    'wrk',
    [
      '-t2',
      `-c${opts.connections ?? 8}`,
      '-d600s',
      '--timeout',
      '5s',
      '-s',
      script,
      url + (opts.path ?? '/hello'),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (b) => (output += b));
  child.stderr.on('data', (b) => (output += b));
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    stop: async (): Promise<LoadReport> => {
      child.kill('SIGINT');
      await closed;
      const e = /go-ship-errors (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)/.exec(output);
      if (!e) throw new Error(`wrk did not report:\n${output}`);
      const [requests, connect, read, write, timeout, status] = e.slice(1).map(Number);
      const versions = [...output.matchAll(/go-ship-version (\S+) (\d+) (\d+)/g)]
        .map((m) => ({ version: m[1], count: Number(m[2]), first: Number(m[3]) }))
        .sort((a, b) => a.first - b.first)
        .map(({ version, count }) => ({ version, count }));
      const perSecond = [...output.matchAll(/go-ship-second (\d+) (\S+) (\d+)/g)].map((m) => ({
        second: Number(m[1]),
        version: m[2],
        count: Number(m[3]),
      }));
      return {
        requests,
        failed: connect + read + write + timeout + status,
        errors: { connect, read, write, timeout, status },
        versions,
        perSecond,
        output,
      };
    },
  };
}

/**
 * Polls the upstream file go-ship writes: when each canary weight of the server on `port` took
 * effect (100 when it is the only server), in Unix seconds. stop() returns the steps seen.
 */
export function canarySteps(upstreamFile: string, port: string | number) {
  const seen: { percent: number; from: number; to: number }[] = [];
  const timer = setInterval(() => {
    const text = existsSync(upstreamFile) ? readFileSync(upstreamFile, 'utf8') : '';
    const m = new RegExp(`:${port} weight=(\\d+);`).exec(text);
    const percent = m ? Number(m[1]) : text.includes(`:${port};`) ? 100 : 0;
    const now = Date.now() / 1000;
    if (seen.at(-1)?.percent === percent) seen.at(-1)!.to = now;
    else seen.push({ percent, from: now, to: now });
  }, 25);
  return { stop: () => (clearInterval(timer), seen.filter((s) => s.percent > 0)) };
}

/** `version`'s share of wrk's answers in the whole seconds strictly inside [from, to]. */
export function shareOf(load: LoadReport, version: string, from: number, to: number) {
  const inside = load.perSecond.filter((s) => s.second > from && s.second + 1 < to);
  const total = inside.reduce((n, s) => n + s.count, 0);
  const mine = inside.filter((s) => s.version === version).reduce((n, s) => n + s.count, 0);
  return { percent: total ? (100 * mine) / total : NaN, total };
}
