import fc from "fast-check";
import { graphFromEdges, type Edge } from "../../src/core/plan/graph.js";

/** Random DAGs of 1 to `maxTasks` tasks (edges only from lower to higher index), with k from 1 to 5. */
export function randomDag(maxTasks: number) {
  return fc
    .record({
      n: fc.integer({ min: 1, max: maxTasks }),
      density: fc.double({ min: 0, max: 0.5, noNaN: true }),
      seed: fc.integer(),
      estimates: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: maxTasks, maxLength: maxTasks }),
      k: fc.integer({ min: 1, max: 5 }),
    })
    .map(({ n, density, seed, estimates, k }) => {
      let s = seed >>> 0;
      const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
      const edges: Edge[] = [];
      for (let to = 1; to < n; to++) for (let from = 0; from < to; from++) if (rand() < density) edges.push({ from, to, reason: { kind: "explicit" } });
      return {
        graph: graphFromEdges(
          Array.from({ length: n }, (_, i) => `t${i}`),
          estimates.slice(0, n),
          edges,
        ),
        k,
      };
    });
}
