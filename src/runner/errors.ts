/**
 * A problem the user can fix (a bad input, a missing file, a refused push). Its message is shown as
 * the step's failure without a stack trace, so it must say what was wrong and how to fix it.
 * Any other error is a bug in go-ship and keeps its stack.
 */
export class UserError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UserError';
  }
}

/** Formats "input `name` got `value`; it accepts X. Fix" consistently for every input parser. */
export function inputError(name: string, value: string, accepts: string, fix?: string): UserError {
  const got = value === '' ? 'an empty value' : `\`${value}\``;
  return new UserError(`Input \`${name}\` got ${got}; it accepts ${accepts}.${fix ? ` ${fix}` : ''}`);
}
