import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { graphFromEdges, type Edge } from "../../src/core/plan/graph.js";
import { EXACT_LIMIT, schedulePhases } from "../../src/core/plan/schedule.js";
import { schedulePhases as referencePhases } from "../helpers/schedule-reference.js";

/** A random DAG (edges from lower to higher index) with estimates drawn from `estimates`. */
function graphOf(n: number, density: number, seed: number, estimates: readonly number[]) {
  let s = seed >>> 0;
  const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const edges: Edge[] = [];
  for (let to = 1; to < n; to++) for (let from = 0; from < to; from++) if (rand() < density) edges.push({ from, to, reason: { kind: "explicit" } });
  const est = Array.from({ length: n }, () => estimates[Math.floor(rand() * estimates.length)]!);
  return graphFromEdges(
    Array.from({ length: n }, (_, i) => `t${i}`),
    est,
    edges,
  );
}

// Whole numbers, and fractions whose sums round (0.1 + 0.2), tie within 1e-9, or differ by a hair.
const WHOLE = [1, 2, 3, 5, 8];
const FRACTIONS = [0.1, 0.2, 0.3, 0.7, 1, 1.5, 2.5, 1e-3, 3 + 1e-10, 3, 1e6, 999_999.9];

describe("the scheduler makes exactly the phases it made before the speed work (issue 12)", () => {
  it("on graphs small enough to solve exactly", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: EXACT_LIMIT }), fc.double({ min: 0, max: 0.6, noNaN: true }), fc.integer(), fc.boolean(), fc.integer({ min: 1, max: 13 }), (n, density, seed, whole, k) => {
        const graph = graphOf(n, density, seed, whole ? WHOLE : FRACTIONS);
        expect(schedulePhases(graph, k)).toEqual(referencePhases(graph, k));
      }),
      { seed: 12, numRuns: 600 },
    );
  });

  it("on larger graphs (list scheduling, local search, seeded perturbations)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: EXACT_LIMIT + 1, max: 400 }),
        fc.double({ min: 0, max: 0.2, noNaN: true }),
        fc.integer(),
        fc.boolean(),
        fc.integer({ min: 1, max: 10 }),
        (n, density, seed, whole, k) => {
          const graph = graphOf(n, density * (40 / n), seed, whole ? WHOLE : FRACTIONS);
          expect(schedulePhases(graph, k)).toEqual(referencePhases(graph, k));
        },
      ),
      { seed: 13, numRuns: 150 },
    );
  });

  it("on a 3,000-task plan like the benchmark's", () => {
    // bench/main.ts randomPlan: up to three dependencies on earlier tasks, estimates 1 to 5.
    let s = 7;
    const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const edges: Edge[] = [];
    const estimates: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const deps = new Set<number>();
      for (let k = 0; k < 3 && i > 0; k++) if (rand() < 0.6) deps.add(Math.floor(rand() * i));
      for (const d of deps) edges.push({ from: d, to: i, reason: { kind: "explicit" } });
      estimates.push(1 + Math.floor(rand() * 5));
    }
    const graph = graphFromEdges(
      Array.from({ length: 3000 }, (_, i) => `t${i}`),
      estimates,
      edges,
    );
    expect(schedulePhases(graph, 8)).toEqual(referencePhases(graph, 8));
  });
});
