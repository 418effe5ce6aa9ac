import { appendFileSync } from "node:fs";
import { sessionContext, envExports } from "./context.js";
import { findTask } from "./find.js";
import { decideEdit, editedFile, resolveTarget } from "./guard.js";
import { firstLine, nextRecord, readHookRecord, readTranscript, writeHookRecord, type SessionHookState } from "./ledger.js";

/**
 * `claude-parallel _hook <event>`: what the plugin's hooks run (hooks/hooks.json). It reads the
 * hook input JSON, and outside a task worktree does nothing. It never breaks a session: every
 * problem ends in exit 0 with nothing printed; a refused edit (PreToolUse) is the only answer that
 * blocks anything. Kept on a fast path: JSON and a few file reads, nothing else loaded.
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

/** Notifications that mean the session waits for the user. */
const WAITING = new Set(["permission_prompt", "idle_prompt", "elicitation_dialog"]);

/** What to print for `event` given `input`, after recording what it says. Throws on internal problems (the caller swallows them). */
export function handleHook(event: string, input: HookInput, env: NodeJS.ProcessEnv, now = new Date()): string | undefined {
  const found = findTask(typeof input.cwd === "string" && input.cwd !== "" ? input.cwd : process.cwd());
  if (!found) return undefined;
  const { root, manifest } = found;

  if (event === "PreToolUse") {
    const file = editedFile(input.tool_input);
    if (file === undefined) return undefined;
    const decision = decideEdit(manifest, resolveTarget(root, input.cwd || root, file), root);
    if (decision.kind === "allow") return undefined;
    return JSON.stringify({ hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: decision.kind, permissionDecisionReason: decision.reason } });
  }

  let state: SessionHookState | undefined;
  let detail: string | undefined;
  let output: string | undefined;
  let readUsage = false;
  switch (event) {
    case "SessionStart": {
      state = "working";
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
  });
  try {
    writeHookRecord(manifest.stateDir, record);
  } catch {
    // A state folder we cannot write to (removed by clean, read-only): the session goes on.
  }
  return output;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The hidden `_hook <event>` command. Always exits 0. */
export async function hookCommand(event: string | undefined): Promise<0> {
  try {
    const text = await readStdin();
    const input = JSON.parse(text) as HookInput;
    if (!input || typeof input !== "object") return 0;
    const out = handleHook(event ?? String(input.hook_event_name), input, process.env);
    if (out !== undefined) process.stdout.write(out + "\n");
  } catch {
    // Never break a session.
  }
  return 0;
}
