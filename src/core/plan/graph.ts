import { InputError, type Problem } from "../errors.js";
import { closest } from "../text/suggest.js";
import { normalizeOwnedPath } from "./owns.js";
import type { PlanSource } from "./load.js";
import type { Plan } from "./schema.js";

/** Why one task waits for another. */
type DependencyReason = { kind: "explicit" } | { kind: "contract"; path: string } | { kind: "ownership"; example: string };

export interface Edge {
  from: number;
  to: number;
  reason: DependencyReason;
}

/** Tasks as indices 0..n-1 in plan order, with every edge `from` (earlier) -> `to` (later). */
export interface TaskGraph {
  ids: string[];
  estimates: number[];
  /** predecessors[i]: indices task i waits for, without duplicates. */
  predecessors: number[][];
  successors: number[][];
  edges: Edge[];
}

export function graphFromEdges(ids: string[], estimates: number[], edges: Edge[]): TaskGraph {
  const n = ids.length;
  const predecessors: number[][] = Array.from({ length: n }, () => []);
  const successors: number[][] = Array.from({ length: n }, () => []);
  const seen = new Set<number>();
  const kept: Edge[] = [];
  for (const edge of edges) {
    const key = edge.from * n + edge.to;
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(edge);
    predecessors[edge.to]!.push(edge.from);
    successors[edge.from]!.push(edge.to);
  }
  return { ids, estimates, predecessors, successors, edges: kept };
}

/**
 * The dependency graph of a plan: explicit `dependsOn`, plus "consumes what another produces".
 * Throws InputError for duplicate ids, self- and unknown dependencies, a contract produced twice,
 * and cycles (named in full).
 */
export function dependencyGraph(plan: Plan, source: PlanSource): TaskGraph {
  const problems: Problem[] = [];
  const ids = plan.tasks.map((t) => t.id);
  const indexOf = new Map<string, number>();
  plan.tasks.forEach((task, i) => {
    const first = indexOf.get(task.id);
    if (first !== undefined) {
      problems.push({
        where: `${source.locate(["tasks", i, "id"])} (tasks[${i}].id)`,
        message: `duplicate task id \`${task.id}\` (first used by tasks[${first}] at ${source.locate(["tasks", first, "id"])})`,
        fix: "give every task its own id",
      });
    } else indexOf.set(task.id, i);
  });

  const edges: Edge[] = [];
  plan.tasks.forEach((task, i) => {
    task.dependsOn.forEach((dep, j) => {
      // Said only for a problem: locating a node in the document is not free.
      const where = () => `${source.locate(["tasks", i, "dependsOn", j])} (tasks[${i}].dependsOn[${j}])`;
      if (dep === task.id) {
        problems.push({ where: where(), message: `task \`${task.id}\` depends on itself`, fix: `remove \`${dep}\` from its dependsOn` });
        return;
      }
      const target = indexOf.get(dep);
      if (target === undefined) {
        // Never the task itself: a task cannot depend on itself.
        const others = ids.filter((id) => id !== task.id);
        const near = closest(dep, others);
        problems.push({
          where: where(),
          message: `task \`${task.id}\` depends on \`${dep}\`, which is not a task of this plan`,
          fix: near ? `did you mean \`${near}\`? The task ids are: ${ids.join(", ")}` : others.length ? `use one of: ${others.join(", ")}` : "remove it: this is the plan's only task",
        });
        return;
      }
      edges.push({ from: target, to: i, reason: { kind: "explicit" } });
    });
  });

  const producerOf = new Map<string, number>();
  plan.tasks.forEach((task, i) => {
    task.produces.forEach((raw, j) => {
      const path = normalizeOwnedPath(raw);
      const other = producerOf.get(path);
      if (other !== undefined && other !== i) {
        problems.push({
          where: `${source.locate(["tasks", i, "produces", j])} (tasks[${i}].produces[${j}])`,
          message: `contract \`${path}\` is produced by both \`${plan.tasks[other]!.id}\` and \`${task.id}\``,
          fix: "let one task produce it; the other can consume it",
        });
      } else producerOf.set(path, i);
    });
  });
  plan.tasks.forEach((task, i) => {
    for (const raw of task.consumes) {
      const path = normalizeOwnedPath(raw);
      const producer = producerOf.get(path);
      if (producer !== undefined && producer !== i) edges.push({ from: producer, to: i, reason: { kind: "contract", path } });
    }
  });

  if (problems.length) throw new InputError(problems);

  const graph = graphFromEdges(
    ids,
    plan.tasks.map((t) => t.estimate),
    edges,
  );
  const cycle = findCycle(graph);
  if (cycle) {
    const names = cycle.map((i) => ids[i]!);
    const because = cycle.slice(0, -1).map((from, k) => {
      const to = cycle[k + 1]!;
      const edge = graph.edges.find((e) => e.from === from && e.to === to)!;
      return edge.reason.kind === "contract" ? `\`${ids[to]}\` consumes \`${edge.reason.path}\`, which \`${ids[from]}\` produces` : `\`${ids[to]}\` depends on \`${ids[from]}\``;
    });
    const first = cycle[1]!;
    throw new InputError({
      where: `${source.locate(["tasks", first, "dependsOn"])} (tasks[${first}])`,
      message: `dependency cycle: ${[...names].reverse().join(" -> ")} (${because.reverse().join("; ")})`,
      fix: "remove one of these dependencies; tasks in a cycle can never start",
    });
  }
  return graph;
}

/** A cycle as indices [a, b, ..., a] following edges, or undefined if the graph is acyclic. */
function findCycle(graph: Pick<TaskGraph, "successors">): number[] | undefined {
  const n = graph.successors.length;
  const state = new Uint8Array(n); // 0 new, 1 on the stack, 2 done
  const parent = new Int32Array(n).fill(-1);
  for (let root = 0; root < n; root++) {
    if (state[root]) continue;
    const stack: Array<[number, number]> = [[root, 0]];
    state[root] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [node, next] = top;
      const succ = graph.successors[node]!;
      if (next >= succ.length) {
        state[node] = 2;
        stack.pop();
        continue;
      }
      top[1]++;
      const to = succ[next]!;
      if (state[to] === 1) {
        const cycle = [to];
        for (let v = node; v !== to; v = parent[v]!) cycle.push(v);
        cycle.push(to);
        return cycle.reverse();
      }
      if (state[to] === 0) {
        state[to] = 1;
        parent[to] = node;
        stack.push([to, 0]);
      }
    }
  }
  return undefined;
}

/** Indices in an order where every task comes after all its predecessors (Kahn, stable). */
export function topologicalOrder(graph: Pick<TaskGraph, "predecessors" | "successors">): number[] {
  const n = graph.predecessors.length;
  const waiting = graph.predecessors.map((p) => p.length);
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (waiting[i] === 0) order.push(i);
  for (let head = 0; head < order.length; head++) {
    for (const s of graph.successors[order[head]!]!) if (--waiting[s]! === 0) order.push(s);
  }
  return order;
}

/** bottomLevel[i]: the longest chain of estimates from task i to the end, i's own included. */
export function bottomLevels(graph: TaskGraph): number[] {
  const order = topologicalOrder(graph);
  const level = new Array<number>(graph.ids.length).fill(0);
  for (let k = order.length - 1; k >= 0; k--) {
    const i = order[k]!;
    let longest = 0;
    for (const s of graph.successors[i]!) longest = Math.max(longest, level[s]!);
    level[i] = graph.estimates[i]! + longest;
  }
  return level;
}

/** Whether `to` is reachable from `from` along edges. */
export function reaches(graph: Pick<TaskGraph, "successors">, from: number, to: number): boolean {
  const seen = new Set([from]);
  const stack = [from];
  while (stack.length) {
    const v = stack.pop()!;
    if (v === to) return true;
    for (const s of graph.successors[v]!)
      if (!seen.has(s)) {
        seen.add(s);
        stack.push(s);
      }
  }
  return false;
}
