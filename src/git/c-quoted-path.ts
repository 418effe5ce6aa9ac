const ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, "\\": 92 };

/**
 * A path as git prints it outside `-z` mode: as is, or in double quotes with C escapes (`\n`,
 * `\"`, octal bytes `\303\251` for UTF-8) when it holds a control character, a quote, a backslash
 * or (with core.quotePath) a byte above 0x7f. Pure.
 */
export function unquoteCPath(text: string): string {
  if (!(text.length >= 2 && text.startsWith('"') && text.endsWith('"'))) return text;
  const bytes: number[] = [];
  const body = text.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== "\\") {
      // A whole code point: core.quotePath=false leaves characters outside the BMP raw (two UTF-16 units).
      const c = String.fromCodePoint(body.codePointAt(i)!);
      bytes.push(...Buffer.from(c, "utf8"));
      i += c.length - 1;
      continue;
    }
    const next = body[i + 1] ?? "";
    const octal = /^[0-7]{3}/.exec(body.slice(i + 1, i + 4));
    if (octal) {
      bytes.push(parseInt(octal[0], 8));
      i += 3;
    } else if (next in ESCAPES) {
      bytes.push(ESCAPES[next]!);
      i += 1;
    } else {
      bytes.push(92); // a lone backslash: keep it
    }
  }
  return Buffer.from(bytes).toString("utf8");
}
