import { isAbsolute, relative, resolve, sep } from 'node:path';

/** The linters the lint check runs, in the order it runs them. */
export const LINTERS = ['gofmt', 'go vet', 'golangci-lint'] as const;
export type Linter = (typeof LINTERS)[number];

/** One problem a linter reported, at a path relative to the repository's top (as annotations want). */
export interface Finding {
  linter: Linter;
  /** The analyzer or golangci-lint linter that found it (`printf`, `errcheck`); `gofmt` for gofmt. */
  rule: string;
  /** Relative to the repository's top, `/`-separated; '' when the tool named no file in it. */
  file: string;
  line: number;
  column?: number;
  message: string;
  /** 'error' unless the tool said otherwise (golangci-lint's severity). */
  severity: 'error' | 'warning' | 'note';
  /** Other linters that reported the same thing at the same place (kept once, under the first). */
  alsoBy?: Linter[];
}

/** A finding judged: on a changed line (or no base to compare with) it fails the check; else it is listed. */
export interface Judged extends Finding {
  failing: boolean;
}

/**
 * The path of a file a tool named, relative to the repository's top; '' for one outside it (a
 * dependency's file, GOROOT), so it is never an annotation on a path the repository does not have.
 */
export function repoPath(top: string, base: string, file: string): string {
  const abs = isAbsolute(file) ? file : resolve(base, file);
  const rel = relative(top, abs);
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) return '';
  return rel.split(sep).join('/');
}

/**
 * One finding per place and message: golangci-lint runs govet itself (`unreachable: unreachable code`,
 * from linter `govet`), and `go vet` reports the same thing without the analyzer's prefix; the first
 * linter to report it keeps it and names the others in `alsoBy`.
 */
export function dedupe(findings: Finding[]): Finding[] {
  const kept = new Map<string, Finding>();
  for (const f of findings) {
    const message =
      f.linter === 'golangci-lint' && f.rule === 'govet' ? f.message.replace(/^[\w-]+: /, '') : f.message;
    const key = `${f.file}:${f.line}:${message}`;
    const first = kept.get(key);
    if (!first) kept.set(key, { ...f });
    else if (first.linter !== f.linter) first.alsoBy = [...new Set([...(first.alsoBy ?? []), f.linter])];
  }
  return [...kept.values()];
}

/**
 * On a pull request (`changed` given: lines per repository path, from the merge base) only findings
 * on changed lines fail; the rest are listed. Without a base every finding fails, as the tools do.
 */
export function judge(findings: Finding[], changed: Map<string, number[]> | undefined): Judged[] {
  if (!changed) return findings.map((f) => ({ ...f, failing: true }));
  const sets = new Map([...changed].map(([file, lines]) => [file, new Set(lines)]));
  return findings.map((f) => ({ ...f, failing: Boolean(f.file && sets.get(f.file)?.has(f.line)) }));
}
