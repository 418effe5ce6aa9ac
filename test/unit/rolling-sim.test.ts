import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { graphFromEdges, type Edge } from "../../src/plan/graph.js";
import { lowerBound } from "../../src/plan/schedule.js";
import { planOf, simulateRolling } from "../../bench/rolling.js";

/** Random DAGs: edges only from lower to higher index. */
const dag = fc
  .record({
    n: fc.integer({ min: 1, max: 16 }),
    density: fc.double({ min: 0, max: 0.5, noNaN: true }),
    seed: fc.integer(),
    estimates: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 16, maxLength: 16 }),
    k: fc.integer({ min: 1, max: 5 }),
  })
  .map(({ n, density, seed, estimates, k }) => {
    let s = seed >>> 0;
    const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const edges: Edge[] = [];
    for (let to = 1; to < n; to++) for (let from = 0; from < to; from++) if (rand() < density) edges.push({ from, to, reason: { kind: "explicit" } });
    return { graph: graphFromEdges(Array.from({ length: n }, (_, i) => `t${i}`), estimates.slice(0, n), edges), k };
  });

describe("the rolling simulation behind the benchmark", () => {
  it("a short chain beside a long task finishes under the long task, which phases cannot do", () => {
    // long (6) beside a -> b (1 + 1): phased puts b in a second phase after long; rolling starts b at 1.
    const graph = graphFromEdges(["long", "a", "b"], [6, 1, 1], [{ from: 1, to: 2, reason: { kind: "explicit" } }]);
    const { plan, phasedLength } = planOf(graph, 2);
    expect(phasedLength).toBe(7);
    expect(simulateRolling(plan, 2, "critical-path")).toBe(6);
    expect(simulateRolling(plan, 2, "plan-order")).toBe(6);
  });

  it("never beats the lower bound, so it honours every dependency and the k limit (seeded)", () => {
    fc.assert(
      fc.property(dag, ({ graph, k }) => {
        const { plan } = planOf(graph, k);
        for (const priority of ["critical-path", "plan-order"] as const) {
          expect(simulateRolling(plan, k, priority)).toBeGreaterThanOrEqual(lowerBound(graph, k));
        }
      }),
      { seed: 5, numRuns: 300 },
    );
  });
});
