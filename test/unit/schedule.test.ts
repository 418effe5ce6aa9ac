import { describe, expect, it } from "vitest";
import { randomDag } from "../helpers/dag.js";
import fc from "fast-check";
import { graphFromEdges, type Edge, type TaskGraph } from "../../src/core/plan/graph.js";
import { criticalPath, depthThenChunk, EXACT_LIMIT, lowerBound, scheduleLength, schedulePhases } from "../../src/core/plan/schedule.js";

/** Random DAGs: edges only from lower to higher index. */
const dag = randomDag(14);

function assertValid(graph: TaskGraph, phases: number[][], k: number) {
  const phaseOf = new Map<number, number>();
  phases.forEach((p, i) => p.forEach((t) => phaseOf.set(t, i)));
  expect([...phaseOf.keys()].sort((a, b) => a - b)).toEqual(graph.ids.map((_, i) => i));
  expect(phases.flat()).toHaveLength(graph.ids.length);
  for (const p of phases) expect(p.length).toBeGreaterThan(0);
  for (const p of phases) expect(p.length).toBeLessThanOrEqual(k);
  for (const e of graph.edges) expect(phaseOf.get(e.from)!).toBeLessThan(phaseOf.get(e.to)!);
}

/** The best phase schedule by exhaustive search (tiny graphs only). */
function optimum(graph: TaskGraph, k: number): number {
  const n = graph.ids.length;
  let best = Infinity;
  const done = new Array<boolean>(n).fill(false);
  const search = (length: number, left: number) => {
    if (length >= best) return;
    if (left === 0) {
      best = length;
      return;
    }
    const ready = graph.ids.map((_, i) => i).filter((i) => !done[i] && graph.predecessors[i]!.every((p) => done[p]));
    const subsets = (1 << ready.length) - 1;
    for (let mask = 1; mask <= subsets; mask++) {
      const chosen = ready.filter((_, j) => mask & (1 << j));
      if (chosen.length > k) continue;
      for (const i of chosen) done[i] = true;
      search(length + Math.max(...chosen.map((i) => graph.estimates[i]!)), left - chosen.length);
      for (const i of chosen) done[i] = false;
    }
  };
  search(0, n);
  return best;
}

describe("phase scheduling", () => {
  it("keeps dependencies in earlier phases and at most maxParallel per phase", () => {
    fc.assert(
      fc.property(dag, ({ graph, k }) => {
        const s = schedulePhases(graph, k);
        assertValid(graph, s.phases, k);
        expect(s.length).toBe(scheduleLength(s.phases, graph.estimates));
        expect(s.length).toBeGreaterThanOrEqual(lowerBound(graph, k));
      }),
      { numRuns: 300 },
    );
  });

  it("is never worse than grouping by depth and chunking", () => {
    fc.assert(
      fc.property(dag, ({ graph, k }) => {
        expect(schedulePhases(graph, k).length).toBeLessThanOrEqual(depthThenChunk(graph, k).length);
      }),
      { numRuns: 300 },
    );
  });

  it("finds the optimum on small graphs with equal estimates", () => {
    const small = dag.filter(({ graph }) => graph.ids.length <= 8).map(({ graph, k }) => ({ graph: { ...graph, estimates: graph.estimates.map(() => 1) }, k }));
    fc.assert(
      fc.property(small, ({ graph, k }) => {
        expect(schedulePhases(graph, k).length).toBe(optimum(graph, k));
      }),
      { numRuns: 150 },
    );
  });

  it("finds the optimum on small graphs with mixed estimates", () => {
    const small = dag.filter(({ graph }) => graph.ids.length <= 8);
    fc.assert(
      fc.property(small, ({ graph, k }) => {
        expect(schedulePhases(graph, k).length).toBe(optimum(graph, k));
      }),
      { numRuns: 200 },
    );
  });

  it("keeps the invariants on graphs too large to solve exactly", () => {
    const large = fc.record({ n: fc.integer({ min: EXACT_LIMIT + 1, max: 60 }), seed: fc.integer(), k: fc.integer({ min: 1, max: 6 }) }).map(({ n, seed, k }) => {
      let s = seed >>> 0;
      const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
      const edges: Edge[] = [];
      for (let to = 1; to < n; to++) for (let from = 0; from < to; from++) if (rand() < 0.08) edges.push({ from, to, reason: { kind: "explicit" } });
      return {
        graph: graphFromEdges(
          Array.from({ length: n }, (_, i) => `t${i}`),
          Array.from({ length: n }, () => 1 + Math.floor(rand() * 9)),
          edges,
        ),
        k,
      };
    });
    fc.assert(
      fc.property(large, ({ graph, k }) => {
        const s = schedulePhases(graph, k);
        assertValid(graph, s.phases, k);
        expect(s.length).toBeGreaterThanOrEqual(lowerBound(graph, k));
        expect(s.length).toBeLessThanOrEqual(depthThenChunk(graph, k).length);
      }),
      { numRuns: 60 },
    );
  });

  it("beats depth-then-chunk where critical paths matter", () => {
    // A long chain beside many independent tasks: depth grouping fills phase 1 with the wrong ones.
    const ids = ["c0", "c1", "c2", "c3", "x0", "x1", "x2", "x3", "x4", "x5"];
    const edges: Edge[] = [0, 1, 2].map((i) => ({ from: i, to: i + 1, reason: { kind: "explicit" as const } }));
    const graph = graphFromEdges(
      ids,
      ids.map(() => 1),
      edges,
    );
    expect(criticalPath(graph)).toBe(4);
    expect(schedulePhases(graph, 2).length).toBe(5);
    expect(depthThenChunk(graph, 2).length).toBe(7);
  });

  it("is deterministic", () => {
    fc.assert(
      fc.property(dag, ({ graph, k }) => {
        expect(schedulePhases(graph, k)).toEqual(schedulePhases(graph, k));
      }),
      { numRuns: 50 },
    );
  });
});
