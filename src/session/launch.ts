import { delimiter, join } from "node:path";
import { access, constants, stat } from "node:fs/promises";
import { EnvironmentError } from "../core/errors.js";
import type { PlannedTask } from "../core/plan/build.js";
import { run, runOk } from "../proc.js";
import { sh } from "../core/text/shell.js";
import { BRIEF_FILE } from "./session-files.js";

import type { LaunchMode } from "../core/decide/decide-start.js";

export type { LaunchMode };

export interface Session {
  taskId: string;
  role: string;
  label: string;
  branch: string;
  /** Absolute path. */
  worktree: string;
  brief: string;
  /** Arguments for `claude` before the brief: `--agent <name>`, or none. */
  claudeArgs: string[];
  /** The first prompt: the brief, or `/<command> <task>` for a repository command. */
  firstPrompt: string;
}

/** The program on PATH, or undefined. */
export async function which(program: string, path = process.env.PATH ?? ""): Promise<string | undefined> {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      // A folder is "executable" too (searchable); the shell skips it, and so do we.
      if (!(await stat(candidate)).isFile()) continue;
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

/** The Claude Code release claude-parallel is tested with (the tests install exactly this one). */
export const TESTED_CLAUDE_CODE = "2.1.330";

/**
 * The `claude` command that sessions, resumes and reviews run: its path on PATH, or, when Claude
 * Code is missing, the one EnvironmentError that says how to install it. `otherwise`: what the
 * command can do without it (`use --launch print`), added to the fix.
 */
export async function claudeBinary(otherwise?: string): Promise<string> {
  const found = await which("claude");
  if (found) return found;
  throw new EnvironmentError(
    "Claude Code's `claude` command is not on PATH",
    `install Claude Code (npm install -g @anthropic-ai/claude-code; claude-parallel is tested with ${TESTED_CLAUDE_CODE}) and make sure \`claude\` is on PATH${otherwise ? `, or ${otherwise}` : ""}`,
  );
}

/** A task's session; `settings`: the arguments that give it our settings (the sandbox's), if any. */
export function sessionOf(task: PlannedTask, worktree: string, brief: string, settings: string[] = []): Session {
  const isCommand = task.roleKind === "command";
  return {
    taskId: task.id,
    role: task.role,
    label: task.session,
    branch: task.branch,
    worktree,
    brief,
    claudeArgs: [...settings, ...(task.roleKind === "agent" ? ["--agent", task.agent] : [])],
    firstPrompt: isCommand ? `/${task.agent} ${task.prompt}` : brief,
  };
}

/** What to run for each session, by hand: `cd` into the worktree, start claude with the brief. */
export function printInstructions(sessions: Session[]): string {
  const out: string[] = [];
  for (const s of sessions) {
    out.push(`Session ${s.label}: ${s.role} (${s.branch})`);
    const prompt = s.firstPrompt === s.brief ? `"$(cat ${BRIEF_FILE})"` : sh`${s.firstPrompt}`;
    out.push(`  ${sh`cd -- ${s.worktree}`} && claude ${s.claudeArgs.map((a) => sh`${a}`).join(" ")}${s.claudeArgs.length ? " " : ""}${prompt}`);
    out.push("");
  }
  return out.join("\n");
}

export function tmuxSessionName(slug: string): string {
  return `parallel-${slug}`;
}

/**
 * `text` as a literal in an argument tmux expands as a format (see FORMATS in tmux(1)): new-session
 * and new-window expand their -s, -n and -c values, so a worktree under a folder named
 * `x#(touch PWNED)` would run that command and `#{pane_id}` would change the path. `##` is
 * tmux's escape for one `#`, and every expansion starts with `#`.
 */
function tmuxLiteral(text: string): string {
  return text.replace(/#/g, "##");
}

/**
 * One tmux session per feature, a window per task running interactive claude in its worktree.
 * Arguments go to tmux as an argv (tmux runs them without a shell), and the ones tmux expands as
 * formats are escaped, so no text is interpreted.
 * Windows that already exist are left alone.
 */
export async function launchTmux(slug: string, sessions: Session[], log: (line: string) => void): Promise<void> {
  if (!(await which("tmux"))) throw new EnvironmentError("tmux is not installed", "install tmux (apt-get install tmux, brew install tmux) or use --launch print");
  const claude = await claudeBinary("use --launch print");
  const name = tmuxSessionName(slug);
  const here = sessions[0]?.worktree ?? "/";
  const has = await run("tmux", ["has-session", "-t", `=${name}`], { cwd: here });
  const existing = new Set<string>();
  if (has.exitCode === 0) {
    const windows = await run("tmux", ["list-windows", "-t", `=${name}`, "-F", "#{window_name}"], { cwd: here });
    for (const w of windows.stdout.split("\n")) existing.add(w);
  }
  let created = has.exitCode === 0;
  for (const s of sessions) {
    if (existing.has(s.taskId)) {
      log(`tmux window ${name}:${s.taskId} is already there`);
      continue;
    }
    const command = [claude, ...s.claudeArgs, s.firstPrompt];
    // -s, -n and -c are format-expanded by tmux; the command's own arguments are not.
    const [session, window, dir] = [name, s.taskId, s.worktree].map(tmuxLiteral);
    const args = created ? ["new-window", "-d", "-t", `=${name}:`, "-n", window!, "-c", dir!, "--", ...command] : ["new-session", "-d", "-s", session!, "-n", window!, "-c", dir!, "--", ...command];
    await runOk("tmux", args, { cwd: s.worktree });
    created = true;
    log(`tmux window ${name}:${s.taskId} runs claude in ${s.worktree}`);
  }
  log(`Attach with: tmux attach -t ${name}`);
}

/** Whether the task's tmux window (opened by `start --launch tmux`) is still open. */
export async function tmuxWindowOpen(slug: string, taskId: string, cwd: string): Promise<boolean> {
  const windows = await run("tmux", ["list-windows", "-t", `=${tmuxSessionName(slug)}`, "-F", "#{window_name}"], { cwd });
  return windows.exitCode === 0 && windows.stdout.split("\n").includes(taskId);
}

/** Closes the feature's tmux session, if one is open; says whether it did. */
export async function closeTmuxSession(slug: string, cwd: string): Promise<boolean> {
  if (!(await hasTmuxSession(slug, cwd))) return false;
  return (await run("tmux", ["kill-session", "-t", `=${tmuxSessionName(slug)}`], { cwd })).exitCode === 0;
}

/** Whether the feature's tmux session is open (false where tmux is not installed). */
export async function hasTmuxSession(slug: string, cwd: string): Promise<boolean> {
  return (await run("tmux", ["has-session", "-t", `=${tmuxSessionName(slug)}`], { cwd })).exitCode === 0;
}
