import { join } from "node:path";
import type { TaskManifest } from "../session/manifest.js";

/** Hands-off lines shown at most; the rest is counted. */
const MAX_OTHERS = 12;

/** The context a task session starts with (SessionStart's additionalContext). Pure. */
export function sessionContext(m: TaskManifest, worktree: string): string {
  const own = [...m.owns, ...m.produces];
  const lines = [
    "# claude-parallel: this session's task",
    "",
    `You are the ${m.role} session of the parallel plan "${m.feature}" (feature \`${m.slug}\`, task \`${m.task}\`, phase ${m.phase} of ${m.phases}), on branch \`${m.branch}\`.`,
    `Task: ${m.title}`,
    `Full brief: ${join(worktree, m.brief)}`,
  ];
  lines.push(own.length ? `You may change: ${own.join(", ")}` : "This task owns no paths: you may change any file, but keep to the task.");
  const others = m.others.slice(0, MAX_OTHERS);
  if (others.length) {
    lines.push("Hands off (other tasks own these):");
    for (const o of others) lines.push(`- ${o.paths.join(", ")}: task \`${o.task}\` (${o.role}, phase ${o.phase})`);
    if (m.others.length > others.length) lines.push(`- and ${m.others.length - others.length} more tasks' paths (see the brief)`);
  }
  if (m.consumes.length) lines.push(`Build against these contracts: ${m.consumes.join(", ")}`);
  if (m.produces.length) lines.push(`Produce these contracts for other sessions: ${m.produces.join(", ")}`);
  if (m.verify !== undefined) lines.push(`Verify: \`${m.verify}\` must pass in this worktree.`);
  lines.push(`Ports: ${m.port}-${m.port + 9} (PARALLEL_PORT=${m.port}).`);
  if (own.length && m.enforceOwns !== "off") {
    lines.push(
      `Edits of files outside your paths are ${m.enforceOwns === "deny" ? "refused" : "put to the user"}. If you need a change there, append a request (the file, the change, why) to .claude-parallel/requests.md and carry on.`,
    );
  }
  lines.push(`When done: ${m.verify !== undefined ? `make \`${m.verify}\` pass, ` : ""}commit everything on \`${m.branch}\`, then say that the task is done so the sync can merge it.`);
  return lines.join("\n");
}

/** Lines for CLAUDE_ENV_FILE: the task's variables, for every Bash command of the session. */
export function envExports(m: TaskManifest): string {
  // Slugs and task ids are [a-z0-9-] (the plan schema checks them); quoted all the same.
  const safe = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  return [`export PARALLEL_FEATURE=${safe(m.slug)}`, `export PARALLEL_TASK=${safe(m.task)}`, `export PARALLEL_PORT=${m.port}`, `export PARALLEL_PORT_LAST=${m.port + 9}`, ""].join("\n");
}
