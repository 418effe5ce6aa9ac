// The phase scheduler as it was before the speed work of issue 12 (src/core/plan/schedule.ts at
// d0ffbc0), kept verbatim as the reference: a faster scheduler must make exactly these phases
// (test/unit/schedule-reference.test.ts). Do not change it to follow src/.
import { bottomLevels, topologicalOrder, type TaskGraph } from "../../src/core/plan/graph.js";
import { Heap } from "../../src/core/plan/heap.js";

/**
 * Phases of parallel work: every task's predecessors lie in strictly earlier phases, and no phase
 * holds more than `maxParallel` tasks. A phase lasts as long as its longest task (sessions wait
 * for each other at the sync point), so the schedule's length is the sum of those maxima.
 */
export interface Schedule {
  phases: number[][];
  length: number;
}

export function scheduleLength(phases: number[][], estimates: number[]): number {
  let total = 0;
  for (const phase of phases) {
    let longest = 0;
    for (const i of phase) longest = Math.max(longest, estimates[i]!);
    total += longest;
  }
  return total;
}

export function criticalPath(graph: TaskGraph): number {
  return Math.max(0, ...bottomLevels(graph));
}

/** No schedule can be shorter: max(critical path, ceil(total estimate / maxParallel)). */
export function lowerBound(graph: TaskGraph, maxParallel: number): number {
  const total = graph.estimates.reduce((a, b) => a + b, 0);
  return Math.max(criticalPath(graph), Math.ceil(total / maxParallel - 1e-9));
}

type FillPolicy = "priority" | "fit-first" | "fit-only";

/**
 * List scheduling into phases. Each phase takes ready tasks by descending priority; with
 * `fit-first`, the phase's leader fixes its length and tasks that fit within it come first, since
 * they ride along for free (looking a bounded way down the ready list, to stay linear-ish); with
 * `fit-only`, nothing longer than the leader joins, so a short critical task is not held up by
 * long ones that could all run together later.
 */
function buildPhases(graph: TaskGraph, priority: ArrayLike<number>, maxParallel: number, policy: FillPolicy): number[][] {
  const n = graph.ids.length;
  const est = graph.estimates;
  const waiting = graph.predecessors.map((p) => p.length);
  const ready = new Heap((a, b) => priority[b]! - priority[a]! || est[b]! - est[a]! || a - b);
  for (let i = 0; i < n; i++) if (waiting[i] === 0) ready.push(i);
  const phases: number[][] = [];
  while (ready.size > 0) {
    const phase: number[] = [ready.pop()!];
    if (policy === "priority") {
      while (phase.length < maxParallel && ready.size > 0) phase.push(ready.pop()!);
    } else {
      const limit = est[phase[0]!]!;
      const skipped: number[] = [];
      while (phase.length < maxParallel && ready.size > 0 && skipped.length < 4 * maxParallel) {
        const t = ready.pop()!;
        if (est[t]! <= limit) phase.push(t);
        else skipped.push(t);
      }
      for (const t of skipped) {
        if (phase.length < maxParallel && policy === "fit-first") phase.push(t);
        else ready.push(t);
      }
    }
    for (const i of phase) for (const s of graph.successors[i]!) if (--waiting[s]! === 0) ready.push(s);
    phases.push(phase.sort((a, b) => a - b));
  }
  return phases;
}

/**
 * Local search: move single tasks to another phase their dependencies allow, whenever that
 * shortens the schedule (a long task joining a phase that is already long, a short one leaving
 * the phase it alone made long). Empty phases disappear. Never makes the schedule longer.
 */
function improve(graph: TaskGraph, input: number[][], maxParallel: number): number[][] {
  const est = graph.estimates;
  const phases = input.map((p) => [...p]);
  const phaseOf = new Int32Array(graph.ids.length);
  phases.forEach((p, k) => p.forEach((i) => (phaseOf[i] = k)));
  const maxOf = (p: number[], without = -1) => {
    let m = 0;
    for (const i of p) if (i !== without) m = Math.max(m, est[i]!);
    return m;
  };
  // Each phase's longest estimate, kept up to date as tasks move.
  const longest = phases.map((p) => maxOf(p));
  const order = graph.ids.map((_, i) => i).sort((a, b) => est[b]! - est[a]! || a - b);
  for (let pass = 0, moved = true; moved && pass < 8; pass++) {
    moved = false;
    for (const t of order) {
      const from = phaseOf[t]!;
      const saved = longest[from]! - maxOf(phases[from]!, t);
      if (saved <= 0) continue;
      let lo = 0;
      let hi = phases.length - 1;
      for (const p of graph.predecessors[t]!) lo = Math.max(lo, phaseOf[p]! + 1);
      for (const s of graph.successors[t]!) hi = Math.min(hi, phaseOf[s]! - 1);
      let bestTo = -1;
      let bestGain = 1e-9;
      for (let to = lo; to <= hi; to++) {
        if (to === from || phases[to]!.length >= maxParallel) continue;
        const gain = saved - Math.max(0, est[t]! - longest[to]!);
        if (gain > bestGain) {
          bestGain = gain;
          bestTo = to;
        }
      }
      if (bestTo < 0) continue;
      phases[from] = phases[from]!.filter((i) => i !== t);
      longest[from] = maxOf(phases[from]!);
      phases[bestTo]!.push(t);
      longest[bestTo] = Math.max(longest[bestTo]!, est[t]!);
      phaseOf[t] = bestTo;
      moved = true;
    }
  }
  return phases.filter((p) => p.length > 0).map((p) => p.sort((a, b) => a - b));
}

/** Plans up to this many tasks are scheduled exactly (at most 3^n steps: about half a million). */
export const EXACT_LIMIT = 12;

/**
 * The optimal schedule, by dynamic programming over the set of finished tasks: from each set,
 * try every phase that could run next (ready tasks, at most maxParallel) and keep the shortest
 * continuation; ties go to fewer phases, then to the phase that does more work first.
 */
function exactPhases(graph: TaskGraph, maxParallel: number): number[][] {
  const n = graph.ids.length;
  const full = (1 << n) - 1;
  const needs = graph.predecessors.map((preds) => preds.reduce((m, p) => m | (1 << p), 0));
  const length = new Float64Array(1 << n).fill(-1);
  const phases = new Int32Array(1 << n);
  const choice = new Int32Array(1 << n);
  const est = graph.estimates;
  // For every set of tasks: how many, the longest estimate and the total work, each built from the
  // set without its highest task, so the work adds up in the same order as a loop over the tasks.
  const count = new Uint8Array(1 << n);
  const longestOf = new Float64Array(1 << n);
  const workOf = new Float64Array(1 << n);
  for (let set = 1, high = 0; set <= full; set++) {
    if (set === 1 << (high + 1)) high++;
    const rest = set & ~(1 << high);
    count[set] = count[rest]! + 1;
    longestOf[set] = Math.max(est[high]!, longestOf[rest]!);
    workOf[set] = workOf[rest]! + est[high]!;
  }
  const solve = (done: number): void => {
    if (length[done]! >= 0) return;
    if (done === full) {
      length[done] = 0;
      return;
    }
    let ready = 0;
    for (let i = 0; i < n; i++) if (!(done & (1 << i)) && (needs[i]! & ~done) === 0) ready |= 1 << i;
    let bestLength = Infinity;
    let bestPhases = Infinity;
    let bestWork = -1;
    let best = 0;
    for (let phase = ready; phase > 0; phase = (phase - 1) & ready) {
      if (count[phase]! > maxParallel) continue;
      const longest = longestOf[phase]!;
      const work = workOf[phase]!;
      solve(done | phase);
      const total = longest + length[done | phase]!;
      const totalPhases = 1 + phases[done | phase]!;
      // Shortest; then fewest phases; then the most work done early.
      const sameLength = Math.abs(total - bestLength) < 1e-9;
      if (total < bestLength - 1e-9 || (sameLength && (totalPhases < bestPhases || (totalPhases === bestPhases && work > bestWork)))) {
        bestLength = total;
        bestPhases = totalPhases;
        bestWork = work;
        best = phase;
      }
    }
    length[done] = bestLength;
    phases[done] = bestPhases;
    choice[done] = best;
  };
  solve(0);
  const result: number[][] = [];
  for (let done = 0; done !== full; done |= choice[done]!) {
    const phase: number[] = [];
    for (let i = 0; i < n; i++) if (choice[done]! & (1 << i)) phase.push(i);
    result.push(phase);
  }
  return result;
}

/** A small deterministic PRNG (mulberry32), so the same plan always gets the same schedule. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Work budget for the randomized search, in task visits: keeps `plan` fast on large plans. */
const SEARCH_BUDGET = 40_000;

/**
 * The shortest schedule we find: the optimum for plans up to EXACT_LIMIT tasks; beyond that,
 * critical-path list scheduling under three fill policies, then a seeded search over perturbed
 * priorities while the budget lasts, each result improved by local search. Ties go to fewer phases.
 */
export function schedulePhases(graph: TaskGraph, maxParallel: number): Schedule {
  const n = graph.ids.length;
  if (n === 0) return { phases: [], length: 0 };
  if (n <= EXACT_LIMIT) {
    const phases = exactPhases(graph, maxParallel);
    return { phases, length: scheduleLength(phases, graph.estimates) };
  }
  const levels = bottomLevels(graph);
  const bound = lowerBound(graph, maxParallel);
  let best: Schedule | undefined;
  const consider = (phases: number[][]) => {
    const length = scheduleLength(phases, graph.estimates);
    if (!best || length < best.length - 1e-9 || (Math.abs(length - best.length) < 1e-9 && phases.length < best.phases.length)) {
      best = { phases, length };
    }
  };
  const policies: FillPolicy[] = ["priority", "fit-first", "fit-only"];
  for (const policy of policies) consider(improve(graph, buildPhases(graph, levels, maxParallel, policy), maxParallel));

  const rounds = Math.min(64, Math.floor(SEARCH_BUDGET / (n * 4)));
  const next = random(0x5eed ^ n);
  const noisy = new Float64Array(n);
  for (let round = 0; round < rounds && best!.length > bound + 1e-9; round++) {
    const spread = 0.05 + 0.3 * (round / rounds);
    for (let i = 0; i < n; i++) noisy[i] = levels[i]! * (1 + spread * (next() - 0.5));
    consider(improve(graph, buildPhases(graph, noisy, maxParallel, policies[round % policies.length]!), maxParallel));
  }
  return best!;
}

/**
 * The naive grouping the seed suggests: phase = depth in the graph, then cut each depth into
 * chunks of `maxParallel` in plan order. Kept as the benchmark baseline.
 */
export function depthThenChunk(graph: TaskGraph, maxParallel: number): Schedule {
  const depth = new Array<number>(graph.ids.length).fill(0);
  for (const i of topologicalOrder(graph)) {
    for (const p of graph.predecessors[i]!) depth[i] = Math.max(depth[i]!, depth[p]! + 1);
  }
  const byDepth: number[][] = [];
  depth.forEach((d, i) => (byDepth[d] ??= []).push(i));
  const phases: number[][] = [];
  for (const group of byDepth) {
    if (!group) continue;
    for (let k = 0; k < group.length; k += maxParallel) phases.push(group.slice(k, k + maxParallel));
  }
  return { phases, length: scheduleLength(phases, graph.estimates) };
}
