import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { commitIn, refsOf, startedFeature, TWO_PHASES } from "../helpers/feature.js";
import { git } from "../helpers/git.js";

const planPath = (repo: string) => join(repo, ".parallel/demo/plan.yaml");
const frozenPath = (repo: string) => join(repo, ".git/parallel/demo/plan.yaml");
const frozen = (repo: string) => readFileSync(frozenPath(repo), "utf8");
const editPlan = (repo: string, edit: (text: string) => string) => writeFileSync(planPath(repo), edit(readFileSync(planPath(repo), "utf8")));

/** A refused replan: exit 4, each message said, and nothing written (frozen plan, state, refs). */
function refusedReplan(repo: string, ...messages: string[]) {
  const before = [frozen(repo), readFileSync(join(repo, ".git/parallel/demo/state.json"), "utf8"), refsOf(repo)];
  const r = runHelper(["replan"], { cwd: repo });
  for (const m of messages) expect(r.stderr).toContain(m);
  expect(r.code).toBe(4);
  expect([frozen(repo), readFileSync(join(repo, ".git/parallel/demo/state.json"), "utf8"), refsOf(repo)]).toEqual(before);
  return r;
}

describe("claude-parallel replan", () => {
  it("applies a widened owns to the phase in progress, so the sync that refused passes", () => {
    const { repo, wt } = startedFeature("widen");
    commitIn(wt("a"), { "a/x.txt": "a\n", "shared.txt": "one\nTWO from a\nthree\n" });
    commitIn(wt("b"), { "b/x.txt": "b\n" });
    const blocked = runHelper(["sync"], { cwd: repo });
    expect(blocked.stdout).toContain("a: it changed files it does not own: shared.txt");
    expect(blocked.code).toBe(4);

    editPlan(repo, (t) => t.replace("owns: [a/]}", "owns: [a/, shared.txt]}"));
    // start says the plan changed, and how to apply it.
    const note = runHelper(["start", "--dry-run"], { cwd: repo });
    expect(note.stdout).toContain("changed after the feature started");
    expect(note.stdout).toContain("apply it with: claude-parallel replan demo");

    const before = frozen(repo);
    const dry = runHelper(["replan", "--dry-run"], { cwd: repo });
    expect(dry.stderr).toBe("");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("Dry run of claude-parallel replan demo: nothing is changed. It would:\n");
    expect(dry.stdout).toContain(`  write the frozen plan ${join(repo, ".git/parallel/demo/plan.yaml")}\n`);
    expect(dry.stdout).toContain("a (phase 1, in progress): owns [a/] -> [a/, shared.txt]");
    expect(frozen(repo)).toBe(before);
    expect(runHelper(["sync", "--dry-run"], { cwd: repo }).code).toBe(4);

    const r = runHelper(["replan", "demo"], { cwd: repo });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("a (phase 1, in progress): owns [a/] -> [a/, shared.txt]");
    expect(r.stdout).toContain("1 (in progress): a, b");
    expect(frozen(repo)).toContain("shared.txt");
    // The sessions' briefs say what they own now.
    expect(readFileSync(join(wt("a"), ".claude-parallel/brief.md"), "utf8")).toContain("Change only: a/, shared.txt");
    expect(readFileSync(join(wt("b"), ".claude-parallel/brief.md"), "utf8")).toContain("Hands off a/, shared.txt (owned by task a");
    // Applied once: the plan is now the one the feature follows.
    expect(runHelper(["replan"], { cwd: repo }).stdout).toContain("nothing to apply");
    expect(runHelper(["start", "--dry-run"], { cwd: repo }).stdout).not.toContain("changed after the feature started");

    const synced = runHelper(["sync", "--no-next"], { cwd: repo });
    expect(synced.stdout).toContain("inside their owned paths");
    expect(synced.code).toBe(0);
    expect(git(repo, "show", "feature/demo:shared.txt")).toBe("one\nTWO from a\nthree");
  });

  it("applies a new task in a phase not started: it starts with that phase", () => {
    const { repo, wt } = startedFeature("later");
    editPlan(repo, (t) => `${t}  - {id: d, title: Part D, owns: [d/], dependsOn: [b]}\n`);
    const r = runHelper(["replan", ".parallel/demo/plan.yaml"], { cwd: repo });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("d: added, in phase 2");
    expect(r.stdout).toContain("2 (not started): c, d");
    expect(existsSync(wt("d"))).toBe(false);

    commitIn(wt("a"), { "a/x.txt": "a\n" });
    commitIn(wt("b"), { "b/x.txt": "b\n" });
    const synced = runHelper(["sync"], { cwd: repo });
    expect(synced.code).toBe(0);
    // Phase 2 started from the merged result, with the task added after the feature started.
    expect(git(wt("d"), "rev-parse", "HEAD")).toBe(git(repo, "rev-parse", "feature/demo"));
    expect(git(wt("c"), "rev-parse", "HEAD")).toBe(git(repo, "rev-parse", "feature/demo"));
    expect(JSON.parse(readFileSync(join(repo, ".git/parallel/demo/state.json"), "utf8")).phases["2"].tasks).toHaveProperty("d");
  });

  describe("refuses, changing nothing", () => {
    it("renaming a started task, changing base, an invalid plan, and (once synced) removing a synced task", () => {
      const { repo, wt } = startedFeature("refusals");
      const original = readFileSync(planPath(repo), "utf8");

      editPlan(repo, (t) => t.replace("{id: a,", "{id: alpha,").replace("dependsOn: [a]", "dependsOn: [alpha]"));
      refusedReplan(repo, "task a: it runs in phase 1, which has started, and the plan no longer has it", "claude-parallel skip 'a' 'demo'", "task alpha: the plan puts this new task in phase 1");

      writeFileSync(planPath(repo), `base: develop\n${original}`);
      refusedReplan(repo, "`base` was `main` when demo started, and the plan now makes it `develop`", "fix: write `base: main` in the plan");

      // Validated as `plan` validates it: exit 2, with the place and the fix.
      writeFileSync(planPath(repo), original.replace("owns: [a/]", "own: [a/]"));
      const invalid = runHelper(["replan"], { cwd: repo });
      expect(invalid.stderr).toContain("unknown key `own`");
      expect(invalid.code).toBe(2);

      writeFileSync(planPath(repo), original);
      commitIn(wt("a"), { "a/x.txt": "a\n" });
      commitIn(wt("b"), { "b/x.txt": "b\n" });
      expect(runHelper(["sync"], { cwd: repo }).code).toBe(0);
      editPlan(repo, (t) => t.replace(/ {2}- \{id: b,.*\n/, ""));
      refusedReplan(repo, "task b: it was synced in phase 1, and the plan no longer has it", "put it back in the plan: its work is merged into feature/demo");
    });

    it("a feature that has not started", () => {
      const repo = join(startedFeature("unstarted-host").repo);
      writeFileSync(join(repo, ".parallel/other.yaml"), TWO_PHASES().replace("feature: Sync demo", "feature: Other"));
      const r = runHelper(["replan", ".parallel/other.yaml"], { cwd: repo });
      expect(r.stderr).toContain("other has not started");
      expect(r.code).toBe(4);
      expect(existsSync(join(repo, ".git/parallel/other"))).toBe(false);
    });
  });
});
