/**
 * The extents of a Go file's function declarations, as cmd/cover's `-func` mode finds them with
 * go/parser: every top-level `func` declaration that has a body, from the `func` keyword to just
 * after its closing brace. Positions are 1-based lines and byte columns, like the profile's.
 * A small lexer is enough: comments, strings and runes are skipped, semicolons are inserted at line
 * ends as the Go spec says, and a declaration is a `func` that starts a top-level statement.
 */
export interface FuncExtent {
  name: string;
  startLine: number;
  startCol: number;
  endLine: number;
  endCol: number;
}

interface Token {
  text: string;
  line: number;
  col: number;
}

const IDENT = (c: number) =>
  (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c >= 0x80;

/** Tokens of interest (identifiers, keywords, punctuation), plus ';' where Go inserts one. */
export function tokenize(src: Buffer): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  // Go inserts a semicolon at a newline after these token kinds.
  let semiAtNewline = false;
  const push = (text: string, at: number, semi: boolean) => {
    tokens.push({ text, line, col: at - lineStart + 1 });
    semiAtNewline = semi;
  };
  const newline = (at: number) => {
    if (semiAtNewline) push(';', at, false);
    line++;
    lineStart = at + 1;
  };
  while (i < src.length) {
    const c = src[i];
    if (c === 0x0a) {
      newline(i);
      i++;
    } else if (c === 0x20 || c === 0x09 || c === 0x0d) {
      i++;
    } else if (c === 0x2f && src[i + 1] === 0x2f) {
      while (i < src.length && src[i] !== 0x0a) i++;
    } else if (c === 0x2f && src[i + 1] === 0x2a) {
      i += 2;
      let hadNewline = false;
      while (i < src.length && !(src[i] === 0x2a && src[i + 1] === 0x2f)) {
        if (src[i] === 0x0a) {
          if (!hadNewline && semiAtNewline) push(';', i, false);
          hadNewline = true;
          line++;
          lineStart = i + 1;
        }
        i++;
      }
      i += 2;
    } else if (c === 0x22 || c === 0x27) {
      const start = i++;
      while (i < src.length && src[i] !== c && src[i] !== 0x0a) i += src[i] === 0x5c ? 2 : 1;
      i++;
      push(c === 0x22 ? '"' : "'", start, true);
    } else if (c === 0x60) {
      const start = i;
      const startLine = line;
      const startLineStart = lineStart;
      i++;
      while (i < src.length && src[i] !== 0x60) {
        if (src[i] === 0x0a) {
          line++;
          lineStart = i + 1;
        }
        i++;
      }
      i++;
      tokens.push({ text: '`', line: startLine, col: start - startLineStart + 1 });
      semiAtNewline = true;
    } else if (IDENT(c)) {
      const start = i;
      while (i < src.length && IDENT(src[i])) i++;
      const text = src.toString('latin1', start, i);
      push(text, start, !['break', 'continue', 'fallthrough', 'return'].includes(text) ? !KEYWORDS.has(text) : true);
    } else {
      const start = i;
      i++;
      const text = String.fromCharCode(c);
      // ++ and -- end a statement; closing brackets do too.
      const two = src.toString('latin1', start, start + 2);
      if (two === '++' || two === '--') {
        i++;
        push(two, start, true);
      } else push(text, start, text === ')' || text === ']' || text === '}');
    }
  }
  if (semiAtNewline) push(';', i, false);
  return tokens;
}

const KEYWORDS = new Set([
  'break',
  'case',
  'chan',
  'const',
  'continue',
  'default',
  'defer',
  'else',
  'fallthrough',
  'for',
  'func',
  'go',
  'goto',
  'if',
  'import',
  'interface',
  'map',
  'package',
  'range',
  'return',
  'select',
  'struct',
  'switch',
  'type',
  'var',
]);

/** Index of the token after the bracket that closes the one at `open`. */
function skipBalanced(tokens: Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i].text;
    if (t === '(' || t === '[' || t === '{') depth++;
    else if (t === ')' || t === ']' || t === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return tokens.length;
}

export function findFuncs(src: Buffer): FuncExtent[] {
  const tokens = tokenize(src);
  const funcs: FuncExtent[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.text === '(' || t.text === '[' || t.text === '{') depth++;
    else if (t.text === ')' || t.text === ']' || t.text === '}') depth--;
    if (t.text !== 'func' || depth !== 0 || (i > 0 && tokens[i - 1].text !== ';')) continue;
    // A declaration: optional receiver, name, type parameters, parameters, results, then the body.
    let j = i + 1;
    if (tokens[j]?.text === '(') j = skipBalanced(tokens, j);
    const name = tokens[j]?.text ?? '';
    j++;
    // Scan the signature at its own depth 0 for the body's '{' (or ';': no body, assembly).
    let body = -1;
    while (j < tokens.length) {
      const s = tokens[j].text;
      if (s === ';') break;
      if (s === '(' || s === '[') j = skipBalanced(tokens, j);
      else if (s === 'struct' || s === 'interface') {
        j++;
        if (tokens[j]?.text === '{') j = skipBalanced(tokens, j);
      } else if (s === '{') {
        body = j;
        break;
      } else j++;
    }
    if (body < 0) {
      i = j;
      continue;
    }
    const end = skipBalanced(tokens, body) - 1;
    const close = tokens[end];
    funcs.push({ name, startLine: t.line, startCol: t.col, endLine: close.line, endCol: close.col + 1 });
    i = end;
  }
  return funcs;
}
