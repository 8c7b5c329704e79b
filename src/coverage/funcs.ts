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

// Token kinds of the declaration scanner.
const EOF = 0;
const IDENTIFIER = 1;
const SEMI = 2;
const OPEN = 3;
const CLOSE = 4;
const BRACE = 5; // `{`, which is also OPEN for balancing
const OTHER = 6;

/** Keywords after which Go inserts no semicolon at a newline, by first letter. */
const NO_SEMI_KEYWORDS: Buffer[][] = Array.from({ length: 128 }, () => []);
for (const k of KEYWORDS)
  if (!['break', 'continue', 'fallthrough', 'return'].includes(k))
    NO_SEMI_KEYWORDS[k.charCodeAt(0)].push(Buffer.from(k));

// What a byte means inside brackets (skipBalanced); 0 for everything it passes over.
const NEWLINE = 1;
const OPENS = 2;
const CLOSES = 3;
const QUOTE = 4;
const BACKQUOTE = 5;
const SLASH = 6;
const BYTE_CLASS = new Uint8Array(256);
BYTE_CLASS[0x0a] = NEWLINE;
for (const c of '([{') BYTE_CLASS[c.charCodeAt(0)] = OPENS;
for (const c of ')]}') BYTE_CLASS[c.charCodeAt(0)] = CLOSES;
BYTE_CLASS[0x22] = QUOTE;
BYTE_CLASS[0x27] = QUOTE;
BYTE_CLASS[0x60] = BACKQUOTE;
BYTE_CLASS[0x2f] = SLASH;
const FUNC = Buffer.from('func');
const STRUCT = Buffer.from('struct');
const INTERFACE = Buffer.from('interface');

/**
 * The extents of a file's function declarations, as cmd/cover's FuncVisitor reports them: from the
 * `func` keyword to just after the body's closing brace, declarations without a body left out.
 *
 * A scanner over the bytes, with no token list and no string per identifier (big modules have
 * thousands of files, and `go tool cover -func` parses each once with go/parser): it skips comments,
 * strings, runes and raw strings, inserts semicolons at newlines as the Go spec says, and treats a
 * `func` at bracket depth 0 that starts a statement as a declaration. Agreement with go/parser is
 * tested over every file of GOROOT/src.
 */
export function findFuncs(src: Buffer): FuncExtent[] {
  const n = src.length;
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let semi = false; // the last token lets a newline end the statement
  let tokStart = 0;
  let tokEnd = 0;
  let tokLine = 0;
  let tokCol = 0;

  const is = (word: Buffer) => {
    if (tokEnd - tokStart !== word.length) return false;
    for (let k = 0; k < word.length; k++) if (src[tokStart + k] !== word[k]) return false;
    return true;
  };
  const noSemiKeyword = () => {
    const len = tokEnd - tokStart;
    const c = src[tokStart];
    if (len < 2 || len > 9 || c < 0x61 || c > 0x7a) return false;
    for (const k of NO_SEMI_KEYWORDS[c]) if (is(k)) return true;
    return false;
  };
  /** From an opening `"` or `'`: past its closing quote (escapes skipped; a newline ends it). */
  const skipQuoted = (quote: number) => {
    i++;
    while (i < n && src[i] !== quote && src[i] !== 0x0a) i += src[i] === 0x5c ? 2 : 1;
    i++;
  };
  /** From an opening backquote: past the raw string's end, counting its lines. */
  const skipRaw = () => {
    i++;
    while (i < n && src[i] !== 0x60) {
      if (src[i] === 0x0a) {
        line++;
        lineStart = i + 1;
      }
      i++;
    }
    i++;
  };
  /** From `/*`: past the comment's end, counting its lines; whether it held a newline. */
  const skipBlockComment = (): boolean => {
    i += 2;
    let newline = false;
    while (i < n && !(src[i] === 0x2a && src[i + 1] === 0x2f)) {
      if (src[i] === 0x0a) {
        newline = true;
        line++;
        lineStart = i + 1;
      }
      i++;
    }
    i += 2;
    return newline;
  };
  /** The next token's kind; its place in tokStart/tokEnd/tokLine/tokCol. A newline may be a SEMI. */
  const next = (): number => {
    while (i < n) {
      const c = src[i];
      if (c === 0x0a) {
        if (semi) {
          semi = false;
          tokLine = line;
          tokCol = i - lineStart + 1;
          line++;
          lineStart = ++i;
          return SEMI;
        }
        line++;
        lineStart = ++i;
      } else if (c === 0x20 || c === 0x09 || c === 0x0d) {
        i++;
      } else if (c === 0x2f && src[i + 1] === 0x2f) {
        while (i < n && src[i] !== 0x0a) i++;
      } else if (c === 0x2f && src[i + 1] === 0x2a) {
        // A block comment holding a newline acts as one.
        if (skipBlockComment() && semi) {
          semi = false;
          tokLine = line;
          tokCol = i - lineStart + 1;
          return SEMI;
        }
      } else {
        tokStart = i;
        tokLine = line;
        tokCol = i - lineStart + 1;
        if (c === 0x22 || c === 0x27 || c === 0x60) {
          if (c === 0x60) skipRaw();
          else skipQuoted(c);
          semi = true;
          tokEnd = i;
          return OTHER;
        }
        if (IDENT(c)) {
          while (i < n && IDENT(src[i])) i++;
          tokEnd = i;
          semi = !noSemiKeyword();
          return IDENTIFIER;
        }
        i++;
        tokEnd = i;
        switch (c) {
          case 0x3b: // ;
            semi = false;
            return SEMI;
          case 0x28: // (
          case 0x5b: // [
            semi = false;
            return OPEN;
          case 0x7b: // {
            semi = false;
            return BRACE;
          case 0x29: // )
          case 0x5d: // ]
          case 0x7d: // }
            semi = true;
            return CLOSE;
          case 0x2b: // + and ++
          case 0x2d: // - and --
            if (src[i] === c) {
              i++;
              tokEnd = i;
              semi = true;
            } else semi = false;
            return OTHER;
          default:
            semi = false;
            return OTHER;
        }
      }
    }
    if (semi) {
      semi = false;
      tokLine = line;
      tokCol = i - lineStart + 1;
      return SEMI;
    }
    return EOF;
  };
  /**
   * After an opening bracket: consumes through its closing one (its place in tokLine/tokCol);
   * false at EOF. Inside brackets no semicolon matters, so this is a plain byte loop that only
   * looks at brackets, strings, runes and comments: most of a file is function bodies.
   */
  const skipBalanced = (): boolean => {
    let depth = 1;
    while (i < n) {
      const c = src[i];
      const kind = BYTE_CLASS[c];
      if (kind === 0) {
        i++;
        continue;
      }
      if (kind === NEWLINE) {
        line++;
        lineStart = ++i;
      } else if (kind === OPENS) {
        depth++;
        i++;
      } else if (kind === CLOSES) {
        if (--depth === 0) {
          tokLine = line;
          tokCol = i - lineStart + 1;
          i++;
          semi = true;
          return true;
        }
        i++;
      } else if (kind === QUOTE) skipQuoted(c);
      else if (kind === BACKQUOTE) skipRaw();
      else if (src[i + 1] === 0x2f) {
        while (i < n && src[i] !== 0x0a) i++;
      } else if (src[i + 1] === 0x2a) skipBlockComment();
      else i++;
    }
    return false;
  };

  const funcs: FuncExtent[] = [];
  let depth = 0;
  let statementStart = true;
  for (let kind = next(); kind !== EOF; kind = next()) {
    const atStart = statementStart;
    statementStart = kind === SEMI;
    if (kind === OPEN || kind === BRACE) depth++;
    else if (kind === CLOSE) depth--;
    if (kind !== IDENTIFIER || depth !== 0 || !atStart || !is(FUNC)) continue;
    // A declaration: optional receiver, name, type parameters, parameters, results, then the body.
    const startLine = tokLine;
    const startCol = tokCol;
    let k = next();
    if (k === OPEN && !skipBalanced()) break;
    if (k === OPEN) k = next();
    const name = k === IDENTIFIER ? src.toString('utf8', tokStart, tokEnd) : '';
    let body = false;
    for (k = next(); k !== EOF && k !== SEMI; k = next()) {
      if (k === BRACE) {
        body = true;
        break;
      }
      if (k === OPEN) {
        if (!skipBalanced()) break;
      } else if (k === IDENTIFIER && (is(STRUCT) || is(INTERFACE))) {
        if (next() === BRACE && !skipBalanced()) break;
      }
    }
    statementStart = k === SEMI;
    if (!body) continue;
    if (!skipBalanced()) break;
    funcs.push({ name, startLine, startCol, endLine: tokLine, endCol: tokCol + 1 });
  }
  return funcs;
}
