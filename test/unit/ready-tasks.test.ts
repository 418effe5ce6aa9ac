import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { mayMerge, mergeOrder, nextMerge, readyTasks, rollingDone, rollingGraph, rollingStep, tasksToStart, waitingOn, type RollingPlan, type RollingState } from "../../src/run/ready-tasks.js";
import { executionPlan } from "../helpers/plans.js";

type T = RollingPlan["phases"][number]["tasks"][number];
const task = (id: string, extra: Partial<T> = {}): T => ({ id, dependsOn: [], owns: [], produces: [], consumes: [], estimate: 1, ...extra });
const state = (s: { merged?: string[]; running?: string[]; finished?: string[]; merging?: string; skipped?: string[] } = {}): RollingState => ({
  merged: new Set(s.merged),
  running: new Set(s.running),
  finished: new Set(s.finished),
  ...(s.merging !== undefined && { merging: s.merging }),
  skipped: new Set(s.skipped),
});

describe("rollingGraph", () => {
  it("waits for explicit dependencies only once they are merged, not when they finish", () => {
    const g = rollingGraph(
      executionPlan({
        tasks: [
          { id: "a", title: "A", owns: ["a/"] },
          { id: "b", title: "B", owns: ["b/"] },
          { id: "c", title: "C", owns: ["c/"], dependsOn: ["a"] },
        ],
      }),
    );
    expect(g.waitsFor.get("c")).toEqual(["a"]);
    expect(g.reasons.get("a>c")).toBe("depends");
    expect(readyTasks(g, state())).toEqual(["a", "b"]);
    expect(readyTasks(g, state({ running: ["a"] }))).toEqual(["b"]);
    expect(readyTasks(g, state({ running: ["b"], finished: ["a"] }))).toEqual([]);
    expect(readyTasks(g, state({ running: ["b"], merged: ["a"] }))).toEqual(["c"]);
    expect(waitingOn(g, state({ running: ["a"] }), "c")).toEqual(["a"]);
  });

  it("a consumer waits for the producer of its contract", () => {
    const g = rollingGraph({ phases: [{ tasks: [task("api", { produces: ["contracts/api.ts"] })] }, { tasks: [task("ui", { consumes: ["./contracts//api.ts"] })] }] });
    expect(g.waitsFor.get("ui")).toEqual(["api"]);
    expect(g.reasons.get("api>ui")).toBe("contract");
    expect(readyTasks(g, state())).toEqual(["api"]);
  });

  it("tasks whose owned paths overlap never run side by side: the earlier in the plan goes first", () => {
    // Even in one phase (which build never produces), the plan's order decides.
    const g = rollingGraph({ phases: [{ tasks: [task("x", { owns: ["src/**/*.ts"] }), task("y", { owns: ["src/auth/"] }), task("z", { owns: ["docs/"] })] }] });
    expect(g.waitsFor.get("y")).toEqual(["x"]);
    expect(g.reasons.get("x>y")).toBe("ownership");
    expect(g.waitsFor.get("z")).toEqual([]);
    expect(readyTasks(g, state({ running: ["x"] }))).toEqual(["z"]);
  });

  it("keeps the ordering build decided for overlapping tasks, whichever way it went", () => {
    // `b` has the longer chain behind it, so build puts it first although `a` comes first in the file.
    const plan = executionPlan({
      tasks: [
        { id: "a", title: "A", owns: ["src/"] },
        { id: "b", title: "B", owns: ["src/b/"] },
        { id: "c", title: "C", owns: ["c/"], dependsOn: ["b"], estimate: 5 },
      ],
    });
    const g = rollingGraph(plan);
    expect(g.waitsFor.get("a")).toEqual(["b"]);
    expect(g.waitsFor.get("b")).toEqual([]);
  });

  it("skipped tasks release their dependents", () => {
    const g = rollingGraph({ phases: [{ tasks: [task("a")] }, { tasks: [task("b", { dependsOn: ["a"] })] }] });
    expect(readyTasks(g, state({ skipped: ["a"] }))).toEqual(["b"]);
    expect(rollingDone(g, state({ skipped: ["a"], merged: ["b"] }))).toBe(true);
    expect(rollingDone(g, state({ skipped: ["a"], finished: ["b"] }))).toBe(false);
  });

  it("the longest remaining chain starts first, then plan order; plan-order priority is plan order", () => {
    const plan: RollingPlan = {
      phases: [{ tasks: [task("short"), task("long", { estimate: 2 }), task("head")] }, { tasks: [task("tail", { dependsOn: ["head"], estimate: 3 })] }],
    };
    const g = rollingGraph(plan);
    expect(g.priority.get("head")).toBe(4);
    expect(g.priority.get("long")).toBe(2);
    expect(readyTasks(g, state())).toEqual(["head", "long", "short"]);
    expect(readyTasks(rollingGraph(plan, { priority: "plan-order" }), state())).toEqual(["short", "long", "head"]);
  });

  it("refuses plans no build produces", () => {
    expect(() => rollingGraph({ phases: [{ tasks: [task("a"), task("a")] }] })).toThrow(/twice/);
    expect(() => rollingGraph({ phases: [{ tasks: [task("a", { dependsOn: ["nope"] })] }] })).toThrow(/unknown task nope/);
    expect(() => rollingGraph({ phases: [{ tasks: [task("a", { dependsOn: ["b"] })] }, { tasks: [task("b")] }] })).toThrow(/comes later/);
    expect(() => rollingGraph({ phases: [{ tasks: [task("a", { consumes: ["x"] }), task("b", { produces: ["x"] })] }] })).toThrow(/comes later/);
  });
});

describe("starting and merging", () => {
  const g = rollingGraph({ phases: [{ tasks: [task("a"), task("b"), task("c"), task("d")] }, { tasks: [task("e", { dependsOn: ["a", "b"] })] }] });

  it("starts at most maxParallel sessions; finished tasks hold no place", () => {
    expect(tasksToStart(g, state(), 2)).toEqual(["a", "b"]);
    expect(tasksToStart(g, state({ running: ["a", "b"] }), 2)).toEqual([]);
    expect(tasksToStart(g, state({ running: ["a"], finished: ["b"] }), 2)).toEqual(["c"]);
    // A resumed session may briefly exceed the limit; nothing new starts then.
    expect(tasksToStart(g, state({ running: ["a", "b", "c"] }), 2)).toEqual([]);
  });

  it("merges one finished task at a time, in plan order", () => {
    const s = state({ finished: ["c", "a"], running: ["b"] });
    expect(mergeOrder(g, s)).toEqual(["a", "c"]);
    expect(nextMerge(g, s)).toBe("a");
    expect(mayMerge(g, s, "a")).toBe(true);
    expect(mayMerge(g, s, "c")).toBe(false);
    expect(mayMerge(g, s, "b")).toBe(false);
    const during = state({ finished: ["c"], merging: "a", running: ["b"] });
    expect(nextMerge(g, during)).toBeUndefined();
    expect(mayMerge(g, during, "c")).toBe(false);
    expect(readyTasks(g, during)).toEqual(["d"]);
  });

  it("rollingStep: merge what is next, start what is ready, say when it is done", () => {
    expect(rollingStep(g, state(), 3)).toEqual({ start: ["a", "b", "c"], done: false, stuck: [] });
    expect(rollingStep(g, state({ finished: ["b", "a"], running: ["c"] }), 3)).toEqual({ start: ["d"], merge: "a", done: false, stuck: [] });
    expect(rollingStep(g, state({ merged: ["a", "b", "c", "d"], finished: ["e"] }), 3)).toEqual({ start: [], merge: "e", done: false, stuck: [] });
    expect(rollingStep(g, state({ merged: ["a", "b", "c", "d", "e"] }), 3)).toEqual({ start: [], done: true, stuck: [] });
    // Inconsistent: e finished although b never merged, and b is nowhere.
    expect(rollingStep(g, state({ merged: ["a", "c", "d"], finished: ["e"], skipped: [] }), 0).stuck).toEqual(["b", "e"]);
  });

  it("a merged task is out of the queue even if still marked finished", () => {
    expect(mergeOrder(g, state({ merged: ["a"], finished: ["a", "b"] }))).toEqual(["b"]);
  });
});

// ----------------------------------------------------------------------------------------------
// Properties: random plans, random interleavings of the run's events.

const FOLDERS = ["src", "src/a", "src/b", "lib", "lib/x/y", "docs", "test"];
/** The oracle for overlap, independent of owns.ts: plain folders overlap when one holds the other. */
const overlap = (x: string, y: string) => x === y || x.startsWith(y + "/") || y.startsWith(x + "/");

interface Generated {
  plan: RollingPlan;
  tasks: T[];
}

const generatedPlan = fc
  .record({
    n: fc.integer({ min: 1, max: 12 }),
    seed: fc.integer(),
    density: fc.double({ min: 0, max: 0.6, noNaN: true }),
    ownsRate: fc.double({ min: 0, max: 0.9, noNaN: true }),
    cuts: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
  })
  .map(({ n, seed, density, ownsRate, cuts }): Generated => {
    let s = seed >>> 0;
    const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const tasks: T[] = [];
    const contracts: string[] = [];
    for (let i = 0; i < n; i++) {
      const dependsOn = tasks.filter(() => rand() < density).map((t) => t.id);
      const owns = rand() < ownsRate ? [FOLDERS[Math.floor(rand() * FOLDERS.length)]!] : [];
      const consumes = contracts.filter(() => rand() < density);
      const produces = rand() < 0.3 ? [`contracts/c${i}.json`] : [];
      contracts.push(...produces);
      tasks.push(task(`t${i}`, { dependsOn, owns, consumes, produces, estimate: 1 + Math.floor(rand() * 5) }));
    }
    const phases: Array<{ tasks: T[] }> = [{ tasks: [] }];
    tasks.forEach((t, i) => {
      if (i > 0 && cuts[i]) phases.push({ tasks: [] });
      phases[phases.length - 1]!.tasks.push(t);
    });
    return { plan: { phases }, tasks };
  });

/** Everything a task must see merged before it starts, computed without the module under test. */
function mustPrecede(tasks: T[], i: number): string[] {
  const t = tasks[i]!;
  const out = new Set(t.dependsOn);
  for (const c of t.consumes) {
    const producer = tasks.find((p) => p.produces.includes(c));
    if (producer) out.add(producer.id);
  }
  for (const earlier of tasks.slice(0, i)) {
    if (earlier.owns.some((a) => t.owns.some((b) => overlap(a, b)))) out.add(earlier.id);
  }
  return [...out];
}

/**
 * Plays a run: each step takes the action the choice stream names among those possible (start the
 * next ready task, a running session finishes, the next merge succeeds or hits a conflict that
 * sends the task back to its session, a waiting task is skipped); once the stream is used up,
 * always the first possible. Checks every start and merge against the oracle.
 */
function play(g: Generated, k: number, choices: number[]) {
  const graph = rollingGraph(g.plan);
  const merged = new Set<string>();
  const running = new Set<string>();
  const finished = new Set<string>();
  const skipped = new Set<string>();
  const started: string[] = [];
  const mergedOrder: string[] = [];
  let conflicts = 0;
  const st = (): RollingState => ({ merged, running, finished, skipped });
  const index = new Map(g.tasks.map((t, i) => [t.id, i]));
  const bound = 4 * g.tasks.length + choices.length + 10;
  for (let step = 0; ; step++) {
    if (rollingDone(graph, st())) break;
    expect(step).toBeLessThan(bound);
    const actions: Array<() => void> = [];
    const toStart = tasksToStart(graph, st(), k);
    if (toStart.length) {
      actions.push(() => {
        const id = toStart[0]!;
        for (const dep of mustPrecede(g.tasks, index.get(id)!)) expect(merged.has(dep) || skipped.has(dep), `${id} started before ${dep} merged`).toBe(true);
        for (const other of [...running, ...finished]) {
          const a = g.tasks[index.get(other)!]!;
          const b = g.tasks[index.get(id)!]!;
          expect(
            a.owns.some((x) => b.owns.some((y) => overlap(x, y))),
            `${id} started beside ${other}, which owns the same files`,
          ).toBe(false);
        }
        running.add(id);
        started.push(id);
        expect(running.size).toBeLessThanOrEqual(k + conflicts);
      });
    }
    for (const id of running)
      actions.push(() => {
        running.delete(id);
        finished.add(id);
      });
    const next = nextMerge(graph, st());
    if (next !== undefined) {
      actions.push(() => {
        for (const dep of graph.waitsFor.get(next)!) expect(merged.has(dep) || skipped.has(dep)).toBe(true);
        finished.delete(next);
        merged.add(next);
        mergedOrder.push(next);
      });
      if (conflicts < g.tasks.length)
        actions.push(() => {
          conflicts++;
          finished.delete(next);
          running.add(next);
        });
    }
    const waiting = graph.order.find((id) => !merged.has(id) && !running.has(id) && !finished.has(id) && !skipped.has(id));
    if (waiting !== undefined && skipped.size < 2) actions.push(() => void skipped.add(waiting));
    // Deadlock freedom: while work is left, something can always happen.
    expect(actions.length).toBeGreaterThan(0);
    expect(rollingStep(graph, st(), k).stuck).toEqual([]);
    const choice = step < choices.length ? choices[step]! % actions.length : 0;
    actions[choice]!();
  }
  return { started, mergedOrder, skipped };
}

describe("properties (seeded)", () => {
  it("no task starts before everything it depends on is merged, and every task is eventually merged or skipped", () => {
    fc.assert(
      fc.property(generatedPlan, fc.integer({ min: 1, max: 5 }), fc.array(fc.nat(), { maxLength: 80 }), (g, k, choices) => {
        const { started, mergedOrder, skipped } = play(g, k, choices);
        for (const t of g.tasks) expect(mergedOrder.includes(t.id) || skipped.has(t.id)).toBe(true);
        expect(new Set(mergedOrder).size).toBe(mergedOrder.length);
        for (const id of mergedOrder) expect(started).toContain(id);
      }),
      { seed: 20261126, numRuns: 400 },
    );
  });

  it("without skips or conflicts, every task starts and merges exactly once", () => {
    fc.assert(
      fc.property(generatedPlan, fc.integer({ min: 1, max: 5 }), (g, k) => {
        const { started, mergedOrder } = play(g, k, []);
        expect([...started].sort()).toEqual(g.tasks.map((t) => t.id).sort());
        expect([...mergedOrder].sort()).toEqual(g.tasks.map((t) => t.id).sort());
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it("on plans from build, a task waits only for tasks of earlier phases: rolling never starts a task later than the phases allow", () => {
    const input = fc
      .record({
        n: fc.integer({ min: 1, max: 9 }),
        seed: fc.integer(),
        maxParallel: fc.integer({ min: 1, max: 4 }),
      })
      .map(({ n, seed, maxParallel }) => {
        let s = seed >>> 0;
        const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
        const tasks = Array.from({ length: n }, (_, i) => ({
          id: `t${i}`,
          title: `T${i}`,
          owns: rand() < 0.7 ? [FOLDERS[Math.floor(rand() * FOLDERS.length)]!] : [],
          dependsOn: Array.from({ length: i }, (_, j) => `t${j}`).filter(() => rand() < 0.25),
          estimate: 1 + Math.floor(rand() * 4),
        }));
        return { tasks, maxParallel };
      });
    fc.assert(
      fc.property(input, ({ tasks, maxParallel }) => {
        const plan = executionPlan({ tasks, maxParallel });
        const g = rollingGraph(plan);
        const phaseOf = new Map(plan.phases.flatMap((p) => p.tasks.map((t) => [t.id, p.index] as const)));
        for (const p of plan.phases) {
          for (const t of p.tasks) {
            for (const dep of t.dependsOn) expect(g.waitsFor.get(t.id)).toContain(dep);
            for (const w of g.waitsFor.get(t.id)!) expect(phaseOf.get(w)!).toBeLessThan(p.index);
          }
        }
      }),
      { seed: 11, numRuns: 200 },
    );
  });
});
