import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/paths.js";

// The docs link to each other by file and heading: a page renamed or a heading reworded must not
// leave a link that leads nowhere. Anchors are GitHub's: the heading in lowercase, punctuation
// dropped, spaces as dashes, a repeated heading numbered.

const pages = [
  "README.md",
  "ARCHITECTURE.md",
  ...readdirSync(join(REPO_ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** The text outside code blocks and code spans: where Markdown sees headings and links. */
const prose = (text: string) => text.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, (span) => span.replace(/[[\]()]/g, " "));

function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_\- ]/gu, "")
    .replace(/ /g, "-");
}

function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of prose(text).matchAll(/^#{1,6} +(.*)$/gm)) {
    const base = anchor(heading!);
    const n = seen.get(base);
    seen.set(base, (n ?? -1) + 1);
    anchors.add(n === undefined ? base : `${base}-${n + 1}`);
  }
  return anchors;
}

function linksOf(page: string): string[] {
  const text = readFileSync(join(REPO_ROOT, page), "utf8");
  return [...prose(text).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
}

describe("the docs' links", () => {
  it("computes GitHub's anchors", () => {
    expect(anchor("`--rolling`: no barriers")).toBe("--rolling-no-barriers");
    expect(anchor("Merge settings: `merge: {strategy, options}`")).toBe("merge-settings-merge-strategy-options");
    expect([...anchorsOf("# A\n## A\n```\n# B\n```\n## A\n")]).toEqual(["a", "a-1", "a-2"]);
  });

  it.each(pages)("every link of %s leads to a file, and a heading there", (page) => {
    const broken: string[] = [];
    for (const link of linksOf(page)) {
      const [path, hash] = link.split("#") as [string, string | undefined];
      const target = path ? normalize(join(dirname(page), path)) : page;
      if (!existsSync(join(REPO_ROOT, target))) broken.push(`${link}: no ${target}`);
      else if (hash !== undefined && target.endsWith(".md") && !anchorsOf(readFileSync(join(REPO_ROOT, target), "utf8")).has(hash)) broken.push(`${link}: no heading #${hash} in ${target}`);
    }
    expect(broken).toEqual([]);
  });

  it("the README links every page of docs/", () => {
    const linked = new Set(linksOf("README.md").map((l) => normalize(l.split("#")[0]!)));
    expect(pages.filter((p) => p.startsWith("docs/") && !linked.has(p))).toEqual([]);
  });

  it("docs/benchmarks.md holds the markers `npm run bench:readme` writes between", () => {
    const text = readFileSync(join(REPO_ROOT, "docs", "benchmarks.md"), "utf8");
    expect(text.indexOf("<!-- bench:start -->")).toBeGreaterThan(-1);
    expect(text.indexOf("<!-- bench:end -->")).toBeGreaterThan(text.indexOf("<!-- bench:start -->"));
  });
});
