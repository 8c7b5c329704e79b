import { inputError } from '../runner/errors.js';
import { request } from '../runner/http.js';

export type Comparator = '<' | '<=' | '>' | '>=' | '==' | '!=';

export interface MetricGate {
  url: string;
  /** PromQL; `${COLOR}` and `${VERSION}` are replaced by the colour and version being judged. */
  query: string;
  comparator: Comparator;
  threshold: number;
  /** What an empty result or NaN means: the idle colour often has no traffic yet, so no data is common. */
  onNoData: 'fail' | 'pass';
  timeoutMs: number;
}

/** `< 0.05`, `>=0.99`: every sample of the query's result must satisfy it. */
export function parseThreshold(input: string, value: string): { comparator: Comparator; threshold: number } {
  const m = /^(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)$/i.exec(value.trim());
  if (!m)
    throw inputError(
      input,
      value,
      'a comparison and a number, such as `< 0.05` or `>= 0.99`',
      'Every sample the query returns must satisfy it.',
    );
  return { comparator: m[1] as Comparator, threshold: Number(m[2]) };
}

export interface GateResult {
  passed: boolean;
  /** What was asked and what came back, for the log and the summary. */
  detail: string;
  values: number[];
}

function compare(v: number, c: Comparator, t: number): boolean {
  switch (c) {
    case '<':
      return v < t;
    case '<=':
      return v <= t;
    case '>':
      return v > t;
    case '>=':
      return v >= t;
    case '==':
      return v === t;
    case '!=':
      return v !== t;
  }
}

interface QueryResponse {
  status: string;
  error?: string;
  errorType?: string;
  data?: {
    resultType: string;
    result: unknown;
  };
}

/** Runs the instant query (Prometheus HTTP API, /api/v1/query) and judges its samples. */
export async function evaluateGate(
  gate: MetricGate,
  vars: { COLOR: string; VERSION: string },
): Promise<GateResult> {
  // Filled in as the inside of a PromQL string (`version="${VERSION}"`): a version with `"` or `\\`
  // cannot close the string and add matchers or operators of its own.
  const query = gate.query.replace(/\$\{(COLOR|VERSION)\}/g, (_, k: 'COLOR' | 'VERSION') =>
    promqlString(vars[k]),
  );
  const url = `${gate.url.replace(/\/$/, '')}/api/v1/query?query=${encodeURIComponent(query)}`;
  const shown = `\`${query}\` ${gate.comparator} ${gate.threshold}`;
  let body: QueryResponse;
  try {
    const res = await request(url, { timeoutMs: gate.timeoutMs });
    const text = await res.text();
    try {
      body = JSON.parse(text) as QueryResponse;
    } catch {
      return fail(`${shown}: Prometheus answered HTTP ${res.status} without JSON: ${text.slice(0, 200)}`);
    }
  } catch (e) {
    const cause = (e as Error).message.replace(/^GET \S+ failed: /, '');
    return fail(`${shown}: Prometheus at ${gate.url} did not answer (${cause})`);
  }
  if (body.status !== 'success')
    return fail(
      `${shown}: Prometheus refused the query (${body.errorType ?? 'error'}: ${body.error ?? '?'})`,
    );
  const values = samples(body.data);
  const noData = values.length === 0 || values.some(Number.isNaN);
  if (noData) {
    const what = values.length === 0 ? 'no samples' : 'NaN';
    return gate.onNoData === 'pass'
      ? { passed: true, detail: `${shown}: ${what}, passed by on-no-data: pass`, values }
      : fail(
          `${shown}: ${what}. A version without traffic has no data yet; add \`or vector(0)\` to the query, or set on-no-data: pass if that is acceptable.`,
          values,
        );
  }
  const bad = values.filter((v) => !compare(v, gate.comparator, gate.threshold));
  const got = values.map((v) => String(v)).join(', ');
  return bad.length
    ? fail(`${shown}: got ${got}`, values)
    : { passed: true, detail: `${shown}: got ${got}`, values };
}

function fail(detail: string, values: number[] = []): GateResult {
  return { passed: false, detail, values };
}

/** The text of a PromQL (Go-syntax) string literal, without its quotes. */
function promqlString(text: string): string {
  return text
    .replace(/[\\"'`]/g, '\\$&')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r');
}

/**
 * Sample values of a vector, scalar or matrix (last point of each series) result. The answer is
 * data from a server: a shape that is not Prometheus's (`result: null`, a sample without a value)
 * gives NaN or nothing, judged as no data, never a crash.
 */
function samples(data: QueryResponse['data']): number[] {
  if (!data || typeof data !== 'object') return [];
  const r = data.result;
  const num = (pair: unknown): number => (Array.isArray(pair) ? Number(pair[1]) : NaN);
  const series = Array.isArray(r) ? (r as unknown[]).filter((x) => x && typeof x === 'object') : [];
  switch (data.resultType) {
    case 'scalar':
      return [num(r)];
    case 'vector':
      return series.map((s) => num((s as { value?: unknown }).value));
    case 'matrix':
      return series
        .map((s) => (s as { values?: unknown }).values)
        .filter((v): v is unknown[] => Array.isArray(v) && v.length > 0)
        .map((v) => num(v[v.length - 1]));
    default:
      return [];
  }
}
