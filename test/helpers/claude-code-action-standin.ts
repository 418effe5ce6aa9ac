import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseShell } from "shell-quote";
import { git } from "./git.js";

/**
 * claude-code-action as the simulation plays it: what the real action does where the workflow
 * depends on it, each fact with its source in ./claude-code-action-facts.md. The session itself
 * is the test's script (`Session`): it edits and commits in the checkout like a model would, its
 * edits going through the plugin's own PreToolUse hook (`write`), and says how the session ended.
 */

/** `base-action/src/parse-sdk-options.ts:28-55`: `()|&;<>` stay literal through shell-quote. */
const META = new Map([..."()|&;<>"].map((c, i) => [c, String.fromCharCode(0xe000 + i)]));
const UNMETA = new Map([...META].map(([k, v]) => [v, k]));
const escapeMeta = (s: string) => s.replace(/[()|&;<>]/g, (c) => META.get(c)!);
const unescapeMeta = (s: string) => s.replace(/[\ue000-\ue006]/g, (c) => UNMETA.get(c)!);
const ACCUMULATING = new Set(["allowedTools", "allowed-tools", "disallowedTools", "disallowed-tools", "mcp-config", "add-dir"]);

/** `claude_args` as the action reads it: flags and values, accumulating flags' values joined by NUL (`:119-187`). */
export function parseClaudeArgs(text: string): Record<string, string | null> {
  const stripped = text
    .split("\n")
    .filter((line) => !line.trim().startsWith("#"))
    .join("\n");
  const args = parseShell(escapeMeta(stripped))
    .map((a) => (typeof a === "string" ? unescapeMeta(a) : typeof a === "object" && a !== null && "pattern" in a ? unescapeMeta((a as { pattern: string }).pattern) : undefined))
    .filter((a): a is string => typeof a === "string");
  const out: Record<string, string | null> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("--")) continue;
    const flag = arg.slice(2);
    const next = args[i + 1];
    if (next && !next.startsWith("--")) {
      if (ACCUMULATING.has(flag)) {
        const values: string[] = [];
        while (i + 1 < args.length && !args[i + 1]!.startsWith("--")) values.push(args[++i]!);
        out[flag] = out[flag] ? `${out[flag]}\0${values.join("\0")}` : values.join("\0");
      } else {
        out[flag] = next;
        i++;
      }
    } else out[flag] = null;
  }
  return out;
}

/** The session's allowed tools as the action hands them to Claude Code: split at every comma (`:223-241`). */
export function actionToolRules(claudeArgs: string): string[] {
  const extra = parseClaudeArgs(claudeArgs);
  const values = [extra.allowedTools, extra["allowed-tools"]].filter(Boolean).join("\0");
  return values
    ? [
        ...new Set(
          values
            .split("\0")
            .flatMap((v) => v.split(","))
            .map((t) => t.trim())
            .filter(Boolean),
        ),
      ]
    : [];
}

/** `src/github/validation/actor.ts:11-28`. */
export function isAllowedBot(actor: string, allowedBots: string): boolean {
  const trimmed = allowedBots.trim();
  if (trimmed === "*") return true;
  if (!trimmed) return false;
  const list = trimmed
    .split(",")
    .map((b) =>
      b
        .trim()
        .toLowerCase()
        .replace(/\[bot\]$/, ""),
    )
    .filter(Boolean);
  return list.includes(actor.toLowerCase().replace(/\[bot\]$/, ""));
}

/** What the test's session script gets: where it works and what it may do. */
export interface SessionCall {
  task: string;
  cwd: string;
  prompt: string;
  tools: string[];
  maxTurns?: number;
  budgetUsd?: number;
  env: Record<string, string>;
  /** Writes a file the way Claude Code's Write tool does: after the plugin's PreToolUse hook; false when the hook denied it. */
  write: (rel: string, content: string) => boolean;
  /** Runs a Bash command, only when one of the session's rules allows it (exact, or a `cmd:*` prefix); null when refused. */
  bash: (command: string) => { code: number; output: string } | null;
}

/** How the script says its session ended. `timeout`: still running when the step's timeout-minutes ran out. */
export interface SessionEnd {
  result: "success" | "error_max_turns" | "error_during_execution" | "timeout";
  turns?: number;
  costUsd?: number;
}

export type Session = (call: SessionCall) => SessionEnd;

export interface StandinCall {
  actor: string;
  with: Record<string, string>;
  cwd: string;
  runnerTemp: string;
  home: string;
  env: Record<string, string>;
  task: string;
}

export interface StandinOutcome {
  outcome: "success" | "failure";
  outputs: Record<string, string>;
  /** Why the step failed before any session (the refusal the action logs). */
  refused?: string;
  /** The tools the session got, for assertions. */
  tools?: string[];
}

let sessions = 0;

export function runStandin(call: StandinCall, session: Session): StandinOutcome {
  // Agent mode checks the actor first (src/modes/agent/index.ts:30).
  const bot = /\[bot\]$/i.test(call.actor);
  if (bot && !isAllowedBot(call.actor, call.with.allowed_bots ?? "")) {
    return {
      outcome: "failure",
      outputs: {},
      refused: `Workflow initiated by non-human actor: ${call.actor.toLowerCase().replace(/\[bot\]$/, "")} (type: Bot). Add bot to allowed_bots list or use '*' to allow all bots.`,
    };
  }
  // git: the bot's identity, and origin rewritten with the token (git-config.ts:22-136).
  const token = call.with.github_token ?? "";
  git(call.cwd, "config", "user.name", call.with.bot_name ?? "claude[bot]");
  git(call.cwd, "config", "user.email", `${call.with.bot_id ?? "41898282"}+claude[bot]@users.noreply.github.com`);
  git(call.cwd, "remote", "set-url", "origin", `https://x-access-token:${token}@github.invalid/owner/repo.git`);
  // Plugins (install-plugins.ts): a local marketplace path, then name@marketplace.
  const plugin = installPlugin(call.with.plugin_marketplaces ?? "", call.with.plugins ?? "");
  if (typeof plugin === "string" && plugin.startsWith("!")) return { outcome: "failure", outputs: {}, refused: plugin.slice(1) };
  const extra = parseClaudeArgs(call.with.claude_args ?? "");
  const tools = actionToolRules(call.with.claude_args ?? "");
  const maxTurns = extra["max-turns"] ? Number(extra["max-turns"]) : undefined;
  const budgetUsd = extra["max-budget-usd"] ? Number(extra["max-budget-usd"]) : undefined;
  const env = { ...call.env, GITHUB_TOKEN: token, GH_TOKEN: token, CLAUDE_PROJECT_DIR: call.cwd };
  const sessionId = `00000000-0000-4000-8000-${String(++sessions).padStart(12, "0")}`;
  const hook = (event: string, input: Record<string, unknown>) =>
    plugin === undefined
      ? ""
      : spawnSync(process.execPath, [join(plugin, "scripts/parallel.mjs"), "_hook", event], {
          cwd: call.cwd,
          input: JSON.stringify({ hook_event_name: event, session_id: sessionId, cwd: call.cwd, ...input }),
          env: { ...env, HOME: call.home },
          encoding: "utf8",
        }).stdout;
  hook("SessionStart", { source: "startup" });
  const allowed = (command: string) => tools.some((t) => t === `Bash(${command})` || (t.startsWith("Bash(") && t.endsWith(":*)") && command.startsWith(t.slice(5, -3))));
  const end = session({
    task: call.task,
    cwd: call.cwd,
    prompt: call.with.prompt ?? "",
    tools,
    ...(maxTurns !== undefined && { maxTurns }),
    ...(budgetUsd !== undefined && { budgetUsd }),
    env,
    write(rel, content) {
      const file = join(call.cwd, rel);
      const answer = hook("PreToolUse", { tool_name: "Write", tool_input: { file_path: file, content } });
      if (/"permissionDecision":\s*"deny"/.test(answer)) return false;
      mkdirSync(join(file, ".."), { recursive: true });
      writeFileSync(file, content);
      return true;
    },
    bash(command) {
      if (!allowed(command)) return null;
      const r = spawnSync("bash", ["-c", command], { cwd: call.cwd, env: { ...process.env, ...env, HOME: call.home }, encoding: "utf8" });
      return { code: r.status ?? 1, output: `${r.stdout}${r.stderr}` };
    },
  });
  // Killed at the step's timeout: no execution file, a failed step (docs/migration-guide.md:29).
  if (end.result === "timeout") return { outcome: "failure", outputs: {}, tools };
  hook("Stop", {});
  const turns = end.turns ?? 3;
  // A success past --max-turns fails (run-claude-sdk.ts:241-250).
  const subtype = end.result === "success" && maxTurns !== undefined && turns > maxTurns ? "error_max_turns" : end.result;
  const ok = subtype === "success";
  // The transcript Claude Code keeps, where a later step finds it by the session's id.
  const projects = join(call.home, ".claude", "projects", call.cwd.replace(/[^A-Za-z0-9]/g, "-"));
  mkdirSync(projects, { recursive: true });
  writeFileSync(join(projects, `${sessionId}.jsonl`), JSON.stringify({ type: "user", sessionId, message: { role: "user", content: call.with.prompt ?? "" } }) + "\n");
  const file = join(call.runnerTemp, "claude-execution-output.json");
  writeFileSync(
    file,
    JSON.stringify([
      { type: "system", subtype: "init", session_id: sessionId, tools },
      { type: "result", subtype, is_error: !ok, num_turns: turns, total_cost_usd: end.costUsd ?? 0.25, session_id: sessionId },
    ]),
  );
  return { outcome: ok ? "success" : "failure", outputs: { execution_file: file, conclusion: ok ? "success" : "failure", ...(ok && { session_id: sessionId }) }, tools };
}

/** The plugin's folder for `name@marketplace` in the one local marketplace given; `!why` when it does not resolve; undefined when none is asked. */
function installPlugin(marketplaces: string, plugins: string): string | undefined {
  const wanted = plugins.trim();
  if (!wanted) return undefined;
  const market = marketplaces.trim();
  const manifest = join(market, ".claude-plugin", "marketplace.json");
  if (!market.startsWith("/") || !existsSync(manifest)) return `!Failed to add marketplace '${market}'`;
  const m = JSON.parse(readFileSync(manifest, "utf8")) as { name: string; plugins: Array<{ name: string; source: string }> };
  const [name, from] = wanted.split("@");
  const entry = m.plugins.find((p) => p.name === name);
  if (from !== m.name || !entry) return `!Failed to install plugin '${wanted}'`;
  const dir = join(market, entry.source);
  if (!existsSync(join(dir, "hooks", "hooks.json")) || !existsSync(join(dir, "scripts", "parallel.mjs"))) return `!Failed to install plugin '${wanted}'`;
  return dir;
}
