import { lstatSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { covers, ownedPattern } from "../core/plan/owns.js";
import type { TaskManifest } from "../session/manifest.js";

/**
 * The PreToolUse guard: may this task's session edit this file? First, whatever the task owns and
 * the plan's enforceOwns say, the paths through which a session could widen its own rules or
 * reach beyond its branch are refused (protectedPath). Then owned paths are matched exactly as the
 * sync's preflight matches them (`covers` over the task's owns and produces), so what the hook
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

type Decision = { kind: "allow" } | { kind: "deny" | "ask"; reason: string };

const list = (paths: string[]) => paths.join(", ");

/** What the guard protects beyond the worktree's own files (all absolute, real paths where they exist). */
export interface Protected {
  /** The repository's git directories: the common one, and this worktree's own. */
  gitDirs: string[];
  /** The user's home folder, and Claude Code's configuration folder (CLAUDE_CONFIG_DIR, else `~/.claude`). */
  home?: string;
  configDir?: string;
}

const under = (dir: string, path: string) => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
const REQUESTS = `${SESSION_DIR}/requests.md`;
/** Where Claude Code looks for an administrator's settings on Linux (managed-settings.json, managed-settings.d/). */
const MANAGED_SETTINGS = "/etc/claude-code";

/**
 * Why the file at the absolute `path` may never be edited by a task session of the worktree
 * `root`, if it may not. Pure.
 */
export function protectedPath(path: string, root: string, p: Protected): string | undefined {
  if (under(root, path) && path !== root) {
    const rel = relative(root, path).split(sep).join("/");
    if ((rel === SESSION_DIR || rel.startsWith(`${SESSION_DIR}/`)) && rel !== REQUESTS) {
      return `claude-parallel wrote it for this session (the brief and environment) and reads it back; the one file there that is the session's is ${REQUESTS}`;
    }
    if (rel === ".git" || rel.startsWith(".git/")) return "it is the worktree's link to its git directory: changing it would tie the worktree to another repository or task";
  }
  const gitDir = p.gitDirs.find((d) => under(d, path));
  if (gitDir !== undefined) {
    return `it is inside the repository's git directory (${gitDir}), where git keeps refs, hooks and config, and claude-parallel the feature's state and this task's rules; commit your work with git instead`;
  }
  const settings = /(^|\/)\.claude\/settings(\.local)?\.json$/.test(path) || (p.configDir !== undefined && /^settings(\.local)?\.json$/.test(basename(path)) && dirname(path) === p.configDir);
  if (settings || under(MANAGED_SETTINGS, path)) {
    return "it is a Claude Code settings file, which Claude Code reads again while the session runs: a change there could widen the session's permissions or turn off its hooks";
  }
  const config = [p.home, p.configDir].flatMap((d) => (d === undefined ? [] : [join(d, ".claude.json")]));
  if (config.includes(path)) return "it is Claude Code's own configuration (MCP servers, trusted folders), which could widen what the session may run";
  return undefined;
}

/**
 * What the hook answers for an edit of `target` (where the write lands, symbolic links followed),
 * named `named` (the path as written, `..` folded, no link followed) in the worktree `root`
 * (`realRoot` resolved). Pure.
 */
export function decideEdit(manifest: TaskManifest, target: Target, edit: { named: string; root: string; realRoot: string; protect: Protected }): Decision {
  const instead = `If your task needs a change there, do not make it: append a short request (the file, the change, and why) to ${REQUESTS} in your worktree, and carry on with your own paths.`;
  const landsAt = "inside" in target ? join(edit.realRoot, target.inside) : target.outside;
  const why = protectedPath(edit.named, edit.root, edit.protect) ?? protectedPath(landsAt, edit.realRoot, edit.protect);
  if (why !== undefined) return { kind: "deny", reason: `claude-parallel: ${edit.named} is protected: ${why}. ${instead}` };
  if (manifest.enforceOwns === "off") return { kind: "allow" };
  const own = [...manifest.owns, ...manifest.produces];
  // A task that owns nothing is not restricted (the sync's preflight does the same).
  if (own.length === 0) return { kind: "allow" };
  const answer = manifest.enforceOwns;
  const mine = `this task (\`${manifest.task}\`) may change only ${list(own)}`;
  if ("outside" in target) {
    return { kind: answer, reason: `claude-parallel: ${target.outside} is outside this task's worktree (${edit.root}); ${mine}, inside it. ${instead}` };
  }
  const path = target.inside;
  if (path === REQUESTS) return { kind: "allow" };
  if (own.some((p) => covers(ownedPattern(p), path))) return { kind: "allow" };
  const owners = manifest.others.filter((o) => o.paths.some((p) => covers(ownedPattern(p), path)));
  const whose = owners.length ? `it belongs to ${owners.map((o) => `task \`${o.task}\` (the ${o.role} session, phase ${o.phase})`).join(" and ")}` : "no task of the plan owns it";
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
