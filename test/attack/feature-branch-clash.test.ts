import { describe, expect, it } from "vitest";
import { describeRun } from "../helpers/attack.js";
import { runHelper } from "../helpers/cli.js";
import { refsOf } from "../helpers/feature.js";
import { makeRepo } from "../helpers/git.js";

/**
 * Slugs that continue one another: feature `demo`'s task `a` works on `feature/demo-a`, which is
 * also the default integration branch of a feature `demo-a`. Started both, each would move the
 * other's branch (and, taking over a dead command's lock, clear the other's ref locks): the second
 * start is refused, whichever starts first, and changes nothing.
 */
const plan = (feature: string, ids: string[]) => ["version: 1", `feature: ${feature}`, "tasks:", ...ids.map((id) => `  - {id: ${id}, title: Part ${id}, owns: [${id}/]}`), ""].join("\n");

describe("two features whose branches would be the same", () => {
  for (const [first, second] of [
    ["demo", "demo-a"],
    ["demo-a", "demo"],
  ] as const) {
    it(`start ${second} after start ${first} is refused and changes nothing`, () => {
      const repo = makeRepo({ name: `clash-${first}`, files: { "README.md": "# r\n", ".parallel/demo/plan.yaml": plan("Demo", ["a", "b"]), ".parallel/demo-a/plan.yaml": plan("Demo A", ["x"]) } });
      const started = runHelper(["start", first], { cwd: repo });
      expect(started.code, describeRun(started)).toBe(0);
      const before = refsOf(repo);
      const r = runHelper(["start", second], { cwd: repo });
      expect(r.code, describeRun(r)).toBe(4);
      expect(r.stderr).toContain(`branch \`feature/demo-a\` is already a branch of the feature \`${first}\``);
      expect(refsOf(repo)).toBe(before);
    });
  }
});
