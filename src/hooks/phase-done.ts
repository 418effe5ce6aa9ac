import { closeSync, openSync, writeSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { git } from "../git/run.js";
import type { TaskManifest } from "./manifest.js";

/**
 * When a session stops, how its worktree stands: nothing uncommitted (ignored files and our own
 * `.claude-parallel/` aside) and commits beyond the integration branch. Unknown counts as no.
 */
export async function worktreeFacts(root: string, manifest: TaskManifest): Promise<{ clean: boolean; committed: boolean }> {
  const [status, ahead] = await Promise.all([
    git(["--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=all"], root),
    manifest.integrationBranch === undefined ? undefined : git(["rev-list", "--count", `refs/heads/${manifest.integrationBranch}..HEAD`], root),
  ]);
  return {
    clean: status.exitCode === 0 && status.stdout === "",
    committed: ahead !== undefined && ahead.exitCode === 0 && Number(ahead.stdout.trim()) > 0,
  };
}

/**
 * The last session of a phase to stop cleanly tells the user, once per phase: the terminal bell in
 * its own terminal (when it has one) and a line Claude Code shows (the hook's `systemMessage`).
 * "Once" is a marker file created exclusively, so two sessions stopping together say it once.
 */
export function phaseDoneNotice(manifest: TaskManifest): string | undefined {
  try {
    writeFileSync(join(manifest.stateDir, "sessions", `phase-${manifest.phase}.done`), new Date().toISOString() + "\n", { flag: "wx" });
  } catch {
    return undefined;
  }
  try {
    const tty = openSync("/dev/tty", "w");
    try {
      writeSync(tty, "\x07");
    } finally {
      closeSync(tty);
    }
  } catch {
    // No terminal (headless, CI): the message is enough.
  }
  const next = manifest.phase < manifest.phases ? ` and start phase ${manifest.phase + 1}` : "";
  return JSON.stringify({
    systemMessage: `claude-parallel: every task of phase ${manifest.phase} of ${manifest.slug} has stopped with its work committed. Run /parallel-sync to merge the phase${next}.`,
  });
}
