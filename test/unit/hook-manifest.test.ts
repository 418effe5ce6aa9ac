import { describe, expect, it } from "vitest";
import { buildTaskManifest, manifestText, parseTaskManifest, taskRules } from "../../src/session/manifest.js";
import { executionPlan } from "../helpers/plans.js";

const place = { port: 41000, stateDir: "/repo/.git/parallel/demo", brief: ".claude-parallel/brief.md", worktree: "/work/demo-api", commonDir: "/repo/.git" };

const plan = (extra: Record<string, unknown> = {}) =>
  executionPlan({
    ...extra,
    tasks: [
      { id: "data", title: "Schema", owns: ["db/"], produces: ["contracts/db.yaml"] },
      { id: "api", title: "API", owns: ["src/api/"], consumes: ["contracts/db.yaml"], verify: "npm test" },
      { id: "ui", title: "Form", owns: ["src/ui/"] },
      { id: "notes", title: "Notes" },
    ],
  });

describe("the task rules", () => {
  it("carries the task, its paths, contracts, port, state folder and every other task's paths", () => {
    const p = plan();
    const api = p.phases.flatMap((x) => x.tasks).find((t) => t.id === "api")!;
    const m = buildTaskManifest(p, api, place);
    expect(m).toMatchObject({
      version: 2,
      slug: "demo",
      task: "api",
      phase: 2,
      phases: 2,
      branch: "feature/demo-api",
      owns: ["src/api/"],
      consumes: ["contracts/db.yaml"],
      produces: [],
      verify: "npm test",
      port: 41000,
      stateDir: "/repo/.git/parallel/demo",
      enforceOwns: "deny",
      worktree: "/work/demo-api",
      commonDir: "/repo/.git",
    });
    // Tasks without paths own nothing: they are left out; the task itself too.
    expect(m.others.map((o) => [o.task, o.phase, o.paths])).toEqual([
      ["data", 1, ["db/", "contracts/db.yaml"]],
      ["ui", 1, ["src/ui/"]],
    ]);
    expect(parseTaskManifest(manifestText(m))).toEqual(m);
  });

  it("takes the plan's enforceOwns", () => {
    const p = plan({ enforceOwns: "ask" });
    expect(buildTaskManifest(p, p.phases[0]!.tasks[0]!, place).enforceOwns).toBe("ask");
  });

  it("refuses a damaged or foreign file", () => {
    const p = plan();
    const good = JSON.parse(manifestText(buildTaskManifest(p, p.phases[0]!.tasks[0]!, place)));
    expect(parseTaskManifest("{not json")).toBeUndefined();
    expect(parseTaskManifest(JSON.stringify({ ...good, version: 1 }))).toBeUndefined();
    expect(parseTaskManifest(JSON.stringify({ ...good, stateDir: "relative" }))).toBeUndefined();
    expect(parseTaskManifest(JSON.stringify({ ...good, enforceOwns: "maybe" }))).toBeUndefined();
    expect(parseTaskManifest(JSON.stringify({ ...good, owns: "src/" }))).toBeUndefined();
    for (const bad of [
      { ...good, slug: "" },
      { ...good, phase: 0 },
      { ...good, phase: 1.5 },
      { ...good, port: 70000 },
      { ...good, port: "41000" },
      { ...good, verify: 3 },
      { ...good, others: [{ task: "x", role: "r", phase: 1 }] },
      { ...good, phaseTasks: "a" },
      { ...good, brief: undefined },
      { ...good, worktree: undefined },
      { ...good, worktree: "demo-api" },
      { ...good, commonDir: ".git" },
    ]) {
      expect(parseTaskManifest(JSON.stringify(bad)), JSON.stringify(bad)).toBeUndefined();
    }
    expect(parseTaskManifest(JSON.stringify([good]))).toBeUndefined();
    expect(parseTaskManifest("null")).toBeUndefined();
    // Optional fields may be absent.
    const { verify: _verify, integrationBranch: _branch, phaseTasks: _tasks, ...minimal } = good;
    expect(parseTaskManifest(JSON.stringify(minimal))).toEqual(minimal);
  });

  it("belong to one worktree: missing, damaged or another worktree's rules are a problem, said plainly", () => {
    const p = plan();
    const text = manifestText(buildTaskManifest(p, p.phases[0]!.tasks[0]!, place));
    const at = { root: "/work/demo-api", gitDir: "/repo/.git/worktrees/demo-api", rulesPath: "/repo/.git/worktrees/demo-api/claude-parallel-task.json" };
    expect(taskRules({ ...at, text }, "/work/demo-api")).toEqual({ rules: JSON.parse(text) });
    expect(taskRules(at, "/work/demo-api")).toEqual({
      problem: "it has claude-parallel's session folder (.claude-parallel/) but no task rules at /repo/.git/worktrees/demo-api/claude-parallel-task.json",
    });
    expect(taskRules({ root: "/work/demo-api" }, "/work/demo-api")).toMatchObject({
      problem: expect.stringContaining("no task rules at the git directory its .git file should lead to (/work/demo-api/.git)"),
    });
    expect(taskRules({ ...at, text: "{" }, "/work/demo-api")).toMatchObject({ problem: expect.stringContaining("are damaged") });
    expect(taskRules({ ...at, text: text.replace('"version": 2', '"version": 1') }, "/work/demo-api")).toMatchObject({ problem: expect.stringContaining("are damaged or from another version") });
    // Rules copied from (or a .git link pointed at) another task's entry name that task's worktree.
    expect(taskRules({ ...at, text }, "/work/demo-ui")).toEqual({ problem: "its task rules (/repo/.git/worktrees/demo-api/claude-parallel-task.json) belong to another worktree (/work/demo-api)" });
  });
});
