import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { usageError } from "../core/command-args.js";
import type { ExecutionPlan } from "../core/plan/build.js";
import { NOTIFY_DESKTOP, hasNul, notifyTextProblem } from "../core/plan/rules.js";
import { which } from "../session/launch.js";

/**
 * Where a notification goes: only ever what the user wrote, on run's command line (`--notify`) or
 * in the plan (`notify:`), never anything a session or a remote wrote.
 */
export type Target =
  | { kind: "desktop" }
  /** A POST of the event's JSON. */
  | { kind: "url"; url: string }
  /** From the command line: a program, run from its argv without arguments, the JSON on its stdin. */
  | { kind: "program"; file: string }
  /** From the plan: the user's shell line, run by `sh -c` as a verify command is, the JSON on its stdin. */
  | { kind: "shell"; line: string };

/** A target the command line can give. */
export type CliTarget = Exclude<Target, { kind: "shell" }>;

/**
 * A `--notify` value: `desktop`, an http(s) URL, or a program (a path, made absolute here so a
 * detached run finds the same one; a name, which commandLineTargets finds on PATH). Throws a
 * usage error.
 */
export function cliTarget(text: string, cwd: string): CliTarget {
  if (text === NOTIFY_DESKTOP) return { kind: "desktop" };
  if (/^https?:\/\//i.test(text)) {
    const problem = notifyTextProblem(text);
    // The URL is not quoted back: it may carry a token.
    if (problem) throw usageError(`the --notify target ${problem}`, "give `desktop`, a URL like `https://ntfy.sh/<topic>`, or a program to run");
    return { kind: "url", url: text };
  }
  if (text.trim() === "" || hasNul(text)) throw usageError("--notify takes `desktop`, an http(s) URL or a program, not an empty value");
  return { kind: "program", file: text.includes("/") ? resolve(cwd, text) : text };
}

/** The plan's `notify:` as targets. */
export function planTargets(notify: ExecutionPlan["notify"]): Target[] {
  return (notify ?? []).map((t): Target => (typeof t === "string" ? (t === NOTIFY_DESKTOP ? { kind: "desktop" } : { kind: "url", url: t }) : { kind: "shell", line: t.command }));
}

/** A target as `--notify` takes it again (a detached run's command line). A shell line comes only from the plan. */
export function targetArg(t: CliTarget): string {
  return t.kind === "desktop" ? NOTIFY_DESKTOP : t.kind === "url" ? t.url : t.file;
}

/** A target's identity in the record of what was sent: a digest, since a URL may carry a token. */
export function targetKey(t: Target): string {
  const value = t.kind === "desktop" ? "" : t.kind === "url" ? t.url : t.kind === "program" ? t.file : t.line;
  return createHash("sha256").update(`${t.kind}\0${value}`).digest("hex").slice(0, 16);
}

/** The targets of the command line and of the plan, each once, in that order. */
export function allTargets(cli: readonly Target[], plan: ExecutionPlan["notify"]): Target[] {
  const seen = new Set<string>();
  return [...cli, ...planTargets(plan)].filter((t) => {
    const key = targetKey(t);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** How a target is named in messages and logs: a URL by its scheme and host only. */
export function targetLabel(t: Target): string {
  if (t.kind === "desktop") return "desktop";
  if (t.kind === "url") return redactUrl(t.url);
  if (t.kind === "program") return `the program ${JSON.stringify(t.file)}`;
  return `the plan's notify command ${JSON.stringify(t.line.length > 60 ? `${t.line.slice(0, 59)}…` : t.line)}`;
}

/**
 * A URL with what may be secret left out: its user and password, its path (a webhook's or an
 * ntfy topic's token is often there) and its query. Pure.
 */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "(a URL)";
  }
  const hidden = url.username !== "" || url.password !== "" || url.pathname !== "/" || url.search !== "" || url.hash !== "";
  return `${url.protocol}//${url.host}${hidden ? "/…" : "/"}`;
}

/** `--notify`'s values as targets, each program found now (a usage error when it is not). */
export async function commandLineTargets(texts: readonly string[], cwd: string): Promise<CliTarget[]> {
  const targets: CliTarget[] = [];
  for (const text of texts) {
    const target = cliTarget(text, cwd);
    if (target.kind === "program") {
      const found = target.file.includes("/") ? ((await isExecutable(target.file)) ? target.file : undefined) : await which(target.file);
      if (found === undefined)
        throw usageError(
          `--notify ${JSON.stringify(text)}: ${target.file.includes("/") ? `${target.file} is not an executable file` : "no program of that name on PATH"}`,
          "give `desktop`, an http(s) URL, or a program that reads the event's JSON on its stdin",
        );
      target.file = found;
    }
    targets.push(target);
  }
  return targets;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    if (!(await stat(file)).isFile()) return false;
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
