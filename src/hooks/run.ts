import { fstatSync, readSync, writeSync } from "node:fs";
import { findTask, type FoundTask } from "../session/find.js";
import type { HookInput } from "./handle.js";

/**
 * `claude-parallel _hook <event>`: what the plugin's hooks run (hooks/hooks.json). It reads the
 * hook input JSON from stdin and, outside a task worktree, does nothing: that path loads only this
 * module and node:fs. It never breaks a session: every problem ends in exit 0, and a refused edit
 * (PreToolUse) is the only answer that blocks anything. In a task worktree it fails closed: an edit
 * the guard could not decide on is refused.
 *
 * Standard input and output are read and written through their file descriptors: `process.stdin`
 * and `process.stdout` are streams whose code (net sockets for pipes) costs more to load than the
 * rest of a hook.
 */

/** The hook input; a terminal (someone typing) gives none. */
function readStdin(): string {
  if (fstatSync(0).isCharacterDevice()) return "";
  const chunks: Buffer[] = [];
  const buffer = Buffer.alloc(64 * 1024);
  for (let n = readSyncRetrying(buffer); n > 0; n = readSyncRetrying(buffer)) chunks.push(Buffer.from(buffer.subarray(0, n)));
  return Buffer.concat(chunks).toString("utf8");
}

/** A non-blocking pipe answers EAGAIN while the writer has not written yet: wait for it. */
function readSyncRetrying(buffer: Buffer): number {
  for (;;) {
    try {
      return readSync(0, buffer);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
      pause();
    }
  }
}

const pause = () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);

function writeStdout(text: string): void {
  const data = Buffer.from(text, "utf8");
  for (let at = 0; at < data.length; ) {
    try {
      at += writeSync(1, data, at);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") return; // The reader went away: nothing to say then.
      pause();
    }
  }
}

/** The process behind `_hook <event>` (src/main.ts calls it without loading the CLI). Exits 0. */
export async function hookMain(event: string | undefined): Promise<void> {
  const out = await hookCommand(event);
  if (out !== undefined) writeStdout(out + "\n");
  process.exitCode = 0;
}

/** What `_hook <event>` prints for the input on stdin, if anything. Never throws. */
async function hookCommand(event: string | undefined): Promise<string | undefined> {
  let found: FoundTask | undefined;
  let input: HookInput | null = null;
  let handler: typeof import("./handle.js") | undefined;
  try {
    input = JSON.parse(readStdin()) as HookInput | null;
    if (!input || typeof input !== "object") return undefined;
    // The session's task is where it was started (Claude Code's CLAUDE_PROJECT_DIR), not where its
    // shell has moved to: a session that cds into another task's worktree stays its own task, and
    // what it writes there is outside its worktree. Started elsewhere: the folder it works in.
    const cwd = typeof input.cwd === "string" && input.cwd !== "" ? input.cwd : process.cwd();
    const project = process.env.CLAUDE_PROJECT_DIR;
    found = (project ? findTask(project) : undefined) ?? findTask(cwd);
    if (!found) return undefined;
    handler = await import("./handle.js");
    return await handler.handleHook(event ?? String(input.hook_event_name), input, found, process.env);
  } catch (error) {
    // Never break a session: only an edit the guard could not decide on is refused (any tool call, when the handler could not even load).
    if (!found || event !== "PreToolUse" || !input || handler?.editsFile(input) === false) return undefined;
    const reason = `claude-parallel: this edit is refused: the task worktree's ownership check failed (${error instanceof Error ? error.message : String(error)}), and an edit it cannot decide on is not let through.`;
    return JSON.stringify({ hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: "deny", permissionDecisionReason: reason } });
  }
}
