import { inertText } from '../runner/text.js';
/**
 * Terminal rendering for the go-ship CLI: the runner's workflow commands (::group::, ::warning::,
 * ::add-mask::) and the Markdown job summary, as a person reading a terminal would want them.
 */
export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
}

export function makeStyle(color: boolean): Style {
  const wrap = (code: number) => (s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { bold: wrap(1), dim: wrap(2), red: wrap(31), yellow: wrap(33), green: wrap(32), cyan: wrap(36) };
}

/** Turns a step's stdout/stderr lines into terminal lines, applying masks as the runner does. */
export class CommandRenderer {
  private readonly masks: string[] = [];
  private depth = 0;

  constructor(
    private readonly style: Style,
    private readonly debug: boolean,
  ) {}

  /** Returns the line to print, or undefined for lines the runner would not show. */
  render(raw: string): string | undefined {
    const cmd = /^::([a-z-]+)(?: ([^:]*))?::(.*)$/.exec(raw);
    // What a child prints may carry a file name or test output: no escape sequence reaches the terminal.
    if (!cmd) return this.indent(inertText(this.mask(raw)));
    const [, name, props, data] = cmd;
    const text = inertText(this.mask(unescapeData(data)));
    switch (name) {
      case 'add-mask':
        if (text.length > 0) this.masks.push(unescapeData(data));
        return undefined;
      case 'group':
        this.depth = 1;
        return this.style.bold(`▸ ${text}`);
      case 'endgroup':
        this.depth = 0;
        return undefined;
      case 'warning':
        return this.indent(this.style.yellow(`warning: ${text}${location(props)}`));
      case 'error':
        return this.indent(this.style.red(`error: ${text}${location(props)}`));
      case 'notice':
        return this.indent(this.style.cyan(`notice: ${text}`));
      case 'debug':
        return this.debug ? this.indent(this.style.dim(`debug: ${text}`)) : undefined;
      default:
        return this.indent(inertText(this.mask(raw)));
    }
  }

  mask(text: string): string {
    let out = text;
    for (const secret of this.masks) out = out.split(secret).join('***');
    return out;
  }

  private indent(line: string): string {
    return this.depth ? `  ${line}` : line;
  }
}

function unescapeData(s: string): string {
  return s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

function location(props?: string): string {
  const file = /(?:^|,)file=([^,]*)/.exec(props ?? '')?.[1];
  const line = /(?:^|,)line=([^,]*)/.exec(props ?? '')?.[1];
  return file ? ` (${unescapeData(file)}${line ? `:${line}` : ''})` : '';
}

/** Renders the Markdown that go-ship's Summary builder writes: headings, tables, lists, charts. */
export function renderMarkdown(md: string, style: Style): string {
  const out: string[] = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('```')) {
      const fence = line.match(/^`+/)![0];
      const lang = line.slice(fence.length).trim();
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== fence; i++) body.push(lines[i]);
      out.push(...(lang === 'mermaid' ? renderMermaid(body, style) : body.map((b) => `    ${b}`)));
    } else if (line.startsWith('|')) {
      const rows: string[][] = [];
      for (; i < lines.length && lines[i].startsWith('|'); i++) rows.push(splitRow(lines[i]));
      i--;
      out.push(...renderTable(rows, style));
    } else if (/^#{1,6} /.test(line)) {
      out.push(style.bold(line.replace(/^#+ /, '')));
    } else {
      out.push(
        line
          .replace(/<details><summary>(.*?)<\/summary>/, (_, t: string) => style.bold(`▾ ${t}`))
          .replace(/<\/details>/, '')
          .replace(/\*\*(.+?)\*\*/g, (_, t: string) => style.bold(t)),
      );
    }
  }
  return out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd();
}

function splitRow(line: string): string[] {
  const cells = line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, '|').replace(/<br>/g, ' / '));
  return cells;
}

function renderTable(rows: string[][], style: Style): string[] {
  const isRule = (r: string[]) => r.every((c) => /^:?-+:?$/.test(c));
  const rule = rows.find(isRule);
  const body = rows.filter((r) => !isRule(r));
  const widths = body[0].map((_, col) => Math.max(...body.map((r) => (r[col] ?? '').length)));
  const right = widths.map(
    (_, col) => (rule?.[col] ?? '').endsWith(':') && !(rule?.[col] ?? '').startsWith(':'),
  );
  const headerless = body[0].every((c) => c === '');
  return body.flatMap((r, rowIndex) => {
    if (rowIndex === 0 && headerless) return [];
    const text = widths
      .map((w, col) => (right[col] ? (r[col] ?? '').padStart(w) : (r[col] ?? '').padEnd(w)))
      .join('  ');
    return [rowIndex === 0 ? style.bold(text) : text.trimEnd()];
  });
}

/** Bar charts become text bars; other diagrams are listed with a pointer to GitHub's rendering. */
function renderMermaid(body: string[], style: Style): string[] {
  if (body[0]?.trim() === 'xychart-beta') {
    const title = /title "(.*)"/.exec(body.join('\n'))?.[1] ?? '';
    const labels = JSON.parse(`[${/x-axis \[(.*)\]/.exec(body.join('\n'))?.[1] ?? ''}]`) as string[];
    const values = JSON.parse(`[${/bar \[(.*)\]/.exec(body.join('\n'))?.[1] ?? ''}]`) as number[];
    const unit = /y-axis "(.*?)"/.exec(body.join('\n'))?.[1] ?? '';
    const max = Math.max(...values, 0) || 1;
    const width = Math.max(...labels.map((l) => l.length));
    return [
      style.bold(title),
      ...labels.map(
        (l, i) =>
          `  ${l.padEnd(width)}  ${'█'.repeat(Math.max(1, Math.round((values[i] / max) * 40)))} ${values[i]} ${unit}`,
      ),
    ];
  }
  return [style.dim(`(${body[0]?.trim() ?? 'mermaid'} chart: rendered in the GitHub job summary)`)];
}
