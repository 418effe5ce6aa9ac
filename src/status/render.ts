import { code, oneLine } from "../core/render/markdown-text.js";
import { sh } from "../core/text/shell.js";
import { conflictText, fixSentence } from "../core/render/conflict.js";
import type { FeatureStatus, PhaseStatus, TaskStatus, Totals } from "./gather.js";
import { usd } from "../core/budget.js";

/** A started feature whose state cannot be read (a StateError): what `status` says of it instead of its report. */
export interface DamagedFeature {
  slug: string;
  damaged: { file: string; problem: string; fix: string };
}

/** One line: the damaged file and the fix. */
export function renderDamaged(d: DamagedFeature): string {
  return `**${oneLine(d.slug)}**: ${damagedText(d)}\n`;
}

export function damagedText(d: DamagedFeature): string {
  return `its state is damaged, so it is not reported: ${code(d.damaged.file)}: ${oneLine(d.damaged.problem)}; fix: ${oneLine(d.damaged.fix)}.`;
}

export function renderStatus(s: FeatureStatus): string {
  const out = [`# Status: ${oneLine(s.feature)} (${s.slug})`, "", `Integration branch ${code(s.integrationBranch)}, base ${code(s.base)}.`, ""];
  if (s.movedRefs?.length) {
    out.push("**Refs moved outside claude-parallel's merges**: sync, run and finish refuse until each is fixed.", "");
    for (const r of s.movedRefs) out.push(`- ${oneLine(r.message)}`, `  fix: ${oneLine(r.fix)}`);
    out.push("");
  }
  for (const m of s.acceptedMoves ?? [])
    out.push(
      `Accepted by hand (\`claude-parallel accept\`, ${when(m.at)}): ${code(s.integrationBranch)} moved from ${m.from.slice(0, 12)} to ${m.to.slice(0, 12)} outside claude-parallel's merges.`,
      "",
    );
  for (const phase of s.phases) out.push(...renderPhase(phase, s.slug));
  if (s.totals.attempts > 0) out.push(`Feature totals: ${totalsText(s.totals)}.`, "");
  return out.join("\n");
}

function renderPhase(p: PhaseStatus, slug: string): string[] {
  const roles = p.tasks.map((t) => t.role).join(", ");
  // A synced phase's sessions still count: its totals, when it had any.
  if (p.state !== "started") return [`## Phase ${p.index}: ${p.state} (${roles})`, "", ...(p.totals.attempts > 0 ? [`Phase totals: ${totalsText(p.totals)}.`, ""] : [])];
  const out = [`## Phase ${p.index}: in progress (${roles})`, ""];
  out.push("| Task | Branch | Commits | Uncommitted | Last commit | Outside owns | Verify | Headless |", "| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const t of p.tasks) out.push(row(t));
  out.push("");
  const problems = p.tasks.flatMap((t) => problemsOf(t, slug));
  if (p.conflicts.length === 0) out.push("Predicted conflicts: none.");
  else {
    out.push("Predicted conflicts:");
    for (const c of p.conflicts) {
      const text = conflictText(c, code);
      out.push(`- ${text.summary}`, ...text.files.map((f) => `  - ${f}`), `  - fix: ${fixSentence(text, `in ${c.task}'s worktree`, ", and commit before the sync", code)}.`);
    }
  }
  const sessions = p.tasks.filter((t) => t.ledger || t.attempts > 0 || t.sharedSession).map(sessionLine);
  if (sessions.length) out.push("", "Sessions:", ...sessions, `Phase totals: ${totalsText(p.totals)}.`);
  if (p.readyToSync) {
    out.push("", `Phase ${p.index} is ready to sync: run ${code("/parallel-sync")} (or ${code(sh`claude-parallel sync ${slug}`)}).`);
    // What a ready phase can still show: a headless session that failed after committing.
    if (problems.length) out.push("", "Check first:", ...problems.map((x) => `- ${x}`));
  } else if (problems.length) out.push("", "Before the sync:", ...problems.map((x) => `- ${x}`));
  out.push("");
  return out;
}

function row(t: TaskStatus): string {
  const cells = [
    `${t.id} (${t.role})`,
    code(t.branch),
    t.skipped !== undefined ? `skipped: ${oneLine(t.skipped)}` : t.branchMissing ? "branch missing" : `${t.ahead} ahead`,
    t.worktreeMissing ? "no worktree" : t.uncommitted.length ? `${t.uncommitted.length} ${t.uncommitted.length === 1 ? "file" : "files"}` : "clean",
    t.lastCommit ? `${t.lastCommit.sha} ${oneLine(t.lastCommit.subject)} (${t.lastCommit.when})` : "none yet",
    t.outsideOwns.length ? t.outsideOwns.map(code).join(", ") : "none",
    verifyCell(t),
    t.session.kind === "running" ? `running (pid ${t.session.pid})` : t.session.kind === "exited" ? `exited (${t.session.exitCode ?? "unknown"})` : t.session.kind === "unknown" ? "unknown" : "-",
  ];
  return `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
}

function verifyCell(t: TaskStatus): string {
  const v = t.verify;
  if (v.kind === "none") return "-";
  if (v.kind === "not-run") return "not run";
  const at = `at ${v.commit.slice(0, 7)}${v.current ? "" : ", since changed"}`;
  return v.kind === "passed" ? `passed ${at}` : `failed (exit ${v.exitCode}) ${at}`;
}

function problemsOf(t: TaskStatus, slug: string): string[] {
  const list: string[] = [];
  if (t.requests?.length)
    list.push(
      `${t.id} asks other tasks (${code(".claude-parallel/requests.md")}): ${t.requests
        .slice(0, 3)
        .map((r) => oneLine(r))
        .join(" / ")}${t.requests.length > 3 ? " / ..." : ""}`,
    );
  for (const u of t.unread ?? []) list.push(`${t.id}: not read (damaged, or not ours): ${oneLine(u)}.`);
  if (t.skipped !== undefined) return list;
  if (t.brokenRules) list.push(`${t.id}: ${oneLine(t.brokenRules)}. Write its task rules again: ${code(sh`claude-parallel start ${slug} --launch print`)} (it launches nothing).`);
  if (t.branchMissing) list.push(`${t.id}: its branch ${code(t.branch)} is missing.`);
  if (!t.branchMissing && t.ahead === 0) list.push(`${t.id}: no commit yet.`);
  if (t.uncommitted.length)
    list.push(
      `${t.id}: commit or discard ${t.uncommitted.length} uncommitted ${t.uncommitted.length === 1 ? "change" : "changes"} (${t.uncommitted.slice(0, 5).map(code).join(", ")}${t.uncommitted.length > 5 ? ", ..." : ""}).`,
    );
  if (t.outsideOwns.length) list.push(`${t.id}: changed files it does not own: ${t.outsideOwns.map(code).join(", ")}.`);
  if (t.octopusMerges) list.push(`${t.id}: [${t.octopusMerges.code}] ${t.octopusMerges.message}. Fix: ${t.octopusMerges.fix}.`);
  if (t.session.kind === "running") list.push(`${t.id}: its headless session is still running (pid ${t.session.pid}).`);
  if (t.session.kind === "unknown") list.push(`${t.id}: whether its headless session still runs is not known: ${oneLine(t.session.problem)}.`);
  if (t.session.kind === "exited" && t.session.exitCode !== 0) {
    list.push(
      `${t.id}: its headless session ${t.session.exitCode === null ? "ended without an exit code" : `exited with ${t.session.exitCode}`}${t.session.reason ? `: ${oneLine(t.session.reason)}` : ""} (log: ${code(t.session.log)}${t.session.sessionId ? `; resume it in ${code(t.worktree ?? "its worktree")} with ${code(`claude --resume ${t.session.sessionId}`)}` : ""}).`,
    );
  }
  const ci = t.sharedSession;
  if (ci?.state === "failed" && ci.via === "claude-code-action") {
    list.push(
      `${t.id}: its session on GitHub Actions failed${ci.detail ? ` (${oneLine(ci.detail)})` : ""}${ci.sessionId ? `; session ${code(ci.sessionId)}` : ""}${ci.run ? ` in ${ci.run}` : ""}${ci.artifact ? `, transcript in its artifact ${code(ci.artifact)}` : ""}: its commits are on ${code(t.branch)}, not merged; re-run its leg, or finish it here (${code(sh`claude-parallel start ${slug}`)} makes its worktree${ci.artifact && ci.sessionId ? `; to go on with its session, download the artifact into a folder and run ${code(sh`claude-parallel ci resume ${slug} ${t.id}` + " <folder>")}` : ""}).`,
    );
  }
  if (t.verify.kind === "failed" && t.verify.current) {
    const tail = t.verify.outputTail.split("\n").filter(Boolean).slice(-3).join(" / ");
    list.push(`${t.id}: ${code(t.verify.command)} fails (exit ${t.verify.exitCode})${tail ? `: ${oneLine(tail)}` : ""}.`);
  }
  return list;
}

const n = (x: number) => x.toLocaleString("en-US");
const when = (iso: string) => iso.replace("T", " ").replace(/\.\d+Z$/, " UTC");
const plural = (k: number, one: string, many = `${one}s`) => `${n(k)} ${k === 1 ? one : many}`;

function tokensText(t: TaskStatus["tokens"]): string {
  return `${n(t.input + t.output + t.cacheRead + t.cacheWrite)} tokens (input ${n(t.input)}, output ${n(t.output)}, cache read ${n(t.cacheRead)}, cache write ${n(t.cacheWrite)})`;
}

function totalsText(t: Totals): string {
  const sum = t.tokens.input + t.tokens.output + t.tokens.cacheRead + t.tokens.cacheWrite;
  return `${plural(t.attempts, "attempt")}, ${plural(sum, "token")}, ${costText(t)}`;
}

/** The cost in a line of totals: "$0.42 (reported for 2 of 3 tasks; including review $0.05)". The dashboard says the same. */
export function costText(t: Totals): string {
  if (t.costReported === 0 && t.reviewUsd === undefined) return "cost not reported";
  const notes = [...(t.costReported < t.tasks ? [`reported for ${t.costReported} of ${t.tasks} tasks`] : []), ...(t.reviewUsd !== undefined ? [`including review ${usd(t.reviewUsd)}`] : [])];
  return `${usd(t.costUsd)}${notes.length ? ` (${notes.join("; ")})` : ""}`;
}

/**
 * One task's session: its state as the hooks recorded it (or the headless session's, without
 * hooks), since when, attempts, tokens, cost where Claude Code reported one, last message.
 */
function sessionLine(t: TaskStatus): string {
  const l = t.ledger;
  const ci = t.sharedSession;
  const state = l
    ? `${l.state}${l.detail ? ` (${oneLine(l.detail)})` : ""} since ${when(l.since)}`
    : ci
      ? `${ci.state}${ci.detail ? ` (${oneLine(ci.detail)})` : ""} ${ci.via === "claude-code-action" ? "on GitHub Actions" : `(${ci.via}, as pushed)`} at ${when(ci.at)}`
      : t.session.kind === "running"
        ? "running (headless)"
        : t.session.kind === "exited"
          ? `headless session exited (${t.session.exitCode ?? "unknown"})`
          : t.session.kind === "unknown"
            ? "headless session unknown (its record is damaged)"
            : "launched";
  const parts = [`- ${t.id}: ${state}`, plural(t.attempts, "attempt"), tokensText(t.tokens)];
  if (t.costUsd !== undefined) parts.push(usd(t.costUsd));
  if (t.turns !== undefined) parts.push(plural(t.turns, "turn"));
  if (t.sessionId !== undefined) parts.push(`session ${t.sessionId}`);
  if (l?.lastMessage) parts.push(`last message: ${oneLine(l.lastMessage)}`);
  return parts.join("; ");
}
