import { createRequire } from 'node:module';

interface Validator {
  (data: unknown): boolean;
  errors?: { instancePath: string; message?: string }[] | null;
}
interface AjvLike {
  compile(schema: object): Validator;
}

// CommonJS packages with a `default` export, loaded as such (an ESM default import gets the module object).
const require = createRequire(import.meta.url);
const Ajv = (require('ajv-draft-04') as { default: new (options: object) => AjvLike }).default;
const addFormats = (require('ajv-formats') as { default: (ajv: AjvLike) => void }).default;

// The SARIF 2.1.0 schema as OASIS published it (rtm.5), shipped in Microsoft's @microsoft/jest-sarif.
const schema = require('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json') as object;
// The schema's language-tag pattern is not a valid Unicode-mode regular expression; it is one without.
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validate = ajv.compile(schema);

/** The schema's complaints about a SARIF log, [] when it is valid. */
export function validSarif(log: unknown): string[] {
  return validate(log) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}
