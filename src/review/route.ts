import { covers, ownedPattern } from "../plan/owns.js";
import type { Finding } from "./verdict.js";

export interface ReviewedTask {
  id: string;
  owns: readonly string[];
  /** The files its branch changed in the phase. */
  changed: readonly string[];
}

export interface Routed {
  /** Task id -> its findings, in the tasks' order. */
  byTask: Map<string, Finding[]>;
  /** Findings no task of the phase is responsible for: the user decides. */
  unrouted: Finding[];
}

/**
 * Who fixes each finding: the task whose branch changed the file in this phase (the first, if
 * several did), else the task whose owned paths cover it; else nobody (the user). Pure.
 */
export function routeFindings(findings: readonly Finding[], tasks: readonly ReviewedTask[]): Routed {
  const owns = tasks.map((t) => ({ id: t.id, changed: new Set(t.changed), patterns: t.owns.map(ownedPattern) }));
  const byTask = new Map<string, Finding[]>();
  const unrouted: Finding[] = [];
  for (const finding of findings) {
    const owner = owns.find((t) => t.changed.has(finding.file)) ?? owns.find((t) => t.patterns.some((p) => covers(p, finding.file)));
    if (!owner) {
      unrouted.push(finding);
      continue;
    }
    byTask.set(owner.id, [...(byTask.get(owner.id) ?? []), finding]);
  }
  const ordered = new Map(tasks.filter((t) => byTask.has(t.id)).map((t) => [t.id, byTask.get(t.id)!]));
  return { byTask: ordered, unrouted };
}
