import { lstatSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { covers, ownedPattern } from "../plan/owns.js";
import type { TaskManifest } from "./manifest.js";

/**
 * The PreToolUse guard: may this task's session edit this file? Owned paths are matched exactly as
 * the sync's preflight matches them (`covers` over the task's owns and produces), so what the hook
 * lets through is what the sync accepts.
 */

/** Where a path the model named lands: inside the worktree (relative, `/`-separated) or outside it. */
export type Target = { inside: string } | { outside: string };

const SESSION_DIR = ".claude-parallel";

/**
 * Resolves `file` (relative to `cwd`, or absolute) against the worktree `root`: `..` is folded,
 * and the longest part of it that exists is resolved through symbolic links, as the write would
 * follow them. A dangling link on the way counts as leading outside.
 */
export function resolveTarget(root: string, cwd: string, file: string): Target {
  const realRoot = realpathSync.native(root);
  const wanted = isAbsolute(file) ? resolve(file) : resolve(cwd, file);
  // The nearest existing ancestor (or the file itself), resolved; the rest appended as written.
  let existing = wanted;
  const rest: string[] = [];
  let real: string | undefined;
  for (;;) {
    try {
      real = realpathSync.native(existing);
      break;
    } catch {
      let link = false;
      try {
        link = lstatSync(existing).isSymbolicLink();
      } catch {
        link = false;
      }
      if (link) return { outside: wanted };
      const up = dirname(existing);
      if (up === existing) return { outside: wanted };
      rest.unshift(basename(existing));
      existing = up;
    }
  }
  const full = rest.length ? join(real, ...rest) : real;
  if (full !== realRoot && full.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep)) {
    return { inside: relative(realRoot, full).split(sep).join("/") };
  }
  return { outside: full };
}

export type Decision = { kind: "allow" } | { kind: "deny" | "ask"; reason: string };

const list = (paths: string[]) => paths.join(", ");

/** What the hook answers for an edit of `target`. Pure. */
export function decideEdit(manifest: TaskManifest, target: Target, worktree: string): Decision {
  if (manifest.enforceOwns === "off") return { kind: "allow" };
  const own = [...manifest.owns, ...manifest.produces];
  // A task that owns nothing is not restricted (the sync's preflight does the same).
  if (own.length === 0) return { kind: "allow" };
  const answer = manifest.enforceOwns;
  const mine = `this task (\`${manifest.task}\`) may change only ${list(own)}`;
  const instead = `If your task needs a change there, do not make it: append a short request (the file, the change, and why) to ${SESSION_DIR}/requests.md in your worktree, and carry on with your own paths.`;
  if ("outside" in target) {
    return { kind: answer, reason: `claude-parallel: ${target.outside} is outside this task's worktree (${worktree}); ${mine}, inside it. ${instead}` };
  }
  const path = target.inside;
  if (path === SESSION_DIR || path.startsWith(`${SESSION_DIR}/`)) return { kind: "allow" };
  if (own.some((p) => covers(ownedPattern(p), path))) return { kind: "allow" };
  const owners = manifest.others.filter((o) => o.paths.some((p) => covers(ownedPattern(p), path)));
  const whose = owners.length
    ? `it belongs to ${owners.map((o) => `task \`${o.task}\` (the ${o.role} session, phase ${o.phase})`).join(" and ")}`
    : "no task of the plan owns it";
  return { kind: answer, reason: `claude-parallel: ${path} is not yours to change: ${whose}, and ${mine}. ${instead}` };
}

/** The file a tool call edits, from its input. */
export function editedFile(toolInput: unknown): string | undefined {
  if (!toolInput || typeof toolInput !== "object") return undefined;
  const input = toolInput as Record<string, unknown>;
  for (const key of ["file_path", "notebook_path", "path"]) {
    const value = input[key];
    if (typeof value === "string" && value !== "") return value;
  }
  return undefined;
}
