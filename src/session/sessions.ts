import { stat } from "node:fs/promises";
import { join } from "node:path";
import { sessionsDir } from "../core/state/paths.js";
import type { FeatureState, RunInvocationSchema, SessionRecord } from "../core/state/state-schema.js";
import type { ExecutionPlan, PlannedTask } from "../core/plan/build.js";
import { EnvironmentError } from "../core/errors.js";
import { MAX_BYTES } from "../core/state/bounds.js";
import { openOutputLogs } from "../fs/append-regular.js";
import { readRegularTail, UnsafeFileError } from "../fs/read-regular.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { processAlive, processStartTime } from "../process-identity.js";
import { spawnDetachedToFiles } from "../proc.js";
import { readResults, type ResultEvent } from "./session-result.js";
import type * as z from "zod/mini";
import type { SessionFacts } from "../core/decide/decide-run.js";

export type Invocation = z.infer<typeof RunInvocationSchema>;

/** What every session process of a run gets beyond its prompt. */
interface SessionOptions {
  claude: string;
  /** `--agent <name>` for an agent role, or nothing. */
  claudeArgs: string[];
  permissionMode?: string;
  model?: string;
  /** Claude Code's own cap for this run of the session (--max-budget-usd): a backstop above the task's budget (src/session/budget.ts). */
  maxBudgetUsd?: number;
}

export const sessionLogPath = (commonDir: string, slug: string, taskId: string) => join(sessionsDir(commonDir, slug), `${taskId}.jsonl`);
export const sessionStderrPath = (commonDir: string, slug: string, taskId: string) => join(sessionsDir(commonDir, slug), `${taskId}.stderr`);
const recordPath = (commonDir: string, slug: string, taskId: string) => join(sessionsDir(commonDir, slug), `${taskId}.json`);

/** The log's size: where the next process's output will start. */
export async function logSize(path: string): Promise<number> {
  return stat(path).then(
    (s) => s.size,
    () => 0,
  );
}

/** Claude Code's arguments for an invocation: a first launch with its chosen session id, or a resume of it. */
export function sessionArgs(inv: Invocation, sessionId: string, o: SessionOptions): string[] {
  const head = inv.kind === "launch" ? ["-p", inv.prompt, "--session-id", sessionId] : ["-p", "--resume", sessionId, inv.prompt];
  const args = [...head, "--output-format", "stream-json", "--verbose", ...o.claudeArgs];
  if (o.permissionMode) args.push("--permission-mode", o.permissionMode);
  if (o.model) args.push("--model", o.model);
  if (o.maxBudgetUsd !== undefined) args.push("--max-budget-usd", String(o.maxBudgetUsd));
  return args;
}

/**
 * Starts the session process in its own session (it outlives a killed run), its stream-json
 * output appended to the task's log, and writes the session record `status` reads.
 */
export async function spawnSession(
  commonDir: string,
  slug: string,
  taskId: string,
  worktree: string,
  args: string[],
  claude: string,
  sessionId: string,
): Promise<{ pid: number | undefined; pidStart?: string; exited: Promise<number | null> }> {
  const log = sessionLogPath(commonDir, slug, taskId);
  const [out, err] = await openOutputLogs(log, sessionStderrPath(commonDir, slug, taskId));
  let started;
  try {
    started = spawnDetachedToFiles(claude, args, worktree, out.fd, err.fd);
  } finally {
    await Promise.all([out.close(), err.close()]);
  }
  const startedAt = new Date().toISOString();
  const record: SessionRecord = { ...(started.pid !== undefined && { pid: started.pid }), startedAt, log, sessionId };
  await writeFileAtomic(recordPath(commonDir, slug, taskId), JSON.stringify(record) + "\n");
  // Recorded when it exits while we watch: `status` then shows the exit code.
  void started.exited.then((exitCode) =>
    writeFileAtomic(recordPath(commonDir, slug, taskId), JSON.stringify({ ...record, endedAt: new Date().toISOString(), exitCode }) + "\n").catch(() => undefined),
  );
  const pidStart = started.pid !== undefined ? processStartTime(started.pid) : undefined;
  return { pid: started.pid, ...(pidStart !== undefined && { pidStart }), exited: started.exited };
}

/** A recorded invocation of a task's session, ready to start: what `run` (and `approve`) start it with. */
interface SessionLaunch {
  commonDir: string;
  plan: ExecutionPlan;
  state: FeatureState;
  task: PlannedTask;
  worktree: string;
  inv: Invocation;
  sessionId: string;
  claude: string;
  permissionMode?: string;
  model?: string;
  maxBudgetUsd?: number;
}

/**
 * Starts a recorded invocation: with the Bash sandbox's settings where the plan's `sandbox` applies,
 * the agent of an agent role, and Claude Code's arguments; its PID is set on `inv`, for the caller
 * to save. `note`: why the session is not confined, when it is not.
 */
export async function startInvocation(l: SessionLaunch): Promise<{ exited: Promise<number | null>; note?: string }> {
  const { sandboxArgs, sandboxDecision } = await import("./sandbox.js");
  const decision = await sandboxDecision(l.plan);
  const sandbox = decision.use ? await sandboxArgs({ plan: l.plan, state: l.state, commonDir: l.commonDir }, l.task, l.worktree) : [];
  const args = sessionArgs(l.inv, l.sessionId, {
    claude: l.claude,
    claudeArgs: [...sandbox, ...(l.task.roleKind === "agent" ? ["--agent", l.task.agent] : [])],
    permissionMode: l.permissionMode,
    model: l.model,
    maxBudgetUsd: l.maxBudgetUsd,
  });
  const started = await spawnSession(l.commonDir, l.plan.slug, l.task.id, l.worktree, args, l.claude, l.sessionId);
  if (started.pid === undefined) {
    const code = await started.exited;
    throw new EnvironmentError(`claude could not be started in ${l.worktree} (exit ${code})`, `check that ${l.claude} runs and that the worktree exists, then run again`);
  }
  l.inv.pid = started.pid;
  if (started.pidStart !== undefined) l.inv.pidStart = started.pidStart;
  return { exited: started.exited, ...(decision.note && { note: decision.note }) };
}

/**
 * The last `count` lines a task's sessions wrote to stderr (claude's own words when it failed),
 * each at most 300 characters; or a line saying why the file was not read.
 */
export async function stderrTail(path: string, count: number): Promise<string[]> {
  const text = await readRegularTail(path, MAX_BYTES.stderrTail).catch((error) => {
    if (error instanceof UnsafeFileError) return `(${error.message}: not read)`;
    throw error;
  });
  return (text ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-count)
    .map((l) => (l.length > 300 ? `${l.slice(0, 299)}…` : l));
}

/** Whether the recorded process still runs: its PID alive with the same start time. */
export function invocationRunning(inv: Pick<Invocation, "pid" | "pidStart">): boolean {
  if (inv.pid === undefined || !processAlive(inv.pid)) return false;
  if (inv.pidStart === undefined) return true;
  const now = processStartTime(inv.pid);
  return now === undefined || now === inv.pidStart;
}

/**
 * The last result event of an ended process, in its part of the log (from `from`): looked for in
 * the log's end first, where a run writes its result, and in the whole part only when not there.
 */
export async function lastResult(log: string, from: number): Promise<{ last?: ResultEvent; skipped: string[] }> {
  let read = await readResults(log, { from, last: MAX_BYTES.sessionLogTail, complete: true });
  if (!read.events.length) read = await readResults(log, { from, complete: true });
  const last = read.events[read.events.length - 1];
  return { ...(last && { last }), skipped: read.skipped };
}

/** An invocation's state, from its record, its process and its part of the log. */
export async function sessionFacts(inv: Invocation | undefined, log: string): Promise<SessionFacts> {
  if (!inv) return { kind: "none" };
  if (inv.pid === undefined) return { kind: "pending" };
  if (invocationRunning(inv)) return { kind: "running" };
  const { last } = await lastResult(log, inv.logOffset);
  if (!last) return { kind: "ended", result: "missing" };
  return { kind: "ended", result: last.subtype === "success" && !last.is_error ? "success" : "error" };
}

/** Stops a session process (SIGTERM to its process group: it runs in its own session). */
export function stopSession(inv: Pick<Invocation, "pid" | "pidStart">): void {
  if (!invocationRunning(inv)) return;
  try {
    process.kill(-inv.pid!, "SIGTERM");
  } catch {
    try {
      process.kill(inv.pid!, "SIGTERM");
    } catch {}
  }
}
