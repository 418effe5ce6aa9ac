import { appendFileSync, realpathSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { sessionContext, envExports } from "./context.js";
import type { FoundTask } from "../session/find.js";
import { taskRules, type TaskManifest } from "../session/manifest.js";
import { reachedText } from "../core/budget.js";
import { budgetRefusal, readBudgetRecord, recordedReach } from "../session/budget-record.js";
import { decideEdit, editedFile, resolveTarget, type Protected } from "./guard.js";
import { firstLine, nextRecord, readHookRecord, readTranscript, writeHookRecord, type SessionHookState } from "../session/ledger.js";
import { afterStop } from "./phase-done.js";

/**
 * A hook event in a task worktree (run.ts found it): answer it and record what it says. Throws on
 * internal problems; run.ts refuses the edit then (PreToolUse) and otherwise says nothing.
 */

export interface HookInput {
  hook_event_name?: string;
  session_id?: string;
  transcript_path?: string;
  cwd?: string;
  tool_name?: string;
  tool_input?: unknown;
  last_assistant_message?: string;
  error?: string;
  error_details?: string;
  notification_type?: string;
  message?: string;
  reason?: string;
  source?: string;
}

/** The tools that edit a file: the ones the ownership guard decides on (the budget applies to every tool). */
const EDIT_TOOLS = new Set(["Edit", "Write", "MultiEdit", "NotebookEdit"]);

/** Whether a PreToolUse is for an edit; an input without its tool's name is taken for one (the guard then decides). */
export const editsFile = (input: HookInput) => typeof input.tool_name !== "string" || EDIT_TOOLS.has(input.tool_name);

/** Notifications that mean the session waits for the user. */
const WAITING = new Set(["permission_prompt", "idle_prompt", "elicitation_dialog"]);

/** What to print for `event` given `input` in the task worktree `found`, after recording what it says. */
export async function handleHook(event: string, input: HookInput, found: FoundTask, env: NodeJS.ProcessEnv, now = new Date()): Promise<string | undefined> {
  const root = found.root;
  const realRoot = realpathSync.native(root);
  const checked = taskRules(found, realRoot);
  // A worktree of ours whose rules are missing, damaged or another's: every edit is refused.
  if ("problem" in checked) return brokenAnswer(event, checked.problem, input);
  const manifest = checked.rules;

  if (event === "PreToolUse") {
    const paused = budgetAnswer(manifest, input, root, now);
    if (paused !== undefined) return paused;
    if (!editsFile(input)) return undefined;
    const file = editedFile(input.tool_input);
    if (file === undefined) return undefined;
    const cwd = input.cwd || root;
    const configDir = env.CLAUDE_CONFIG_DIR || (env.HOME ? join(env.HOME, ".claude") : undefined);
    const protect: Protected = {
      gitDirs: [manifest.commonDir, ...(found.gitDir === undefined ? [] : [found.gitDir])].map(real),
      ...(env.HOME && { home: real(env.HOME) }),
      ...(configDir !== undefined && { configDir: real(configDir) }),
    };
    const named = isAbsolute(file) ? resolve(file) : resolve(cwd, file);
    const decision = decideEdit(manifest, resolveTarget(root, cwd, file), { named, root, realRoot, protect });
    if (decision.kind === "allow") return undefined;
    return editAnswer(decision.kind, decision.reason);
  }

  let state: SessionHookState | undefined;
  let detail: string | undefined;
  let output: string | undefined;
  let readUsage = false;
  let start = false;
  switch (event) {
    case "SessionStart": {
      state = "working";
      // A compaction or /clear goes on with the same attempt; a launch or a resume is a new one.
      start = input.source !== "compact" && input.source !== "clear";
      if (env.CLAUDE_ENV_FILE) {
        try {
          appendFileSync(env.CLAUDE_ENV_FILE, envExports(manifest));
        } catch {
          // The context still goes out.
        }
      }
      output = JSON.stringify({
        hookSpecificOutput: { hookEventName: "SessionStart", additionalContext: sessionContext(manifest, root), sessionTitle: `${manifest.slug}/${manifest.task}` },
      });
      break;
    }
    case "UserPromptSubmit":
      state = "working";
      break;
    case "Stop":
      state = "stopped";
      readUsage = true;
      break;
    case "StopFailure":
      state = "failed";
      detail = [input.error, input.error_details].filter((s) => typeof s === "string" && s !== "").join(": ") || "unknown error";
      readUsage = true;
      break;
    case "Notification":
      if (!WAITING.has(String(input.notification_type))) return undefined;
      state = "waiting for input";
      detail = firstLine(input.message);
      break;
    case "SessionEnd":
      state = "ended";
      detail = typeof input.reason === "string" ? input.reason : undefined;
      readUsage = true;
      break;
    default:
      return undefined;
  }

  const transcript = readUsage && typeof input.transcript_path === "string" ? readTranscript(input.transcript_path) : undefined;
  const lastMessage = firstLine(typeof input.last_assistant_message === "string" && input.last_assistant_message.trim() !== "" ? input.last_assistant_message : transcript?.lastMessage);
  const previous = readHookRecord(manifest.stateDir, manifest.task);
  const record = nextRecord(previous, {
    task: manifest.task,
    name: event,
    at: now.toISOString(),
    state,
    ...(typeof input.session_id === "string" && input.session_id !== "" && { sessionId: input.session_id }),
    ...(detail !== undefined && { detail }),
    ...(lastMessage !== undefined && { lastMessage }),
    ...(transcript && { tokens: transcript.tokens }),
    ...(start && { start }),
    // A Stop records the worktree unchecked; afterStop checks it when this may be the phase's last.
    ...(event === "Stop" && { worktree: null }),
    root,
  });
  try {
    writeHookRecord(manifest.stateDir, record);
  } catch {
    // A state folder we cannot write to (removed by clean, read-only): the session goes on.
    return output;
  }
  // Recorded first, read after: of two sessions stopping together, one sees the other stopped.
  if (event === "Stop" && manifest.phaseTasks) output = (await afterStop(manifest, root, record)) ?? output;
  return output;
}

/**
 * Every tool call of a session whose task reached a budget (the record `run` and `approve` keep)
 * is refused, saying why; the ledger records the pause once.
 */
function budgetAnswer(manifest: TaskManifest, input: HookInput, root: string, now: Date): string | undefined {
  const record = readBudgetRecord(manifest.stateDir);
  const reached = record && recordedReach(record, manifest.task);
  if (!reached) return undefined;
  const previous = readHookRecord(manifest.stateDir, manifest.task);
  if (previous?.state !== "paused: budget") {
    const sessionId = typeof input.session_id === "string" && input.session_id !== "" ? input.session_id : undefined;
    try {
      writeHookRecord(
        manifest.stateDir,
        nextRecord(previous, {
          task: manifest.task,
          name: "PreToolUse",
          at: now.toISOString(),
          state: "paused: budget",
          detail: reachedText(reached),
          ...(sessionId !== undefined && { sessionId }),
          root,
        }),
      );
    } catch {
      // The refusal matters, not its record.
    }
  }
  return editAnswer("deny", budgetRefusal(reached, manifest.task, manifest.slug));
}

/** A folder's real path, or the path itself when it cannot be resolved (it may not exist). */
function real(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    return path;
  }
}

const editAnswer = (kind: "deny" | "ask", reason: string) => JSON.stringify({ hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: kind, permissionDecisionReason: reason } });

/** What `start` re-run says to repair a task worktree's rules. */
const REPAIR = "ask the user to run `claude-parallel start <feature> --launch print` in the repository's main checkout: it writes the task rules of the phase's worktrees again and launches nothing";

/** The answer in a task worktree whose rules cannot be trusted: edits refused, and the session told why once. */
function brokenAnswer(event: string, problem: string, input: HookInput): string | undefined {
  if (event === "PreToolUse")
    return editsFile(input) ? editAnswer("deny", `claude-parallel: this edit is refused: this is a task worktree, but ${problem}, so what the task may change is unknown. ${REPAIR}.`) : undefined;
  if (event === "SessionStart") {
    return JSON.stringify({
      hookSpecificOutput: {
        hookEventName: "SessionStart",
        additionalContext: `# claude-parallel: this session's task is unknown\n\nThis is a task worktree, but ${problem}. Every Edit and Write is refused until the rules are written again: ${REPAIR}.`,
      },
    });
  }
  return undefined;
}
