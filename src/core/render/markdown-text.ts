/** Helpers that keep arbitrary plan text from breaking the Markdown around it. */

/** One line of prose: line breaks become spaces, so a title cannot start a new block. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** An inline code span that shows `text` verbatim, whatever backticks it holds. */
export function code(text: string): string {
  const line = oneLine(text);
  const longest = Math.max(0, ...[...line.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = "`".repeat(longest + 1);
  const pad = line.startsWith("`") || line.endsWith("`") ? " " : "";
  return `${ticks}${pad}${line}${pad}${ticks}`;
}

/** A fenced block that no line of `body` can close early. */
export function fence(info: string, body: string): string {
  const longest = Math.max(0, ...[...body.matchAll(/^ {0,3}(`{3,}|~{3,})/gm)].map((m) => m[1]!.length));
  const ticks = "`".repeat(Math.max(3, longest + 1));
  return `${ticks}${info}\n${body.replace(/\n+$/, "")}\n${ticks}`;
}

export function list(items: string[]): string {
  return items.map(code).join(", ");
}
