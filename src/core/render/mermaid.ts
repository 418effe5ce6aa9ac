import type { ExecutionPlan } from "../plan/build.js";

/** Mermaid node ids: plan ids are `[a-z][a-z0-9-]*`; a prefix keeps ids like `end` from being keywords. */
const nodeId = (taskId: string) => `t_${taskId.replace(/-/g, "_")}`;

/**
 * Text inside a quoted Mermaid label. It is read in the terminal as often as it is drawn, so
 * letters, digits, marks and symbols of any script and plain punctuation stay as they are; the
 * rest, which Mermaid or its HTML labels could interpret (`"`, `#`, `&`, `<`, `>`, `;`, brackets,
 * backticks, controls), becomes an entity code (`#34;`). Long titles end in "...".
 */
function label(text: string): string {
  const flat = [...text.replace(/\s+/g, " ").trim()];
  const short = flat.length > 60 ? [...flat.slice(0, 57), ".", ".", "."] : flat;
  return short.map((ch) => (/^[\p{L}\p{N}\p{M}\p{Sc}\p{So} .,:_/()\-'!?+*=%@$]$/u.test(ch) ? ch : `#${ch.codePointAt(0)};`)).join("");
}

export function mermaidFlowchart(plan: ExecutionPlan): string {
  const lines = ["flowchart LR"];
  for (const phase of plan.phases) {
    lines.push(`  subgraph phase${phase.index}["Phase ${phase.index}"]`);
    for (const task of phase.tasks) lines.push(`    ${nodeId(task.id)}["${label(`${task.session}: ${task.role}`)}<br/>${label(task.title)}"]`);
    lines.push("  end");
  }
  for (const phase of plan.phases) {
    for (const task of phase.tasks) {
      for (const dep of task.dependsOn) lines.push(`  ${nodeId(dep)} --> ${nodeId(task.id)}`);
    }
  }
  return lines.join("\n");
}
