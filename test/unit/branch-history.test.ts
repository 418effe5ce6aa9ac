import { describe, expect, it } from "vitest";
import { historyOf } from "../../src/git/branch-history.js";

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
