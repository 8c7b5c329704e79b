/**
 * The one rule for text that comes from outside go-ship (file names, test output, commit messages,
 * event payloads) before it reaches a log, the runner's command parser or a terminal: control
 * characters become visible and inert. C0 controls other than tab and newline (ESC starts ANSI
 * sequences that repaint a terminal), DEL, every C1 control (U+0085 NEL is a line break to .NET, so
 * the runner trims it and reads `::error::` behind it as a command) and the Unicode line and
 * paragraph separators are written as `\u{XXXX}`.
 */
export function inertText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, (c) =>
    c === '\r' ? '\r' : `\\u{${c.charCodeAt(0).toString(16).padStart(4, '0')}}`,
  );
}

/** A URL as it may be shown: `https://user:token@host/x` loses `user:token@`. */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}
