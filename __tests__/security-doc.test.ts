import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './helpers/cli.js';

/**
 * docs/security.md names, for each claim, the test that shows it: `file.test.ts` › title. Every such
 * reference must name a test file that exists and a test title in it (a title may be quoted from its
 * start; `%s` and `${...}` in a title stand for any text; `a / b` names several titles).
 */
const doc = readFileSync(join(ROOT, 'docs', 'security.md'), 'utf8');

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

/**
 * Does `phrase` read as the start of `title`, where the title's placeholders match any text? At
 * least 8 characters (or all the title has) must come from the title's own words, so a phrase cannot
 * match on placeholders alone.
 */
function startsTitle(phrase: string, title: string): boolean {
  const isHole = (t: string) => /^(%[sdjpi#]|\$\{[^}]*\})$/.test(t);
  const tokens = title.split(/(%[sdjpi#]|\$\{[^}]*\})/).filter(Boolean);
  const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const lit = (t: string) => (isHole(t) ? '.*' : esc(t));
  const words = tokens.filter((t) => !isHole(t)).join('').length;
  for (let k = tokens.length; k > 0; k--) {
    const head = tokens.slice(0, k);
    const last = head[k - 1];
    const before = head.slice(0, -1);
    const known = before.filter((t) => !isHole(t)).join('').length;
    // The phrase may end inside the last literal piece.
    const ends: [string, number][] = isHole(last)
      ? [['.*', 0]]
      : [...last].map((_, i) => [esc(last.slice(0, i + 1)), i + 1]);
    for (const [end, n] of ends)
      if (known + n >= Math.min(8, words) && new RegExp(`^${before.map(lit).join('')}${end}$`).test(phrase))
        return true;
  }
  return false;
}

test('a cited phrase reads as the start of a title, placeholders standing for any text', () => {
  expect(startsTitle('pull-timeout 600h is refused', '%s %s is refused: a timer cannot wait that long')).toBe(
    true,
  );
  expect(startsTitle('a poisoned entry (a chain) is', 'a poisoned entry (%s) is refused')).toBe(true);
  expect(startsTitle('a title that is not there', 'a title')).toBe(false);
  expect(startsTitle('refused', '%s %s is refused')).toBe(false);
});

test('every test docs/security.md cites exists, with that title', () => {
  const files = testFiles(join(ROOT, '__tests__'));
  const refs = [...doc.matchAll(/`([\w/.-]+\.test\.ts)` › ([^;|()]+?)\s*(?=[;|()]|$)/gm)];
  expect(refs.length).toBeGreaterThan(40);
  const missing: string[] = [];
  for (const [, file, phrases] of refs) {
    const found = files.filter((f) => relative(ROOT, f).endsWith(file));
    if (found.length !== 1) {
      missing.push(`${file}: ${found.length} files`);
      continue;
    }
    const source = readFileSync(found[0], 'utf8');
    const titles = [...source.matchAll(/(['"`])((?:\\.|(?!\1)[^\\\n])*)\1/g)].map((m) =>
      m[2].replace(/\\(.)/g, '$1'),
    );
    for (const phrase of phrases.replace(/….*$/, '').trim().split(' / '))
      if (!titles.some((t) => startsTitle(phrase.trim(), t))) missing.push(`${file} › ${phrase}`);
  }
  expect(missing).toEqual([]);
});

test('the bad-input campaign figures in docs/security.md are the campaign test', () => {
  expect(doc).toMatch(/`campaign\/bad-inputs\.test\.ts` › every input of every action/);
  expect(doc).toMatch(/\d[\d,]* runs: [\d,]+ clear errors, [\d,]+ accepted, 0 go-ship bugs, 0 hangs/);
});
