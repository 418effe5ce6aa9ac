import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { historyOf } from "../../src/git/branch-history.js";
import { prng } from "../helpers/attack.js";

// Base B. Each commit's files are what git log said: for a merge, what its remerge-diff shows.
const history = (edges: Record<string, string[]>, files: Record<string, string[]> = {}) =>
  historyOf("B", new Map(Object.entries(edges)), new Map(Object.keys(edges).map((k) => [k, files[k] ?? [`${k}.txt`]])));

describe("whose merge commits are whose", () => {
  // i1 is the integration branch's; s1, s2 a sibling's line (s2 merges its own side branch x1); t merges both.
  const edges = { i1: ["B"], x1: ["B"], s1: ["B"], s2: ["s1", "x1"], t1: ["B"], t2: ["t1", "i1"], t3: ["t2", "s2"], t4: ["t3"] };

  it("a merge on the task's own line counts with what was edited in it; the sibling's merge and what each merge brought do not", () => {
    const h = history(edges);
    expect([...h.ownChanges("t4", ["s2"], "i1")].sort()).toEqual(["t1.txt", "t2.txt", "t3.txt", "t4.txt"]);
    expect([...h.ownChanges("s2", [], "i1")].sort()).toEqual(["s1.txt", "s2.txt", "x1.txt"]);
    // A clean merge: git's remerge-diff shows nothing, so it adds nothing.
    expect([...history(edges, { t2: [], t3: [] }).ownChanges("t4", ["s2"], "i1")].sort()).toEqual(["t1.txt", "t4.txt"]);
  });

  it("names the files only its merges changed, with such a merge", () => {
    const h = history(edges, { t2: ["t2.txt", "both.txt"], t3: ["t3.txt"], t4: ["both.txt"] });
    expect(h.changedInMerges("t4", ["s2"], "i1")).toEqual(
      new Map([
        ["t2.txt", "t2"],
        ["t3.txt", "t3"],
      ]),
    );
  });

  it("a merge the integration branch holds is not the task's", () => {
    const h = history({ i1: ["B"], i2: ["B"], i3: ["i1", "i2"], t1: ["i3"] });
    expect([...h.ownChanges("t1", [], "i3")]).toEqual(["t1.txt"]);
  });

  it("lists the task's own octopus merges, not a sibling's", () => {
    const h = history({ x1: ["B"], y1: ["B"], s1: ["B", "x1", "y1"], t1: ["B"], t2: ["t1", "s1", "x1"] }, { s1: [], t2: [] });
    expect(h.octopusMerges("t2", ["s1"])).toEqual(["t2"]);
    expect(h.octopusMerges("s1", ["t2"])).toEqual(["s1"]);
    expect(h.octopusMerges("t1", ["s1"])).toEqual([]);
  });
});

describe("no commit escapes every task's check", () => {
  it("a task that fast-forwarded onto a sibling's branch holds the sibling's commits on its own line: they count for both", () => {
    // a merged b (a fast-forward: a had no commit yet), then committed a1.
    const h = history({ b1: ["B"], b2: ["b1"], a1: ["b2"] });
    expect([...h.ownChanges("b2", ["a1"])].sort()).toEqual(["b1.txt", "b2.txt"]);
    expect([...h.ownChanges("a1", ["b2"])].sort()).toEqual(["a1.txt", "b1.txt", "b2.txt"]);
  });

  it("a side branch stays with the task that merged it, when a sibling merges that task's branch", () => {
    // b merged its side branch x; a merged b.
    const h = history({ x1: ["B"], b1: ["B"], b2: ["b1", "x1"], a1: ["B"], a2: ["a1", "b2"] });
    expect([...h.ownChanges("b2", ["a2"])].sort()).toEqual(["b1.txt", "b2.txt", "x1.txt"]);
    expect([...h.ownChanges("a2", ["b2"])].sort()).toEqual(["a1.txt", "a2.txt"]);
  });

  it("a side branch two tasks merged each by itself counts for both", () => {
    const h = history({ x1: ["B"], a1: ["B"], a2: ["a1", "x1"], b1: ["B"], b2: ["b1", "x1"] });
    expect([...h.ownChanges("a2", ["b2"])].sort()).toEqual(["a1.txt", "a2.txt", "x1.txt"]);
    expect([...h.ownChanges("b2", ["a2"])].sort()).toEqual(["b1.txt", "b2.txt", "x1.txt"]);
  });

  it("a side branch merged through a sibling's branch and beside it is the sibling's (it merged it)", () => {
    // b merged x; a merged a commit y that merges both b's tip and x.
    const h = history({ x1: ["B"], b1: ["B"], b2: ["b1", "x1"], y: ["b2", "x1"], a1: ["B"], a2: ["a1", "y"] });
    expect([...h.ownChanges("a2", ["b2"])].sort()).toEqual(["a1.txt", "a2.txt", "y.txt"]);
    expect([...h.ownChanges("b2", ["a2"])]).toContain("x1.txt");
  });

  // Random histories: commits with one to three parents among the earlier ones, some of them task tips, one the integration branch's.
  const histories = fc.record({ size: fc.integer({ min: 1, max: 24 }), seed: fc.integer(), tips: fc.integer({ min: 1, max: 4 }) }).map(({ size, seed, tips }) => {
    const rand = prng(seed);
    const pick = (n: number) => Math.floor(rand() * n);
    const commits = Array.from({ length: size }, (_, i) => `c${i}`);
    const edges: Record<string, string[]> = {};
    commits.forEach((c, i) => {
      const ps = [i && rand() < 0.8 ? commits[i - 1]! : i ? commits[pick(i)]! : "B"];
      for (let k = pick(3); k > 0 && i > 0; k--) ps.push(commits[pick(i)]!);
      edges[c] = [...new Set(ps)];
    });
    const chosen = Array.from({ length: tips + 1 }, () => commits[pick(size)]!);
    return { edges, integration: chosen[0]!, heads: chosen.slice(1) };
  });

  it("every commit the tasks hold and the integration branch does not is some task's own; every commit of a task's first-parent line is its own", () => {
    fc.assert(
      fc.property(histories, ({ edges, integration, heads }) => {
        const h = history(edges);
        const reach = (c: string, into = new Set<string>()): Set<string> => {
          if (c === "B" || into.has(c)) return into;
          into.add(c);
          for (const p of edges[c]!) reach(p, into);
          return into;
        };
        const merged = reach(integration);
        const own = heads.map((head) => h.ownChanges(head, heads, integration));
        for (const head of heads)
          for (const c of reach(head))
            if (!merged.has(c))
              expect(
                own.some((o) => o.has(`${c}.txt`)),
                `${c} of ${head}`,
              ).toBe(true);
        heads.forEach((head, i) => {
          for (let c: string | undefined = head; c !== undefined && c !== "B" && !merged.has(c); c = edges[c]![0]) expect(own[i]!.has(`${c}.txt`), `${c} on ${head}'s line`).toBe(true);
        });
      }),
      { numRuns: 300 },
    );
  });
});
