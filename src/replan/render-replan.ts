import type { ExecutionPlan, PlannedTask } from "../plan/build.js";
import { oneLine } from "../render/markdown-text.js";
import { phaseStatus, type ReplanDecision, type TaskField } from "./decide-replan.js";
import type { FeatureState } from "../feature/state-schema.js";

/** The lines `replan` prints: what the new plan changes, task by task, then the phases it leads to. */
export function describeReplan(d: ReplanDecision, current: ExecutionPlan, next: ExecutionPlan, state: FeatureState): string[] {
  const lines: string[] = [];
  for (const f of d.planFields) lines.push(`  ${f}: ${show(current[f])} -> ${show(next[f])}`);
  for (const c of d.tasks) {
    if (c.kind === "added") lines.push(`  ${c.id}: added, in phase ${c.phase}`);
    else if (c.kind === "removed") lines.push(`  ${c.id}: removed (it was in phase ${c.phase}, not started)`);
    else {
      const where = c.from === c.phase ? `phase ${c.phase}, ${c.status}` : `phase ${c.from} -> ${c.phase}`;
      const fields = c.fields.map((f) => fieldChange(f, c.before, c.after));
      lines.push(`  ${c.id} (${where})${fields.length ? `: ${fields.join("; ")}` : ""}`);
    }
  }
  if (d.phasesAfter !== d.phasesBefore) {
    const [low, high] = [Math.min(d.phasesBefore, d.phasesAfter), Math.max(d.phasesBefore, d.phasesAfter)];
    const range = low + 1 === high ? `phase ${high}` : `phases ${low + 1}-${high}`;
    lines.push(`  phases: ${d.phasesBefore} -> ${d.phasesAfter} (${range} ${d.phasesAfter > d.phasesBefore ? "added" : "removed"})`);
  }
  if (lines.length === 0) lines.push("  no task or phase changes (only the plan's text differs)");
  lines.push("Phases:");
  for (const p of next.phases) lines.push(`  ${p.index} (${phaseStatus(state, p.index)}): ${p.tasks.map((t) => t.id).join(", ")}`);
  return lines;
}

function fieldChange(f: TaskField, before: PlannedTask, after: PlannedTask): string {
  if (f === "prompt") return "prompt changed";
  return `${f} ${show(before[f])} -> ${show(after[f])}`;
}

function show(v: unknown): string {
  if (v === undefined) return "(none)";
  if (Array.isArray(v)) return `[${v.join(", ")}]`;
  if (typeof v === "object" && v !== null) return JSON.stringify(v);
  if (typeof v === "string") {
    const line = oneLine(v);
    return JSON.stringify(line.length > 60 ? `${line.slice(0, 57)}...` : line);
  }
  return String(v);
}

/**
 * What `replan` does, in order: say which plan file it applies and what changes, then write the sessions' task rules and briefs,
 * and the frozen plan last (a replan killed half way finds its plan not applied yet, and writes
 * everything again).
 */
export type ReplanAction =
  | { kind: "apply"; planFile: string }
  | { kind: "say"; text: string }
  | { kind: "write-session-files"; task: string; worktree: string }
  | { kind: "write-frozen-plan"; path: string };

/** One line saying what an action does (`replan --dry-run`). */
export function describeReplanAction(a: ReplanAction, briefFile: string): string {
  switch (a.kind) {
    case "apply":
      return `apply ${a.planFile}, which changes:`;
    case "say":
      return a.text;
    case "write-session-files":
      return `rewrite the task rules and ${briefFile} of ${a.task} in ${a.worktree}`;
    case "write-frozen-plan":
      return `write the frozen plan ${a.path}`;
  }
}
