import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { braceAlternatives, covers, findOverlaps, ownedPathProblem, ownedPattern, overlapWitness } from "../../src/core/plan/owns.js";

const overlap = (a: string, b: string) => overlapWitness(ownedPattern(a), ownedPattern(b));

describe("owned path overlap", () => {
  it.each([
    ["src/auth", "src/auth/login.ts", "src/auth/login.ts"],
    ["src/auth/", "src/auth", "src/auth"],
    ["./src/auth", "src/auth/x", "src/auth/x"],
    ["src/**", "src/a/b/c.ts", "src/a/b/c.ts"],
    ["**/*.md", "docs/guide/intro.md", "docs/guide/intro.md"],
    ["lib/{a,b}/x", "lib/b", "lib/b/x"],
    ["src/[a-c].ts", "src/b.ts", "src/b.ts"],
    ["a/**/b", "a/b", "a/b"],
    ["a/**/b", "a/x/y/b/c", "a/x/y/b/c"],
    [".", "anything/at/all", "anything/at/all"],
    ["src/*", "src/deep/file.ts", "src/deep/file.ts"],
    // Example paths read like real files: a `*` that could match nothing still shows a name.
    ["src/**/*.ts", "src/**/*.spec.ts", "src/x.spec.ts"],
    ["src/*.ts", "src/**/*.ts", "src/x.ts"],
    ["**/*.test.*", "lib/**", "lib/x.test.x"],
    // A name that must start with '.' keeps it.
    [".github/**", "**/*.yml", ".github/x.yml"],
    ["**/.env*", "config/**", "config/.env"],
  ])("%s and %s overlap at %s", (a, b, example) => {
    expect(overlap(a, b)).toBe(example);
    expect(overlap(b, a)).toBe(example);
  });

  it.each([
    ["src/**/*.css", "src/**/*.ts"],
    ["src/a", "src/ab"],
    ["src/[abc].ts", "src/[d-f].ts"],
    ["*.ts", "src/a.ts"],
    ["src/?.ts", "src/ab.ts"],
    ["src/web/**", "src/server/**"],
    ["src/*.ts", "src/sub/a.ts"],
    ["a[!-0]b", "a/b"],
  ])("%s and %s are disjoint", (a, b) => {
    expect(overlap(a, b)).toBeUndefined();
    expect(overlap(b, a)).toBeUndefined();
  });

  it("returns a witness both patterns cover, for random folder pairs", () => {
    const segment = fc.constantFrom("src", "web", "api", "a", "b", "*", "**", "x.ts", "*.ts");
    const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join("/"));
    fc.assert(
      fc.property(path, path, (a, b) => {
        const w1 = overlap(a, b);
        const w2 = overlap(b, a);
        expect(w1 === undefined).toBe(w2 === undefined);
        if (w1 !== undefined) {
          // The witness is itself covered by both: as a plain path it overlaps each pattern.
          expect(overlap(w1, a)).toBeDefined();
          expect(overlap(w1, b)).toBeDefined();
          expect(covers(ownedPattern(a), w1) && covers(ownedPattern(b), w1)).toBe(true);
          // No pattern here asks for a name starting or ending with '.', so the example has none.
          expect(w1.split("/").some((name) => name.startsWith(".") || name.endsWith("."))).toBe(false);
        }
      }),
      { numRuns: 400 },
    );
  });

  it("finds pairs across many owners through their fixed prefixes", () => {
    const owners = Array.from({ length: 300 }, (_, i) => ({ owner: i, patterns: [`src/mod${i}/**`] }));
    owners.push({ owner: 300, patterns: ["src/mod42/index.ts"] });
    const found = findOverlaps(owners);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ a: 42, b: 300, example: "src/mod42/index.ts" });
  });

  it("expands braces, and refuses too many alternatives", () => {
    expect(braceAlternatives("a/{b,c{d,e}}/f")).toEqual(["a/b/f", "a/cd/f", "a/ce/f"]);
    expect(ownedPathProblem("{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}")).toMatch(/more than 64/);
  });

  it.each([
    ["/etc", /absolute/],
    ["C:\\x", /absolute/],
    ["a/../../b", /climbs out/],
    [".git/config", /\.git/],
    ["", /empty/],
    ["a\nb", /line break/],
  ])("rejects %j", (raw, message) => {
    expect(ownedPathProblem(raw)).toMatch(message);
  });
});

describe("covers", () => {
  it.each([
    ["src/auth/", "src/auth/login.ts", true],
    ["src/auth", "src/authx.ts", false],
    ["src/**/*.ts", "src/a/b.ts", true],
    ["src/**/*.ts", "src/a/b.css", false],
    ["*.md", "README.md", true],
    ["*.md", "docs/x.md", false],
    ["{a,b}/x", "b/x/y", true],
    // A path's spaces are part of its name (a plan's around a pattern are not).
    [" b/ ", "b/x ", true],
    ["b/", " b/x", false],
    ["b/", "b ", false],
    ["b/x.md", "b/x.md ", false],
  ])("%s covers %s: %s", (pattern, path, expected) => {
    expect(covers(ownedPattern(pattern), path)).toBe(expected);
  });
});
