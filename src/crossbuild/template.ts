import { inputError } from '../runner/errors.js';

/**
 * GoReleaser-style `{{.Field}}` templates (only field references: no pipelines or functions), so
 * ldflags and names written for GoReleaser mostly carry over. An unknown field is an error that
 * lists the known ones, instead of an empty string baked into every binary.
 */
export function renderTemplate(input: string, template: string, fields: Record<string, string>): string {
  return template.replace(/\{\{-?\s*(.*?)\s*-?\}\}/g, (whole, expr: string) => {
    const m = /^\.([A-Za-z][A-Za-z0-9]*)$/.exec(expr);
    if (!m || !(m[1] in fields))
      throw inputError(
        input,
        template,
        `template fields ${Object.keys(fields)
          .map((f) => `\`{{.${f}}}\``)
          .join(', ')}`,
        m ? `\`${whole}\` is not one of them.` : `\`${whole}\` is not a plain field reference.`,
      );
    return fields[m[1]];
  });
}
