/**
 * A text on one line: a line break in it (a file or branch name, an error message may hold one) is
 * shown escaped, so it cannot pass for another line of a line-per-event stream. Pure.
 */
export function singleLine(text: string): string {
  return text.replace(/[\r\n\v\f\u0085\u2028\u2029]/g, (c) => LINE_BREAKS[c]!);
}

const LINE_BREAKS: Record<string, string> = { "\r": "\\r", "\n": "\\n", "\v": "\\u000b", "\f": "\\f", "\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029" };

/**
 * A value as one line of JSON Lines. JSON.stringify escapes \n and \r but leaves U+2028 and U+2029
 * raw, which line readers that follow Unicode (Python's splitlines, editors) take as line breaks;
 * `\u2028` is the JSON escape for the same character, so the line decodes to the same value. Pure.
 */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}
