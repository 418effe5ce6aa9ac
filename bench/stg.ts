import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { graphFromEdges, type Edge, type TaskGraph } from "../src/core/plan/graph.js";

/** Reads a Standard Task Graph file into a TaskGraph, dropping the two zero-cost dummy nodes. */
export function parseStg(text: string): TaskGraph {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const n = Number(lines[0]);
  const ids: string[] = [];
  const estimates: number[] = [];
  const edges: Edge[] = [];
  for (let k = 1; k <= n + 2; k++) {
    const [id, cost, npred, ...preds] = lines[k]!.split(/\s+/).map(Number);
    if (id === 0 || id === n + 1) continue;
    ids.push(`t${id}`);
    estimates.push(cost!);
    for (const p of preds.slice(0, npred)) if (p !== 0) edges.push({ from: p - 1, to: id! - 1, reason: { kind: "explicit" } });
  }
  return graphFromEdges(ids, estimates, edges);
}

export interface StgCase {
  file: string;
  size: number;
  k: number;
  optimum: number;
}

export function stgCases(root: string): StgCase[] {
  const cases: StgCase[] = [];
  const dir = join(root, "Optimal_values");
  if (!existsSync(dir)) return cases;
  for (const name of readdirSync(dir)) {
    const m = /^Case(\d+)_(\d+)_OPT\.csv$/.exec(name);
    if (!m) continue;
    for (const line of readFileSync(join(dir, name), "utf8").split("\n")) {
      const [file, k, opt] = line.trim().split(",");
      if (!file || !opt || Number.isNaN(Number(opt))) continue;
      cases.push({ file, size: Number(m[1]), k: Number(k), optimum: Number(opt) });
    }
  }
  return cases;
}
