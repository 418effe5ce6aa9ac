import { describe, expect, it } from "vitest";
import { unquoteCPath } from "../../src/git/c-quoted-path.js";

describe("unquoteCPath", () => {
  it("leaves a plain path as it is", () => {
    expect(unquoteCPath("src/a b.ts")).toBe("src/a b.ts");
    expect(unquoteCPath('src/"x')).toBe('src/"x');
  });
  it("reads git's escapes and octal UTF-8 bytes", () => {
    expect(unquoteCPath('"a\\nb"')).toBe("a\nb");
    expect(unquoteCPath('"tab\\there \\"q\\" back\\\\slash"')).toBe('tab\there "q" back\\slash');
    expect(unquoteCPath('"caf\\303\\251"')).toBe("café");
    expect(unquoteCPath('"\\001ctl"')).toBe("\x01ctl");
    expect(unquoteCPath('"\\a\\b\\v\\f\\r"')).toBe("\x07\b\v\f\r");
  });
  it("keeps a character outside the BMP that core.quotePath=false leaves raw inside a quoted path", () => {
    expect(unquoteCPath('"\u{1F600}\\n.txt"')).toBe("\u{1F600}\n.txt");
    expect(unquoteCPath('"a/\u{1F600}\\"q.txt"')).toBe('a/\u{1F600}"q.txt');
  });
});
