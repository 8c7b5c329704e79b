import { inertText } from './text.js';

/**
 * Builds a job summary in GitHub-flavoured Markdown. GitHub renders the tables and mermaid charts in
 * the run's summary page; the go-ship CLI renders the same text for a terminal.
 */
export type Align = 'left' | 'right' | 'center';
export type Cell = string | number;

export class Summary {
  private readonly parts: string[] = [];

  heading(text: string, level = 2): this {
    this.parts.push(`${'#'.repeat(level)} ${text}`);
    return this;
  }

  paragraph(text: string): this {
    this.parts.push(text);
    return this;
  }

  list(items: string[]): this {
    if (items.length) this.parts.push(items.map((i) => `- ${i}`).join('\n'));
    return this;
  }

  table(headers: string[], rows: Cell[][], align: Align[] = []): this {
    const marker = (a?: Align): string => (a === 'right' ? '---:' : a === 'center' ? ':---:' : '---');
    const line = (cells: Cell[]): string => `| ${cells.map(escapeCell).join(' | ')} |`;
    this.parts.push(
      [line(headers), `| ${headers.map((_, i) => marker(align[i])).join(' | ')} |`, ...rows.map(line)].join(
        '\n',
      ),
    );
    return this;
  }

  code(text: string, language = ''): this {
    // Longer than any run of backticks in the text, so outside text cannot close the block.
    const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
    const fence = '`'.repeat(Math.max(3, longest + 1));
    this.parts.push(`${fence}${language}\n${text.replace(/\n$/, '')}\n${fence}`);
    return this;
  }

  /** A collapsed section; `body` is Markdown (a blank line keeps GitHub rendering it). */
  details(title: string, body: string): this {
    this.parts.push(`<details><summary>${escapeHtml(title)}</summary>\n\n${body}\n\n</details>`);
    return this;
  }

  /** A bar chart (mermaid xychart-beta), e.g. binary size per target. */
  barChart(title: string, bars: { label: string; value: number }[], yAxis: string): this {
    if (!bars.length) return this;
    const labels = bars.map((b) => JSON.stringify(b.label)).join(', ');
    const values = bars.map((b) => round(b.value)).join(', ');
    const max = Math.max(...bars.map((b) => b.value));
    this.mermaid(
      [
        'xychart-beta',
        `  title ${JSON.stringify(title)}`,
        `  x-axis [${labels}]`,
        `  y-axis ${JSON.stringify(yAxis)} 0 --> ${round(max * 1.1 || 1)}`,
        `  bar [${values}]`,
      ].join('\n'),
    );
    return this;
  }

  pieChart(title: string, slices: { label: string; value: number }[]): this {
    if (!slices.length) return this;
    this.mermaid(
      [`pie title ${title}`, ...slices.map((s) => `  ${JSON.stringify(s.label)} : ${round(s.value)}`)].join(
        '\n',
      ),
    );
    return this;
  }

  /** A timeline of phases (mermaid gantt in milliseconds), e.g. deploy phases or build targets. */
  timeline(
    title: string,
    phases: { name: string; startMs: number; durationMs: number; failed?: boolean }[],
  ): this {
    if (!phases.length) return this;
    const t0 = Math.min(...phases.map((p) => p.startMs));
    const lines = phases.map((p, i) => {
      // Mermaid's own syntax characters and anything that could end the fence become blanks.
      const name = p.name.replace(/[^\w .()/+-]/g, ' ');
      const tag = p.failed ? 'crit, ' : '';
      return `  ${name} : ${tag}p${i}, ${Math.round(p.startMs - t0)}, ${Math.max(1, Math.round(p.durationMs))}ms`;
    });
    this.mermaid(['gantt', `  title ${title}`, '  dateFormat x', '  axisFormat %M:%S', ...lines].join('\n'));
    return this;
  }

  mermaid(source: string): this {
    this.parts.push('```mermaid\n' + source + '\n```');
    return this;
  }

  isEmpty(): boolean {
    return this.parts.length === 0;
  }

  toString(): string {
    return this.parts.join('\n\n') + '\n';
  }
}

/**
 * Outside text (a commit subject, a file name from a fork's report) as inert Markdown: no HTML, no
 * links or images, no emphasis or headings, and `@mentions` that notify nobody. Shows as it was typed.
 */
export function mdText(text: string, max = 300): string {
  return (
    escapeHtml(oneLine(text, max))
      // Emphasis, code, links and images, table cells, strikethrough: the characters that start them.
      .replace(/[\\`*_[\]|~]/g, '\\$&')
      // A heading, list or quote only where a line starts (a list item's text does).
      .replace(/^(\s*)([#+-]|\d+[.)])/, '$1\\$2')
      .replace(/@(?=\w)/g, '@\u200b')
      .replace(/:\/\//g, ':\u200b//')
      .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}\u200b.`)
  );
}

/** Outside text as an inline code span: a fence longer than any backtick run inside, one line. */
export function mdCode(text: string, max = 300): string {
  const clipped = oneLine(text, max);
  const longest = Math.max(0, ...(clipped.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = clipped.startsWith('`') || clipped.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${clipped}${pad}${fence}`;
}

/** At most `max` characters, on one line, control characters inert (the rule logs and the terminal use too). */
function oneLine(text: string, max: number): string {
  return inertText((text.length > max ? `${text.slice(0, max)}…` : text).replace(/[\r\n]+/g, ' '));
}

function escapeCell(cell: Cell): string {
  // A pipe mdText already escaped stays `\|`: escaping it again would make `\\|`, which ends the cell.
  return String(cell)
    .replace(/(?<!\\)\|/g, '\\|')
    .replace(/\r?\n/g, '<br>');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
