import { quote } from "../text/shell.js";
import { type OwnedPattern, covers } from "./owns.js";

/**
 * Claude Code's configuration that runs code or grants tools: once merged it acts in every later
 * session started from the integration branch and in the user's own Claude Code, outside any
 * sandbox. A task may commit it only when its owns name it explicitly (`CLAUDE.md` and the other
 * prompts are text, and are owned like any file). At any depth: Claude Code started in a
 * subfolder reads that folder's `.claude/`.
 */
const CLAUDE_CONFIG = [
  ".mcp.json",
  ...["settings.json", "settings.local.json", "hooks", "commands", "agents", "skills", "workflows", "routines", "scheduled_tasks.json", "launch.json"].map((f) => `.claude/${f}`),
];

/**
 * The configuration `path` belongs to, at its depth (`pkg/.claude/hooks` for
 * `pkg/.claude/hooks/x.sh`), or undefined. A `.claude` file or link in place of the folder counts
 * as the folder itself. Compared without case: macOS finds `.Claude/Settings.json` too.
 */
export function claudeConfigOf(path: string): string | undefined {
  const segments = path.split("/");
  const lower = path.toLowerCase().split("/");
  for (let i = 0; i < lower.length; i++) {
    if (lower[i] === ".mcp.json" && i === lower.length - 1) return path;
    if (lower[i] !== ".claude") continue;
    if (i === lower.length - 1) return path;
    const config = `.claude/${lower[i + 1]}`;
    if (CLAUDE_CONFIG.includes(config)) return segments.slice(0, i + 2).join("/");
  }
  return undefined;
}

/**
 * The changed files that are Claude Code configuration the task's owns do not name: none of its
 * owned paths both covers the file and starts with the configuration's own path (`.claude/hooks`
 * or `.claude/hooks/*.sh` names `.claude/hooks/x.sh`; `.`, `**` or `.claude` do not). Pure.
 */
export function unnamedClaudeConfig(changed: Iterable<string>, owned: readonly OwnedPattern[]): Array<{ path: string; config: string }> {
  const found: Array<{ path: string; config: string }> = [];
  for (const path of changed) {
    const config = claudeConfigOf(path);
    if (config === undefined) continue;
    const named = owned.some((p) => p.fixedPrefix.toLowerCase().startsWith(config.toLowerCase()) && covers(p, path));
    if (!named) found.push({ path, config });
  }
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Why the sync refuses such changes, and the fix (`--allow-outside-owns` does not skip it). */
export function claudeConfigRefusal(found: ReadonlyArray<{ path: string; config: string }>, slug: string, rewrite = "e.g. git rebase -i"): { message: string; fix: string } {
  const configs = [...new Set(found.map((f) => f.config))];
  return {
    message: `it changed Claude Code configuration its owns do not name: ${found.map((f) => f.path).join(", ")}; merged, it would run code unsandboxed in the next sessions and in your own Claude Code`,
    fix: `if the task is meant to change it, name ${configs.map((c) => `\`${c}\``).join(", ")} in its \`owns\` and apply that with claude-parallel replan ${quote(slug)}; otherwise take them out of its branch's commits (a later commit that undoes them does not: rewrite the branch, ${rewrite}); --allow-outside-owns does not skip this check`,
  };
}
