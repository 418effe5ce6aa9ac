/**
 * Text bound for a terminal. Plan text, commit subjects and file names come from people, models
 * and other repositories; printed raw, an ESC sequence could recolour, move the cursor, retitle
 * the window or write the clipboard (OSC 52), and a bidi override could make `a.ts` read as
 * `st.a`. Every such character is shown as an escape instead, at the one place all output leaves
 * the helper (the writers in `main()`, src/cli.ts).
 *
 * - C0 controls but tab and line feed: `\r` for carriage return, `\xHH` for the others (ESC is
 *   `\x1b`). JSON output never holds these raw (JSON.stringify escapes them), so the form need
 *   not be valid JSON.
 * - DEL, the C1 controls (U+0080-U+009F) and the bidi controls (U+061C, U+200E, U+200F,
 *   U+202A-U+202E, U+2066-U+2069): `\uHHHH`. JSON.stringify leaves these raw, and `\uHHHH` is
 *   the JSON escape for the same character, so `--json` output stays valid JSON that decodes to
 *   the original text.
 */

const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(ch: string): string {
  const code = ch.charCodeAt(0);
  if (code === 0x0d) return "\\r";
  if (code < 0x20) return `\\x${code.toString(16).padStart(2, "0")}`;
  return `\\u${code.toString(16).padStart(4, "0")}`;
}

/** `text` with every terminal control and bidi character made visible as an escape; `\n` and `\t` kept. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}
