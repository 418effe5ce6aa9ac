import { describe, expect, it } from "vitest";
import { randomDag } from "../helpers/dag.js";
import fc from "fast-check";
import { graphFromEdges } from "../../src/core/plan/graph.js";
import { lowerBound } from "../../src/core/plan/schedule.js";
import { planOf, simulateRolling } from "../../bench/rolling.js";

/** Random DAGs: edges only from lower to higher index. */
const dag = randomDag(16);

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
