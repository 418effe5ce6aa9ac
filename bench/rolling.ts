import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bottomLevels, type TaskGraph } from "../src/core/plan/graph.js";
import { schedulePhases } from "../src/core/plan/schedule.js";
import { mergeOrder, rollingDone, rollingGraph, tasksToStart, type RollingPlan, type RollingPriority } from "../src/run/ready-tasks.js";
import { parseStg, stgCases } from "./stg.js";

/**
 * The plan a run would get for `graph` with `k` sessions: the phase schedule, each phase's tasks
 * in session order (longest remaining chain first, as build orders them).
 */
export function planOf(graph: TaskGraph, k: number): { plan: RollingPlan; phasedLength: number } {
  const schedule = schedulePhases(graph, k);
  const levels = bottomLevels(graph);
  const plan: RollingPlan = {
    phases: schedule.phases.map((phase) => ({
      tasks: [...phase]
        .sort((a, b) => levels[b]! - levels[a]! || a - b)
        .map((i) => ({ id: graph.ids[i]!, dependsOn: graph.predecessors[i]!.map((p) => graph.ids[p]!), owns: [], produces: [], consumes: [], estimate: graph.estimates[i]! })),
    })),
  };
  return { plan, phasedLength: schedule.length };
}

/**
 * A rolling run, simulated: tasks take their estimates, merging takes no time. Whenever sessions
 * end, their tasks merge (in the merge queue's order), then the ready tasks start, at most `k`
 * at once. Returns the makespan.
 */
export function simulateRolling(plan: RollingPlan, k: number, priority: RollingPriority): number {
  const graph = rollingGraph(plan, { priority });
  const estimate = new Map(plan.phases.flatMap((p) => p.tasks.map((t) => [t.id, t.estimate] as const)));
  const merged = new Set<string>();
  const running = new Map<string, number>(); // id -> when it ends
  const finished = new Set<string>();
  const state = () => ({ merged, running: new Set(running.keys()), finished });
  let now = 0;
  for (;;) {
    for (const id of tasksToStart(graph, state(), k)) running.set(id, now + estimate.get(id)!);
    if (rollingDone(graph, state())) return now;
    if (running.size === 0) throw new Error("rolling simulation stuck: nothing runs and work is left");
    now = Math.min(...running.values());
    for (const [id, end] of running)
      if (end === now) {
        running.delete(id);
        finished.add(id);
      }
    for (const id of mergeOrder(graph, state())) {
      finished.delete(id);
      merged.add(id);
    }
  }
}

export interface RollingRow {
  size: number;
  k: number;
  graphs: number;
  phased: number[];
  planOrder: number[];
  criticalPath: number[];
}

/** Every STG case: phased and rolling (both priorities) makespans over the optimum, grouped by size and k. */
export function benchRolling(stgDir: string): RollingRow[] {
  const cache = new Map<string, TaskGraph>();
  const rows = new Map<string, RollingRow>();
  for (const c of stgCases(stgDir)) {
    let graph = cache.get(c.file);
    if (!graph) cache.set(c.file, (graph = parseStg(readFileSync(join(stgDir, c.file), "utf8"))));
    const key = `${c.size}|${c.k}`;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { size: c.size, k: c.k, graphs: 0, phased: [], planOrder: [], criticalPath: [] }));
    const { plan, phasedLength } = planOf(graph, c.k);
    row.graphs++;
    row.phased.push(phasedLength / c.optimum);
    const planOrder = simulateRolling(plan, c.k, "plan-order");
    const criticalPath = simulateRolling(plan, c.k, "critical-path");
    // Shorter than the optimum would be a simulation that skips a dependency or the k limit.
    if (Math.min(planOrder, criticalPath, phasedLength) < c.optimum) throw new Error(`${c.file} with k=${c.k}: a schedule shorter than the optimum ${c.optimum}`);
    row.planOrder.push(planOrder / c.optimum);
    row.criticalPath.push(criticalPath / c.optimum);
  }
  return [...rows.values()].sort((a, b) => a.size - b.size || a.k - b.k);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const f2 = (n: number) => n.toFixed(2);

/** The "Rolling vs phased" table of docs/benchmarks.md. */
export function rollingTable(rows: RollingRow[]): string[] {
  const all = (pick: (r: RollingRow) => number[]) => rows.flatMap(pick);
  return [
    "### Rolling vs phased on the Standard Task Graph set",
    "",
    "Makespan divided by the known optimal (barrier-free) schedule length, lower is better: tasks take their estimates and merging takes no time.",
    "Phased: the plan's phase schedule, each phase waiting for its slowest task. Rolling (`run --rolling`): a task starts as soon as every task it waits for is merged, at most k at once; ready tasks start in plan order, or longest remaining chain first (critical path, the default).",
    "`npm run bench -- --rolling-only` prints this table alone (no git, no installs; about 20 s of CPU).",
    "",
    "| tasks | k | graphs | phased, mean | phased, worst | rolling plan order, mean | rolling plan order, worst | rolling critical path, mean | rolling critical path, worst |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| ${r.size} | ${r.k} | ${r.graphs} | ${f2(mean(r.phased))} | ${f2(Math.max(...r.phased))} | ${f2(mean(r.planOrder))} | ${f2(Math.max(...r.planOrder))} | ${f2(mean(r.criticalPath))} | ${f2(Math.max(...r.criticalPath))} |`,
    ),
    `| all | | ${rows.reduce((a, r) => a + r.graphs, 0)} | ${f2(mean(all((r) => r.phased)))} | ${f2(Math.max(...all((r) => r.phased)))} | ${f2(mean(all((r) => r.planOrder)))} | ${f2(Math.max(...all((r) => r.planOrder)))} | ${f2(mean(all((r) => r.criticalPath)))} | ${f2(Math.max(...all((r) => r.criticalPath)))} |`,
    "",
  ];
}
