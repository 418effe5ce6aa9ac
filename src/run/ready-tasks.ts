import type { PlannedTask } from "../core/plan/build.js";
import { findOverlaps, normalizeOwnedPath } from "../core/plan/owns.js";

/**
 * `run --rolling`: no barriers between phases. A task starts as soon as every task it waits for is
 * merged into the integration branch, and finished tasks merge one at a time (a merge queue).
 * Pure: the run's effects layer supplies what is merged, running and finished.
 */

/** What the rolling order needs of a plan: its phases, in order, with their tasks. */
export interface RollingPlan {
  phases: ReadonlyArray<{ tasks: ReadonlyArray<Pick<PlannedTask, "id" | "dependsOn" | "owns" | "produces" | "consumes" | "estimate">> }>;
}

/** Why one task waits for another. */
type WaitReason = "depends" | "contract" | "ownership";

export interface RollingGraph {
  /** Task ids phase by phase, each phase in its session order: every choice's tie-break. */
  order: readonly string[];
  /** waitsFor.get(id): the tasks that must be merged before `id` may start, in `order`. */
  waitsFor: ReadonlyMap<string, readonly string[]>;
  /** Why, per pair: reasons.get(`${before}>${after}`). */
  reasons: ReadonlyMap<string, WaitReason>;
  /** Higher starts first among ready tasks; equal ones go by `order`. */
  priority: ReadonlyMap<string, number>;
}

/**
 * - `critical-path` (default): the longest chain of estimates from the task to the end, its own
 *   included, so the chain that decides the finish is never kept waiting by shorter work.
 * - `plan-order`: the plan's phase and session order.
 */
export type RollingPriority = "critical-path" | "plan-order";

/**
 * Every task waits for the tasks it depends on (the plan's `dependsOn`, which holds explicit,
 * contract and ownership dependencies already), for the producers of what it consumes, and for
 * every earlier task (in `order`) whose owned or produced paths overlap its own: two sessions
 * never change the same files side by side, and the later one starts from the earlier's merged
 * work. Earlier in `order` is what the phases decided, so the rolling run keeps the plan's
 * ordering decisions. Throws for a plan no build produces (an unknown or later dependency, a
 * duplicate id): a bug, not the user's input.
 */
export function rollingGraph(plan: RollingPlan, options: { priority?: RollingPriority } = {}): RollingGraph {
  const tasks = plan.phases.flatMap((p) => p.tasks);
  const order = tasks.map((t) => t.id);
  const position = new Map<string, number>();
  order.forEach((id, i) => {
    if (position.has(id)) throw new Error(`rollingGraph: task ${id} appears twice`);
    position.set(id, i);
  });
  const before: Array<Map<number, WaitReason>> = tasks.map(() => new Map());
  const add = (from: number, to: number, reason: WaitReason) => {
    if (from === to) return;
    if (from > to) throw new Error(`rollingGraph: ${order[to]} waits for ${order[from]}, which comes later in the plan`);
    if (!before[to]!.has(from)) before[to]!.set(from, reason);
  };
  // The most telling reason first: the plan's dependsOn already holds the contract and ownership
  // dependencies that build found, so it only names what those two do not.
  const producer = new Map<string, number>();
  tasks.forEach((task, i) => task.produces.forEach((p) => producer.set(normalizeOwnedPath(p), i)));
  tasks.forEach((task, i) => {
    for (const c of task.consumes) {
      const from = producer.get(normalizeOwnedPath(c));
      if (from !== undefined) add(from, i, "contract");
    }
  });
  for (const o of findOverlaps(tasks.map((t, i) => ({ owner: i, patterns: [...t.owns, ...t.produces] })))) {
    add(Math.min(o.a, o.b), Math.max(o.a, o.b), "ownership");
  }
  tasks.forEach((task, i) => {
    for (const dep of task.dependsOn) {
      const from = position.get(dep);
      if (from === undefined) throw new Error(`rollingGraph: ${task.id} depends on unknown task ${dep}`);
      add(from, i, "depends");
    }
  });

  const waitsFor = new Map<string, string[]>();
  const reasons = new Map<string, WaitReason>();
  tasks.forEach((task, i) => {
    const preds = [...before[i]!.keys()].sort((a, b) => a - b);
    waitsFor.set(
      task.id,
      preds.map((p) => order[p]!),
    );
    for (const p of preds) reasons.set(`${order[p]}>${task.id}`, before[i]!.get(p)!);
  });

  const priority = new Map<string, number>();
  if (options.priority === "plan-order") order.forEach((id, i) => priority.set(id, order.length - i));
  else {
    // Successors come later in `order`, so one backward pass settles every level.
    const level = tasks.map((t) => t.estimate);
    for (let i = tasks.length - 1; i >= 0; i--) {
      for (const p of before[i]!.keys()) level[p] = Math.max(level[p]!, tasks[p]!.estimate + level[i]!);
    }
    order.forEach((id, i) => priority.set(id, level[i]!));
  }
  return { order, waitsFor, reasons, priority };
}

/** Where each task of a rolling run stands. A task in none of these sets is waiting to start. */
export interface RollingState {
  /** In the integration branch. */
  merged: ReadonlySet<string>;
  /** Its session is at work (or being resumed with a problem). */
  running: ReadonlySet<string>;
  /** Its session ended and its checks passed: waiting in the merge queue. */
  finished: ReadonlySet<string>;
  /** Being merged now (at most one at a time). */
  merging?: string;
  /** Left out of the feature (`claude-parallel skip`): its dependents go on without it. */
  skipped?: ReadonlySet<string>;
}

const settled = (state: RollingState, id: string) => state.merged.has(id) || state.skipped?.has(id) === true;
const placed = (state: RollingState, id: string) => settled(state, id) || state.running.has(id) || state.finished.has(id) || state.merging === id;

/** The tasks `id` still waits for: not merged (nor skipped) yet, in plan order. */
export function waitingOn(graph: RollingGraph, state: RollingState, id: string): string[] {
  return (graph.waitsFor.get(id) ?? []).filter((dep) => !settled(state, dep));
}

/** Every task that may start now, highest priority first (ties in plan order). */
export function readyTasks(graph: RollingGraph, state: RollingState): string[] {
  const index = new Map(graph.order.map((id, i) => [id, i]));
  return graph.order.filter((id) => !placed(state, id) && waitingOn(graph, state, id).length === 0).sort((a, b) => graph.priority.get(b)! - graph.priority.get(a)! || index.get(a)! - index.get(b)!);
}

/**
 * The tasks to start now with at most `maxParallel` sessions at work: the first ready ones, as many
 * as there are free places. Finished tasks waiting to merge hold no place (their sessions ended).
 */
export function tasksToStart(graph: RollingGraph, state: RollingState, maxParallel: number): string[] {
  return readyTasks(graph, state).slice(0, Math.max(0, maxParallel - state.running.size));
}

/**
 * The merge queue: finished tasks in the order they merge, plan order (so a re-run after an
 * interruption decides the same as the run it continues). Only tasks whose dependencies are all
 * merged qualify, which every started task's are.
 */
export function mergeOrder(graph: RollingGraph, state: RollingState): string[] {
  return graph.order.filter((id) => state.finished.has(id) && !settled(state, id) && waitingOn(graph, state, id).length === 0);
}

/** The task to merge next, or undefined while one is being merged or none is waiting. */
export function nextMerge(graph: RollingGraph, state: RollingState): string | undefined {
  return state.merging === undefined ? mergeOrder(graph, state)[0] : undefined;
}

/** Whether `id` may merge now: no merge under way and it is first in the queue. */
export function mayMerge(graph: RollingGraph, state: RollingState, id: string): boolean {
  return nextMerge(graph, state) === id;
}

/** Whether the rolling run has nothing left: every task merged or skipped. */
export function rollingDone(graph: RollingGraph, state: RollingState): boolean {
  return graph.order.every((id) => settled(state, id));
}

/** What a rolling run does next, decided from where its tasks stand. */
interface RollingStep {
  /** Start these sessions now (each branching from the integration branch as it is then). */
  start: string[];
  /** Merge this finished task now (nothing else merges meanwhile). */
  merge?: string;
  /** Every task is merged or skipped: the run's rolling part is over. */
  done: boolean;
  /**
   * The tasks left when nothing runs or merges and nothing can start or merge: never for a state the
   * run reached through these functions with maxParallel >= 1 (the first task left in plan order is
   * always ready), only for an inconsistent one (a task finished before what it waits for merged),
   * which the caller reports rather than waits on.
   */
  stuck: string[];
}

/** The run's next actions: merge first (it may free tasks to start), then start what is ready. */
export function rollingStep(graph: RollingGraph, state: RollingState, maxParallel: number): RollingStep {
  const done = rollingDone(graph, state);
  const merge = nextMerge(graph, state);
  const start = tasksToStart(graph, state, maxParallel);
  const idle = state.running.size === 0 && state.merging === undefined && merge === undefined && start.length === 0;
  const stuck = !done && idle ? graph.order.filter((id) => !settled(state, id)) : [];
  return { start, ...(merge !== undefined && { merge }), done, stuck };
}
