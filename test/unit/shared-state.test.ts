import { describe, expect, it } from "vitest";
import type { Refusal } from "../../src/core/errors.js";
import type { FeatureState } from "../../src/core/state/state-schema.js";
import { localizeState, readSharedState, type HereFacts } from "../../src/state-ref/check-state.js";
import { sameSharedState } from "../../src/state-ref/state-commit.js";
import { planText } from "../helpers/plans.js";

/**
 * A state commit from elsewhere is checked whole (its plan builds, its state agrees with it) and
 * made this clone's (never the other machine's worktree paths or launch settings): the pure
 * halves of src/state-ref/check-state.ts.
 */

const facts = { repoName: "proj", roles: new Map(), root: "/w/proj", gitCommonDir: "/w/proj/.git", home: "/home/u" };
const C = "c".repeat(40);
const PLAN = planText({
  slug: "demo",
  base: "main",
  integrationBranch: "feature/demo",
  verify: "npm test",
  tasks: [
    { id: "a", title: "A", owns: ["a/"] },
    { id: "b", title: "B", owns: ["b/"] },
  ],
});

function remoteState(over: Partial<FeatureState> = {}): FeatureState {
  return {
    version: 1,
    slug: "demo",
    planSource: "/elsewhere/plan.yaml",
    frozenAt: "2026-01-01T00:00:00Z",
    base: "main",
    integrationBranch: "feature/demo",
    createdIntegration: true,
    phases: {
      "1": {
        startedAt: "2026-01-01T00:00:00Z",
        launch: "headless",
        permissionMode: "bypassPermissions",
        model: "opus",
        prepared: true,
        startCommit: C,
        tasks: {
          a: { branch: "feature/demo-a", worktree: "/w/proj", port: 4100, made: false, createdBranch: true, prepared: true },
          b: { branch: "feature/demo-b", worktree: "/elsewhere/proj-demo-b", port: 4110, made: true, createdBranch: true },
        },
      },
    },
    ...over,
  };
}

const read = (state: unknown, plan = PLAN) => readSharedState({ plan, state: typeof state === "string" ? state : JSON.stringify(state) }, "demo", facts, "FIX");
const messages = (r: unknown) => (Array.isArray(r) ? (r as Refusal[]).map((x) => x.message).join("\n") : "");
const here = (over: Partial<HereFacts> = {}): HereFacts => ({ mainRoot: "/w/proj", baseKnown: true, occupied: new Map(), ...over });
const localize = async (over: Partial<HereFacts> = {}, state = remoteState()) => {
  const shared = await read(state);
  if (Array.isArray(shared)) throw new Error(messages(shared));
  return localizeState(shared, here(over), "FIX");
};

describe("readSharedState", () => {
  it("takes a state that agrees with its plan", async () => {
    const r = await read(remoteState());
    expect(Array.isArray(r)).toBe(false);
    if (!Array.isArray(r)) expect(r.plan.phases[0]!.tasks.map((t) => t.branch)).toEqual(["feature/demo-a", "feature/demo-b"]);
  });

  it("refuses garbage: a state that is not JSON, or not of the state's shape", async () => {
    expect(messages(await read("{ nope"))).toContain("is not JSON");
    expect(messages(await read({ version: 2 }))).toContain("does not have the expected shape");
    expect(messages(await read(remoteState(), "tasks: [\n"))).toContain("its plan.yaml is not a valid plan");
  });

  it("refuses a plan without a base (the state's base would go unchecked) and one of another slug", async () => {
    expect(messages(await read(remoteState(), planText({ slug: "demo", tasks: [{ id: "a", title: "A" }] })))).toContain("names no base");
    expect(messages(await read(remoteState({ slug: "other" })))).toContain('the state of "other", not of "demo"');
    expect(messages(await read(remoteState(), PLAN.replace("slug: demo", "slug: other")))).toContain('the plan of "other"');
  });

  it("refuses branches the plan does not name: a task on the user's develop, another base or integration branch", async () => {
    const state = remoteState();
    state.phases["1"]!.tasks.a!.branch = "develop";
    expect(messages(await read(state))).toContain('names "develop" as the branch of task a; the plan\'s branch for it is "feature/demo-a"');
    expect(messages(await read(remoteState({ base: "develop" })))).toContain('its base differs: "develop" in state.json, "main" in plan.yaml');
    expect(messages(await read(remoteState({ integrationBranch: "develop" })))).toContain("its integration branch differs");
  });

  it("refuses tasks and phases the plan does not have", async () => {
    const state = remoteState();
    state.phases["1"]!.tasks.x = { ...state.phases["1"]!.tasks.a!, branch: "feature/demo-x" };
    state.phases["7"] = state.phases["1"]!;
    state.phases.__proto__x = state.phases["1"]!;
    const said = messages(await read(state));
    expect(said).toContain('a task "x" that the plan does not have');
    expect(said).toContain('a phase "7"; the plan has phases 1 to 1');
    expect(said).toContain('a phase "__proto__x"');
  });

  it("shows a hostile name escaped, on one line", async () => {
    const state = remoteState();
    state.phases["1"]!.tasks.a!.branch = "x\n  fix: nothing\u001b[2J";
    const said = messages(await read(state));
    expect(said).toContain('"x\\n  fix: nothing\\u001b[2J"');
    expect(said.split("\n")).toHaveLength(1);
  });
});

describe("localizeState", () => {
  it("gives a feature new here this clone's planned paths, never the remote's (not the user's own checkout)", async () => {
    const s = await localize();
    if (Array.isArray(s)) throw new Error(messages(s));
    expect(s.phases["1"]!.tasks.a).toMatchObject({ worktree: "/w/proj-demo-a", made: true });
    expect(s.phases["1"]!.tasks.b).toMatchObject({ worktree: "/w/proj-demo-b", made: true });
    expect(s.phases["1"]!.tasks.a!.prepared).toBeUndefined();
    expect(s.planSource).toBe(".parallel/demo/plan.yaml");
  });

  it("never takes how the remote launched its sessions (a sync would launch the next phase that way)", async () => {
    const s = await localize();
    if (Array.isArray(s)) throw new Error(messages(s));
    const phase = s.phases["1"]!;
    expect(phase.launch).toBe("print");
    expect(phase.permissionMode).toBeUndefined();
    expect(phase.model).toBeUndefined();
    expect(phase.prepared).toBe(false);
    // What is shared comes over as it is.
    expect(phase.startCommit).toBe(C);
    expect(phase.tasks.a!.port).toBe(4100);
  });

  it("keeps this clone's own records of the tasks and phases it has", async () => {
    const mine = remoteState();
    mine.planSource = "plans/demo.yaml";
    mine.phases["1"] = {
      ...mine.phases["1"]!,
      launch: "tmux",
      permissionMode: "plan",
      model: undefined,
      prepared: true,
      tasks: { a: { branch: "feature/demo-a", worktree: "/mine/a", port: 4100, made: true, prepared: true } },
    };
    const s = await localize({ local: mine });
    if (Array.isArray(s)) throw new Error(messages(s));
    expect(s.planSource).toBe("plans/demo.yaml");
    expect(s.phases["1"]).toMatchObject({ launch: "tmux", permissionMode: "plan", prepared: true });
    expect(s.phases["1"]!.model).toBeUndefined();
    expect(s.phases["1"]!.tasks.a).toMatchObject({ worktree: "/mine/a", made: true, prepared: true });
    expect(s.phases["1"]!.tasks.b).toMatchObject({ worktree: "/w/proj-demo-b", made: true });
  });

  it("refuses another base or integration branch than this clone's, and an unknown base for a feature new here", async () => {
    const mine = remoteState({ base: "trunk", integrationBranch: "feature/other" });
    const said = messages(await localize({ local: mine }));
    expect(said).toContain("its base is `main`; this clone's is `trunk`");
    expect(said).toContain("its integration branch is `feature/demo`; this clone's is `feature/other`");
    expect(messages(await localize({ baseKnown: false }))).toContain("its base `main` is not a branch here");
    expect(Array.isArray(await localize({ baseKnown: false, local: remoteState() }))).toBe(false);
  });

  it("refuses a new task whose planned path holds another checkout or anything else; its own worktree is fine", async () => {
    expect(messages(await localize({ occupied: new Map([["/w/proj-demo-a", { worktreeOf: "develop" }]]) }))).toContain(
      "its worktree here would be /w/proj-demo-a, and that is a worktree of `develop`",
    );
    expect(messages(await localize({ occupied: new Map([["/w/proj-demo-b", {}]]) }))).toContain("something else is there");
    expect(Array.isArray(await localize({ occupied: new Map([["/w/proj-demo-a", { worktreeOf: "feature/demo-a" }]]) }))).toBe(false);
  });
});

describe("sameSharedState", () => {
  it("leaves out what belongs to one machine, and nothing else", async () => {
    const a = remoteState();
    const s = await localize();
    if (Array.isArray(s)) throw new Error(messages(s));
    const files = (state: FeatureState) => ({ plan: PLAN, state: JSON.stringify(state) });
    expect(sameSharedState(files(a), files(s))).toBe(true);
    expect(sameSharedState(files(a), files({ ...s, finishedAt: "now" }))).toBe(false);
    expect(sameSharedState(files(a), { plan: PLAN + "# x\n", state: JSON.stringify(a) })).toBe(false);
  });

  it("does not depend on the order of keys (adopting a state writes them in another order)", () => {
    const a = remoteState();
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(a).reverse()));
    expect(sameSharedState({ plan: PLAN, state: JSON.stringify(a) }, { plan: PLAN, state: reordered })).toBe(true);
  });
});
