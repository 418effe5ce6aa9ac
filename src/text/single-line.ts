/**
 * A text on one line: a line break in it (a file or branch name, an error message may hold one) is
 * shown escaped, so it cannot pass for another line of a line-per-event stream. Pure.
 */
export function singleLine(text: string): string {
  return text.replace(/[\r\n\v\f\u0085\u2028\u2029]/g, (c) => LINE_BREAKS[c]!);
}

const LINE_BREAKS: Record<string, string> = { "\r": "\\r", "\n": "\\n", "\v": "\\u000b", "\f": "\\f", "\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029" };
