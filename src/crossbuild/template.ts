import { inputError } from '../runner/errors.js';

/**
 * GoReleaser's templates: Go's text/template with GoReleaser's function names, for the subset that
 * ldflags, binary and archive names use (`{{ .Field }}`, `{{- -}}` trimming, `if`/`else if`/`else`,
 * `with`, pipelines, parentheses, `eq`/`ne`/`not`/`and`/`or`, `title`, `tolower`, `incpatch`, ...).
 * An unknown field or function is an error that names it and lists the known ones, instead of an
 * empty string baked into every binary (GoReleaser runs Go's templates with missingkey=error too).
 * __tests__/crossbuild/template.test.ts renders the same templates with Go's text/template.
 */
/** GoReleaser's default variant of each GOARCH that has one (what a target without a variant builds). */
export const DEFAULT_VARIANTS: Record<string, string> = {
  amd64: 'v1',
  '386': 'sse2',
  arm: '6',
  arm64: 'v8.0',
  mips: 'hardfloat',
  mipsle: 'hardfloat',
  mips64: 'hardfloat',
  mips64le: 'hardfloat',
  ppc64: 'power8',
  ppc64le: 'power8',
  riscv64: 'rva20u64',
};
export type TemplateValue = string | number | boolean | { [key: string]: string };
export type TemplateFields = Record<string, TemplateValue>;

export function renderTemplate(input: string, template: string, fields: TemplateFields): string {
  const fail = (why: string, accepts = acceptsOf(fields)) => {
    throw inputError(input, template, accepts, why);
  };
  const nodes = parse(template, fail);
  return render(nodes, fields, fields, fail);
}

const acceptsOf = (fields: TemplateFields) =>
  `GoReleaser template fields ${Object.keys(fields)
    .map((f) => `\`.${f}\``)
    .join(', ')} and functions ${Object.keys(FUNCS).join(', ')}`;

type Fail = (why: string, accepts?: string) => never;
type Value = TemplateValue | TemplateFields | undefined;

type Arg =
  | { kind: 'field'; path: string[] }
  | { kind: 'literal'; value: string | number | boolean }
  | { kind: 'func'; name: string }
  | { kind: 'pipe'; pipe: Pipe };
type Pipe = Arg[][];
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'print'; pipe: Pipe; source: string }
  | { kind: 'if' | 'with'; branches: { cond: Pipe; body: Node[] }[]; otherwise: Node[] };

const FUNCS: Record<string, (fail: Fail, ...args: Value[]) => Value> = {
  eq: (fail, a, ...bs) => {
    if (!bs.length) fail('`eq` needs at least two arguments.');
    return bs.some((b) => same(fail, a, b));
  },
  ne: (fail, a, b) => !same(fail, a, b),
  not: (_fail, a) => !truth(a),
  and: (_fail, ...xs) => xs.find((x) => !truth(x)) ?? xs.at(-1),
  or: (_fail, ...xs) => xs.find((x) => truth(x)) ?? xs.at(-1),
  len: (fail, a) => (typeof a === 'string' ? Buffer.byteLength(a) : fail('`len` takes a string.')),
  index: (fail, m, k) => {
    if (typeof m !== 'object' || typeof k !== 'string') return fail('`index` takes a map and a key.');
    return k in m ? m[k] : fail(`The map has no key \`${k}\`.`);
  },
  title: (fail, s) =>
    str(fail, 'title', s).replace(/[\p{L}\p{N}']+/gu, (w) => w[0].toUpperCase() + w.slice(1).toLowerCase()),
  tolower: (fail, s) => str(fail, 'tolower', s).toLowerCase(),
  toupper: (fail, s) => str(fail, 'toupper', s).toUpperCase(),
  trim: (fail, s) => str(fail, 'trim', s).trim(),
  trimprefix: (fail, s, p) => {
    const v = str(fail, 'trimprefix', s);
    const pre = str(fail, 'trimprefix', p);
    return v.startsWith(pre) ? v.slice(pre.length) : v;
  },
  trimsuffix: (fail, s, p) => {
    const v = str(fail, 'trimsuffix', s);
    const suf = str(fail, 'trimsuffix', p);
    return suf && v.endsWith(suf) ? v.slice(0, -suf.length) : v;
  },
  replace: (fail, s, a, b) =>
    str(fail, 'replace', s)
      .split(str(fail, 'replace', a))
      .join(str(fail, 'replace', b)),
  contains: (fail, s, sub) => str(fail, 'contains', s).includes(str(fail, 'contains', sub)),
  incpatch: (fail, v) => bump(fail, str(fail, 'incpatch', v), 2),
  incminor: (fail, v) => bump(fail, str(fail, 'incminor', v), 1),
  incmajor: (fail, v) => bump(fail, str(fail, 'incmajor', v), 0),
  print: (fail, ...xs) => xs.map((x) => show(fail, x)).join(''),
};

function str(fail: Fail, fn: string, v: Value): string {
  if (typeof v === 'string') return v;
  return fail(`\`${fn}\` takes a string, got ${v === undefined ? 'nothing' : typeof v}.`);
}

function same(fail: Fail, a: Value, b: Value): boolean {
  if (typeof a !== typeof b)
    fail(`\`eq\`/\`ne\` compare values of one type (got ${typeof a} and ${typeof b}).`);
  return a === b;
}

const truth = (v: Value) =>
  v !== undefined && v !== '' && v !== 0 && v !== false && !(typeof v === 'object' && !Object.keys(v).length);

/** Masterminds/semver's IncPatch & co.: a pre-release's IncPatch is its release; minor and major always count up. */
function bump(fail: Fail, v: string, part: 0 | 1 | 2): string {
  const m = /^(v?)(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.exec(v);
  if (!m) return fail(`\`${v}\` is not a semantic version.`);
  const n = [Number(m[2]), Number(m[3]), Number(m[4])];
  if (!(part === 2 && m[5])) {
    n[part]++;
    for (let i = part + 1; i < 3; i++) n[i] = 0;
  }
  return `${m[1]}${n.join('.')}`;
}

function show(fail: Fail, v: Value): string {
  if (typeof v === 'object') return fail('A map cannot be printed; pick a key (`.Env.NAME`).');
  return v === undefined ? '<no value>' : String(v);
}

/** Splits text and actions, applying `{{-` / `-}}` trimming as Go does. */
function parse(template: string, fail: Fail): Node[] {
  const parts: ({ text: string } | { action: string; source: string })[] = [];
  let i = 0;
  let trimNext = false;
  while (i < template.length) {
    const open = template.indexOf('{{', i);
    let text = template.slice(i, open < 0 ? undefined : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open < 0) {
      parts.push({ text });
      break;
    }
    const close = template.indexOf('}}', open + 2);
    if (close < 0) fail('A `{{` has no closing `}}`.');
    let inner = template.slice(open + 2, close);
    if (/^-\s/.test(inner)) {
      text = text.replace(/\s+$/, '');
      inner = inner.slice(1);
    }
    trimNext = /\s-$/.test(inner);
    if (trimNext) inner = inner.slice(0, -1);
    parts.push({ text }, { action: inner.trim(), source: template.slice(open, close + 2) });
    i = close + 2;
  }
  let at = 0;
  const block = (inside: string | undefined): { nodes: Node[]; ended: string } => {
    const nodes: Node[] = [];
    while (at < parts.length) {
      const p = parts[at++];
      if ('text' in p) {
        if (p.text) nodes.push({ kind: 'text', text: p.text });
        continue;
      }
      const a = p.action;
      if (a.startsWith('/*')) continue;
      const word = /^(if|with|else|end|range|define|template|block)\b/.exec(a)?.[1];
      if (word === 'end' || word === 'else') {
        if (!inside) fail(`\`${p.source}\` has no \`if\` or \`with\` to belong to.`);
        return { nodes, ended: a };
      }
      if (word === 'if' || word === 'with') {
        const kind = word;
        const branches = [{ cond: parsePipe(a.slice(word.length), fail), body: [] as Node[] }];
        let otherwise: Node[] = [];
        for (;;) {
          const b = block(kind);
          branches.at(-1)!.body = b.nodes;
          if (b.ended === 'end') break;
          const chained = new RegExp(`^else\\s+${kind}\\b`).exec(b.ended);
          if (chained) {
            branches.push({ cond: parsePipe(b.ended.slice(chained[0].length), fail), body: [] });
            continue;
          }
          if (b.ended !== 'else') fail(`\`{{${b.ended}}}\` is not supported inside \`${kind}\`.`);
          const rest = block(kind);
          if (rest.ended !== 'end') fail(`\`${kind}\` has a second \`else\`.`);
          otherwise = rest.nodes;
          break;
        }
        nodes.push({ kind, branches, otherwise });
        continue;
      }
      if (word) fail(`\`{{${word}}}\` is not supported in go-ship's templates (if, else, with and end are).`);
      nodes.push({ kind: 'print', pipe: parsePipe(a, fail), source: p.source });
    }
    if (inside) fail(`An \`${inside}\` has no \`{{ end }}\`.`);
    return { nodes, ended: '' };
  };
  return block(undefined).nodes;
}

function parsePipe(src: string, fail: Fail): Pipe {
  const tokens = src.match(/"(?:[^"\\]|\\.)*"|`[^`]*`|\(|\)|\||[^\s()|]+/g) ?? [];
  let at = 0;
  const pipe = (): Pipe => {
    const cmds: Arg[][] = [[]];
    while (at < tokens.length) {
      const t = tokens[at++];
      if (t === ')') {
        at--;
        break;
      }
      if (t === '|') {
        cmds.push([]);
        continue;
      }
      if (t === '(') {
        const inner = pipe();
        if (tokens[at++] !== ')') fail('A `(` has no closing `)`.');
        cmds.at(-1)!.push({ kind: 'pipe', pipe: inner });
        continue;
      }
      cmds.at(-1)!.push(operand(t, fail));
    }
    if (cmds.some((c) => !c.length)) fail(`\`{{${src.trim()}}}\` has an empty command.`);
    return cmds;
  };
  const p = pipe();
  if (at < tokens.length) fail(`\`{{${src.trim()}}}\` has an unmatched \`)\`.`);
  return p;
}

function operand(t: string, fail: Fail): Arg {
  if (t === '.') return { kind: 'field', path: [] };
  if (/^(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(t)) return { kind: 'field', path: t.slice(1).split('.') };
  if (t.startsWith('"')) return { kind: 'literal', value: JSON.parse(t) as string };
  if (t.startsWith('`')) return { kind: 'literal', value: t.slice(1, -1) };
  if (/^-?\d+$/.test(t)) return { kind: 'literal', value: Number(t) };
  if (t === 'true' || t === 'false') return { kind: 'literal', value: t === 'true' };
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(t)) {
    if (!(t in FUNCS))
      fail(`\`${t}\` is not a function go-ship knows.`, `functions ${Object.keys(FUNCS).join(', ')}`);
    return { kind: 'func', name: t };
  }
  return fail(`\`${t}\` is not a field (\`.Name\`), a string, a number or a function.`);
}

function render(nodes: Node[], dot: Value, root: TemplateFields, fail: Fail): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'print') out += show(fail, evalPipe(n.pipe, dot, root, fail));
    else {
      // In order, stopping at the first true one, as Go does: a later branch's condition is never
      // evaluated (so a `.Env.X` it names need not exist).
      let hit: { body: Node[]; v: Value } | undefined;
      for (const b of n.branches) {
        const v = evalPipe(b.cond, dot, root, fail);
        if (truth(v)) {
          hit = { body: b.body, v };
          break;
        }
      }
      out += hit
        ? render(hit.body, n.kind === 'with' ? hit.v : dot, root, fail)
        : render(n.otherwise, dot, root, fail);
    }
  }
  return out;
}

function evalPipe(pipe: Pipe, dot: Value, root: TemplateFields, fail: Fail): Value {
  let piped: Value[] = [];
  for (const cmd of pipe) {
    const [head, ...rest] = cmd;
    if (head.kind === 'func') {
      const args = [...rest.map((a) => evalArg(a, dot, root, fail)), ...piped];
      piped = [FUNCS[head.name](fail, ...args)];
    } else {
      if (rest.length || piped.length) fail('Only a function takes arguments or a piped value.');
      piped = [evalArg(head, dot, root, fail)];
    }
  }
  return piped[0];
}

function evalArg(a: Arg, dot: Value, root: TemplateFields, fail: Fail): Value {
  if (a.kind === 'literal') return a.value;
  if (a.kind === 'pipe') return evalPipe(a.pipe, dot, root, fail);
  if (a.kind === 'func') return FUNCS[a.name](fail);
  let v: Value = dot;
  for (const [i, key] of a.path.entries()) {
    if (typeof v !== 'object')
      return fail(
        `\`.${a.path.slice(0, i + 1).join('.')}\`: ${i ? `\`.${a.path.slice(0, i).join('.')}\`` : 'the current value'} has no fields.`,
      );
    if (!(key in v)) {
      if (i === 0 && v === root) return fail(`\`.${key}\` is not a template field.`);
      return fail(
        `\`.${a.path.slice(0, i + 1).join('.')}\` is not set (${a.path[0] === 'Env' ? 'the environment has no such variable' : 'no such key'}).`,
        `keys ${Object.keys(v).slice(0, 20).join(', ')}`,
      );
    }
    v = v[key];
  }
  return v;
}
