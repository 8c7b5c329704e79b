import type { ActionMetadata } from '../runner/action-metadata.js';

/**
 * The inputs and outputs tables in each action's README are generated from its action.yml and
 * checked by the tests, so the documentation cannot drift from the interface.
 */
const START = '<!-- generated:interface:start -->';
const END = '<!-- generated:interface:end -->';

function interfaceTables(meta: ActionMetadata): string {
  const cell = (s: string | undefined) =>
    (s ?? '')
      .trim()
      .replace(/\s*\n\s*/g, ' ')
      .replace(/\|/g, '\\|');
  const inputs = Object.entries(meta.inputs).map(
    ([name, spec]) =>
      `| \`${name}\` | ${spec.required ? 'yes' : 'no'} | ${spec.default !== undefined && spec.default !== '' ? `\`${spec.default}\`` : ''} | ${cell(spec.description)} |`,
  );
  const outputs = Object.entries(meta.outputs).map(
    ([name, spec]) => `| \`${name}\` | ${cell(spec.description)} |`,
  );
  return [
    START,
    '### Inputs',
    '',
    '| name | required | default | description |',
    '| --- | --- | --- | --- |',
    ...inputs,
    '',
    '### Outputs',
    '',
    '| name | description |',
    '| --- | --- |',
    ...outputs,
    END,
  ].join('\n');
}

/** The README with its generated section replaced (or undefined when it has no markers). */
export function updateReadme(readme: string, meta: ActionMetadata): string | undefined {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) return undefined;
  return readme.slice(0, a) + interfaceTables(meta) + readme.slice(b + END.length);
}

/**
 * `src/actions/<action>/defaults.ts`: action.yml's literal defaults as a module, so `Inputs` can tell
 * a value the user chose from the default the runner passes, and no parser repeats a default by
 * hand. Expressions (`${{ github.token }}`) are the runner's to evaluate and are left out.
 */
export function defaultsModule(meta: ActionMetadata, actionYml: string): string {
  const key = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : `'${k}'`);
  const str = (v: string) =>
    v.includes("'") && !v.includes('"')
      ? JSON.stringify(v)
      : `'${JSON.stringify(v).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
  const entries = Object.entries(meta.inputs).filter(
    ([, spec]) => spec.default !== undefined && spec.default !== '' && !spec.default.includes('${{'),
  );
  return [
    `// Written by \`node bin/go-ship.js docs\` from ${actionYml}; change that file, not this one.`,
    '',
    '/** The defaults the runner fills in for inputs a workflow leaves out. */',
    `export const DEFAULTS: Readonly<Record<string, string>> = {${entries.length ? '' : '};'}`,
    ...entries.map(([k, spec]) => `  ${key(k)}: ${str(spec.default!)},`),
    ...(entries.length ? ['};'] : []),
    '',
  ].join('\n');
}
