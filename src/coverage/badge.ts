import { log } from '../runner/log.js';
import { type Ratio, formatRatio, percent } from './report.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Width in pixels of text in 11px Verdana, the badge font: narrow and wide glyphs told apart. */
function textWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += /[.,:;!|il1 ]/.test(ch) ? 4 : /[%mwMW]/.test(ch) ? 10 : 7;
  return w;
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A flat "coverage | 81.2%" badge, the shields.io layout, as an SVG file a README can link to
 * (committed to a branch or published as an artifact): no third-party badge service sees the repo.
 */
function coverageBadge(label: string, value: string, color: string): string {
  const lw = textWidth(label) + 10;
  const vw = textWidth(value) + 10;
  const w = lw + vw;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${escape(label)}: ${escape(value)}">
<title>${escape(label)}: ${escape(value)}</title>
<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>
<clipPath id="r"><rect width="${w}" height="20" rx="3" fill="#fff"/></clipPath>
<g clip-path="url(#r)"><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${vw}" height="20" fill="${color}"/><rect width="${w}" height="20" fill="url(#s)"/></g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">
<text x="${lw / 2}" y="15" fill="#010101" fill-opacity=".3">${escape(label)}</text><text x="${lw / 2}" y="14">${escape(label)}</text>
<text x="${lw + vw / 2}" y="15" fill="#010101" fill-opacity=".3">${escape(value)}</text><text x="${lw + vw / 2}" y="14">${escape(value)}</text>
</g>
</svg>
`;
}

/** Green when the total's gate passed, red when it failed; without a gate: green from 80%, yellow from 60%. */
function badgeColor(pct: number, gatePassed?: boolean): string {
  if (gatePassed !== undefined) return gatePassed ? '#4c1' : '#e05d44';
  return pct >= 80 ? '#4c1' : pct >= 60 ? '#dfb317' : '#e05d44';
}

/** Writes the badge of `ratio` to `file`; its colour says whether the total gate passed. */
export function writeBadge(file: string, ratio: Ratio, totalPassed: boolean | undefined): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, coverageBadge('coverage', formatRatio(ratio), badgeColor(percent(ratio), totalPassed)));
  log.info(`Badge written to ${file}`);
}
