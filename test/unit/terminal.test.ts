import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { terminalSafe } from "../../src/core/text/terminal.js";

/** What a terminal acts on: C0 but tab and line feed, DEL, C1, and the bidi controls. Written out here, not imported. */
const ACTED_ON = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const HOSTILE = [...Array(0x20).keys(), ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i), 0x61c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069].map((c) =>
  String.fromCharCode(c),
);

const SEED = 20261124;
const hostileText = fc
  .array(fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: "grapheme", maxLength: 8 }), fc.constantFrom("\x1b[31m", "\x1b]52;c;cm0gLXJmIH4K\x07", "\x9b2J", "\u202e")), { maxLength: 20 })
  .map((parts) => parts.join(""));

describe("terminalSafe", () => {
  it("leaves no control or bidi character raw, only tab and line feed", () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        const safe = terminalSafe(text);
        expect(safe).not.toMatch(ACTED_ON);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it("leaves text without such characters unchanged", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 80 }).filter((t) => !ACTED_ON.test(t)),
        (text) => {
          expect(terminalSafe(text)).toBe(text);
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
    expect(terminalSafe("tab\there\nnext line, émoji 🎉, עברית, \\x1b stays")).toBe("tab\there\nnext line, émoji 🎉, עברית, \\x1b stays");
  });

  it("shows each character as a readable escape", () => {
    expect(terminalSafe("\x1b[2J\x1b]52;c;aGk=\x07")).toBe("\\x1b[2J\\x1b]52;c;aGk=\\x07");
    expect(terminalSafe("a\rb\x00c\x7fd\x9be")).toBe("a\\rb\\x00c\\u007fd\\u009be");
    expect(terminalSafe("evil\u202etxt.exe\u2066\u200f\u061c")).toBe("evil\\u202etxt.exe\\u2066\\u200f\\u061c");
  });

  it("keeps JSON valid and decoding to the original text", () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        const out = terminalSafe(JSON.stringify({ text }, null, 2));
        expect(out).not.toMatch(ACTED_ON);
        expect(JSON.parse(out)).toEqual({ text });
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});
