import { findManifest } from "./find.js";
import type { HookInput } from "./handle.js";

/**
 * `claude-parallel _hook <event>`: what the plugin's hooks run (hooks/hooks.json). It reads the
 * hook input JSON from stdin and, outside a task worktree, does nothing: that path loads only this
 * module and node:fs. It never breaks a session: every problem ends in exit 0 with nothing
 * printed; a refused edit (PreToolUse) is the only answer that blocks anything.
 */

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The hidden `_hook <event>` command. Always exits 0. */
export async function hookCommand(event: string | undefined): Promise<0> {
  try {
    const input = JSON.parse(await readStdin()) as HookInput | null;
    if (!input || typeof input !== "object") return 0;
    const found = findManifest(typeof input.cwd === "string" && input.cwd !== "" ? input.cwd : process.cwd());
    if (!found) return 0;
    const { handleHook } = await import("./handle.js");
    const out = await handleHook(event ?? String(input.hook_event_name), input, found.root, found.text, process.env);
    if (out !== undefined) process.stdout.write(out + "\n");
  } catch {
    // Never break a session.
  }
  return 0;
}
