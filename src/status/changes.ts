import { conflictText } from "../core/render/conflict.js";
import { singleLine } from "../core/text/single-line.js";
import type { FeatureStatus, PhaseStatus, TaskStatus } from "./gather.js";

/**
 * What changed between two reports of one feature, one line each, for `status --watch` when its
 * output is not a terminal. Pure. Lines name the task and say the new value, so a reader (or a
 * script) following the stream needs no earlier line to understand one.
 */
export function statusChanges(before: FeatureStatus, after: FeatureStatus): string[] {
  const lines: string[] = [];
  for (const phase of after.phases) {
    const old = before.phases.find((p) => p.index === phase.index);
    if (old?.state !== phase.state) lines.push(`phase ${phase.index}: ${phase.state === "started" ? "in progress" : phase.state}`);
    if (phase.state !== "started") continue;
    for (const task of phase.tasks) {
      const was = old?.state === "started" ? old.tasks.find((t) => t.id === task.id) : undefined;
      lines.push(...taskChanges(was, task).map((l) => `${task.id}: ${l}`));
    }
    lines.push(...conflictChanges(old, phase));
    if (phase.readyToSync && !old?.readyToSync) lines.push(`phase ${phase.index}: ready to sync (run /parallel-sync)`);
    if (!phase.readyToSync && old?.readyToSync && phase.state === "started") lines.push(`phase ${phase.index}: no longer ready to sync`);
  }
  return lines.map(singleLine);
}

function taskChanges(was: TaskStatus | undefined, now: TaskStatus): string[] {
  const lines: string[] = [];
  const session = (t: TaskStatus | undefined) =>
    t?.ledger
      ? t.ledger.state + (t.ledger.detail ? ` (${t.ledger.detail})` : "")
      : t?.session.kind === "running"
        ? "running"
        : t?.session.kind === "exited"
          ? `exited (${t.session.exitCode ?? "unknown"})`
          : t?.session.kind === "unknown"
            ? "unknown (its record is damaged)"
            : undefined;
  const s = session(now);
  if (s !== undefined && s !== session(was)) lines.push(`session ${s}`);
  if (now.attempts > (was?.attempts ?? 0) && now.attempts > 1) lines.push(`attempt ${now.attempts}`);
  if (now.ahead !== (was?.ahead ?? 0) || now.tip !== was?.tip) {
    if (now.branchMissing) lines.push("branch missing");
    else if (now.ahead > 0) lines.push(`${now.ahead} ${now.ahead === 1 ? "commit" : "commits"} ahead${now.lastCommit ? `, last: ${now.lastCommit.subject}` : ""}`);
  }
  if (now.uncommitted.length !== (was?.uncommitted.length ?? 0))
    lines.push(now.uncommitted.length ? `${now.uncommitted.length} uncommitted ${now.uncommitted.length === 1 ? "file" : "files"}` : "worktree clean");
  if (now.outsideOwns.join("\0") !== (was?.outsideOwns ?? []).join("\0") && now.outsideOwns.length) lines.push(`changed files it does not own: ${now.outsideOwns.join(", ")}`);
  const verify = (t: TaskStatus | undefined) => (t && (t.verify.kind === "passed" || t.verify.kind === "failed") ? `${t.verify.kind} at ${t.verify.commit.slice(0, 7)}` : undefined);
  const v = verify(now);
  if (v !== undefined && v !== verify(was)) lines.push(`verify ${v}`);
  const newRequests = (now.requests ?? []).filter((r) => !(was?.requests ?? []).includes(r));
  for (const r of newRequests.slice(0, 3)) lines.push(`asks: ${r}`);
  if (now.skipped !== undefined && was?.skipped === undefined) lines.push(`skipped: ${now.skipped}`);
  if (now.brokenRules !== undefined && now.brokenRules !== was?.brokenRules) lines.push(now.brokenRules);
  return lines;
}

function conflictChanges(old: PhaseStatus | undefined, phase: PhaseStatus): string[] {
  const key = (c: PhaseStatus["conflicts"][number]) => `${c.task}\0${c.with.join("\0")}\0${c.files.join("\0")}`;
  const seen = new Set((old?.conflicts ?? []).map(key));
  return phase.conflicts.filter((c) => !seen.has(key(c))).map((c) => `conflict predicted: ${conflictText(c).summary}`);
}
