import { describe, expect, it } from "vitest";
import { failureExcerpt } from "../../src/core/text/failure-excerpt.js";

// What npm 11 printed for `npm test --workspaces` with three workspaces, the second failing.
const NPM_WORKSPACES = `
> a@1.0.0 test
> echo a ok

a ok

> b@1.0.0 test
> tsc -p .

src/x.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.
Found 1 error.
npm error Lifecycle script \`test\` failed with error:
npm error code 2
npm error path /repo/packages/b
npm error workspace b@1.0.0
npm error location /repo/packages/b
npm error command failed
npm error command sh -c tsc -p .


> c@1.0.0 test
> vitest run

c: 12 tests passed
c all good
`;

describe("failureExcerpt", () => {
  it("takes the failed workspace's section from npm --workspaces output, not the passing tail", () => {
    const e = failureExcerpt(NPM_WORKSPACES);
    expect(e.where).toBe("workspace b@1.0.0");
    expect(e.text).toContain("error TS2322");
    expect(e.text).toContain("> b@1.0.0 test");
    expect(e.text).toContain("npm error code 2");
    expect(e.text).not.toContain("c all good");
    expect(e.text).not.toContain("a ok");
    expect(e.text).not.toContain("npm error path");
  });

  it("reads npm's older `npm ERR!` block and names every failed workspace", () => {
    const old = NPM_WORKSPACES.replace(/^npm error /gm, "npm ERR! ").replace(
      "> c@1.0.0 test\n> vitest run\n\nc: 12 tests passed",
      "> c@1.0.0 test\n> vitest run\n\nFAIL c.test.ts\nnpm ERR! workspace c@1.0.0",
    );
    const e = failureExcerpt(old);
    expect(e.where).toBe("workspace b@1.0.0, c@1.0.0");
    expect(e.text).toContain("error TS2322");
    expect(e.text).toContain("FAIL c.test.ts");
  });

  it("keeps the first error of a long output with the lines before it and the closing summary", () => {
    const noise = Array.from({ length: 200 }, (_, i) => `compiling module ${i}`);
    const out = [...noise.slice(0, 100), "src/a.ts:4:2 - error TS1005: ';' expected.", "  4   let x = ", ...noise.slice(100), "Found 1 error in src/a.ts:4"].join("\n");
    const e = failureExcerpt(out, 12);
    const lines = e.text.split("\n");
    expect(lines.length).toBeLessThanOrEqual(12);
    expect(lines[0]).toBe("compiling module 97");
    expect(e.text).toContain("error TS1005");
    expect(e.text).toContain("  4   let x =");
    expect(lines).toContain("…");
    expect(lines[lines.length - 1]).toBe("Found 1 error in src/a.ts:4");
    expect(e.where).toBeUndefined();
  });

  it("does not take a count of zero errors for an error", () => {
    const out = ["lint: 0 errors, 2 warnings", ...Array.from({ length: 50 }, (_, i) => `test ${i} ok`), "AssertionError: expected 1 to be 2", "1 failed"].join("\n");
    expect(failureExcerpt(out, 10).text.split("\n")[0]).toBe("test 47 ok");
  });

  it("falls back to the tail when no line looks like an error", () => {
    const out = Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n");
    expect(failureExcerpt(out, 5).text).toBe("line 95\nline 96\nline 97\nline 98\nline 99");
  });

  it("strips colour codes and bounds long lines", () => {
    const e = failureExcerpt(`\x1b[31mFAIL\x1b[39m src/x.test.ts\n${"y".repeat(5000)}`);
    expect(e.text.startsWith("FAIL src/x.test.ts")).toBe(true);
    expect(e.text).not.toContain("\x1b");
    expect(Math.max(...e.text.split("\n").map((l) => l.length))).toBeLessThanOrEqual(401);
  });

  it("collapses blank lines and returns an empty text for empty output", () => {
    expect(failureExcerpt("\n\n\nerror: boom\n\n\n\nat x\n\n").text).toBe("error: boom\n\nat x");
    expect(failureExcerpt("").text).toBe("");
  });
});
