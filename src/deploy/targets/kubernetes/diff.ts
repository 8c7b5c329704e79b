import { stringify } from 'yaml';

type Obj = Record<string, unknown>;

/** The fields the API server fills in that say nothing about what a deploy changes. */
function comparable(o: Obj | undefined): Obj | undefined {
  if (!o) return undefined;
  const c = structuredClone(o);
  delete c.status;
  const m = c.metadata as Obj | undefined;
  if (m)
    for (const k of ['managedFields', 'resourceVersion', 'uid', 'generation', 'creationTimestamp'])
      delete m[k];
  return c;
}

/**
 * A unified diff (3 lines of context) of two objects rendered as YAML: what a server-side dry run
 * would change. Objects are small (one Deployment, one Service), so a plain LCS table is enough.
 */
export function yamlDiff(name: string, before: Obj | undefined, after: Obj): string {
  const a = before ? stringify(comparable(before)).split('\n') : [];
  const b = stringify(comparable(after)).split('\n');
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops: { t: ' ' | '-' | '+'; line: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ t: ' ', line: a[i] });
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) ops.push({ t: '-', line: a[i++] });
    else ops.push({ t: '+', line: b[j++] });
  }
  const changed = ops.map((o, k) => (o.t !== ' ' ? k : -1)).filter((k) => k >= 0);
  if (!changed.length) return `${name}: no change`;
  const keep = new Set<number>();
  for (const k of changed) for (let x = k - 3; x <= k + 3; x++) if (x >= 0 && x < ops.length) keep.add(x);
  const out = [`--- ${name} (${before ? 'live' : 'absent'})`, `+++ ${name} (after this deploy)`];
  let prev = -2;
  for (const k of [...keep].sort((x, y) => x - y)) {
    if (k !== prev + 1) out.push('@@');
    out.push(`${ops[k].t}${ops[k].line}`);
    prev = k;
  }
  return out.join('\n');
}
