import { mdText } from '../runner/summary.js';
import type { Change } from './commits.js';

const SECTIONS: { title: string; pick: (c: Change) => boolean }[] = [
  { title: '⚠ Breaking changes', pick: (c) => c.breaking },
  { title: 'Features', pick: (c) => c.type === 'feat' },
  { title: 'Fixes', pick: (c) => c.type === 'fix' },
  { title: 'Performance', pick: (c) => c.type === 'perf' },
  { title: 'Reverts', pick: (c) => c.type === 'revert' },
  { title: 'Other changes', pick: () => true },
];

/**
 * Markdown release notes grouped by type, each entry linked to its PR and commit when the repository
 * URL is known. Types whose bump is `none` (docs, chore, ci...) are left out unless nothing else is there.
 */
export function renderChangelog(tag: string, date: string, changes: Change[], repoUrl?: string): string {
  const shown = changes.some((c) => c.bump !== 'none')
    ? changes.filter((c) => c.bump !== 'none' || c.breaking)
    : changes;
  const left = new Set(shown);
  const out = [`## ${tag} (${date})`, ''];
  for (const s of SECTIONS) {
    const items = [...left].filter(s.pick);
    if (!items.length) continue;
    items.forEach((c) => left.delete(c));
    out.push(`### ${s.title}`, '');
    for (const c of items) {
      const pr = c.pr ? (repoUrl ? ` ([#${c.pr}](${repoUrl}/pull/${c.pr}))` : ` (#${c.pr})`) : '';
      const sha = repoUrl ? `[${c.sha.slice(0, 7)}](${repoUrl}/commit/${c.sha})` : c.sha.slice(0, 7);
      // Commit text is outside text: it reaches the release body and the summary as inert Markdown.
      out.push(`- ${c.scope ? `**${mdText(c.scope)}:** ` : ''}${mdText(c.description)}${pr} (${sha})`);
    }
    out.push('');
  }
  return out.join('\n').trimEnd() + '\n';
}
