import { describe, expect, it } from "vitest";
import { buildTaskManifest, manifestText, parseTaskManifest } from "../../src/hooks/manifest.js";
import { executionPlan } from "../helpers/plans.js";

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

describe("the task manifest", () => {
  it("carries the task, its paths, contracts, port, state folder and every other task's paths", () => {
    const p = plan();
    const api = p.phases.flatMap((x) => x.tasks).find((t) => t.id === "api")!;
    const m = buildTaskManifest(p, api, 41000, "/repo/.git/parallel/demo", ".claude-parallel/brief.md");
    expect(m).toMatchObject({
      version: 1,
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
    expect(buildTaskManifest(p, p.phases[0]!.tasks[0]!, 41000, "/s", "b").enforceOwns).toBe("ask");
  });

  it("refuses a damaged or foreign file", () => {
    const p = plan();
    const good = JSON.parse(manifestText(buildTaskManifest(p, p.phases[0]!.tasks[0]!, 41000, "/s", "b")));
    expect(parseTaskManifest("{not json")).toBeUndefined();
    expect(parseTaskManifest(JSON.stringify({ ...good, version: 2 }))).toBeUndefined();
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
    ]) {
      expect(parseTaskManifest(JSON.stringify(bad)), JSON.stringify(bad)).toBeUndefined();
    }
    expect(parseTaskManifest(JSON.stringify([good]))).toBeUndefined();
    expect(parseTaskManifest("null")).toBeUndefined();
    // Optional fields may be absent.
    const { verify: _verify, integrationBranch: _branch, phaseTasks: _tasks, ...minimal } = good;
    expect(parseTaskManifest(JSON.stringify(minimal))).toEqual(minimal);
  });
});
