import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { run, runShell, type RunResult } from "../proc.js";
import { singleLine } from "../core/text/single-line.js";
import { terminalSafe } from "../core/text/terminal.js";
import { VERSION } from "../core/version.js";
import type { NotifyPayload } from "./notifications.js";
import type { Target } from "./targets.js";

/** How long one delivery may take; a notification never holds the run up longer. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** What of an answer is read before the connection is dropped (its body is not used). */
const MAX_ANSWER = 64 * 1024;

/** How `desktop` reaches the user here (desktopWay). */
type DesktopWay = { kind: "notify-send"; file: string } | { kind: "osascript"; file: string } | { kind: "terminal"; osc: "9" | "777" | "bell" } | { kind: "none" };

/** What a delivery needs beyond the target and the notification. */
export interface DeliveryContext {
  /** Where a program or shell line runs. */
  cwd: string;
  desktop: DesktopWay;
  /** Raw output to the run's terminal (only when it is one). */
  terminal?: (raw: string) => void;
  timeoutMs: number;
}

/** Delivers one notification to one target: undefined when it arrived, else why not (never a URL: it may carry a token). */
export async function deliver(target: Target, body: NotifyPayload, ctx: DeliveryContext): Promise<string | undefined> {
  const json = JSON.stringify(body);
  switch (target.kind) {
    case "url":
      return post(target.url, json, `claude-parallel: ${body.event} (${body.feature})`, ctx.timeoutMs);
    case "program":
      return processProblem(await run(target.file, [], { cwd: ctx.cwd, input: json, timeoutMs: ctx.timeoutMs, maxBuffer: MAX_ANSWER }), ctx.timeoutMs);
    case "shell":
      return processProblem(await runShell(target.line, { cwd: ctx.cwd, input: json, timeoutMs: ctx.timeoutMs, maxBuffer: MAX_ANSWER }), ctx.timeoutMs);
    case "desktop":
      return desktop(ctx, `claude-parallel: ${body.feature}`, `${body.event}: ${body.message}`);
  }
}

function processProblem(r: RunResult, timeoutMs: number): string | undefined {
  if (r.timedOut) return `it did not end within ${timeoutMs / 1000} s and was stopped`;
  if (r.spawnError) return `it could not be started (${r.spawnError.code ?? r.spawnError.message})`;
  if (r.exitCode !== 0) return `it exited with ${r.exitCode}${firstLine(r.stderr)}`;
  return undefined;
}

const firstLine = (text: string) => {
  const line = text.split("\n").find((l) => l.trim() !== "");
  return line === undefined ? "" : `: ${terminalSafe(singleLine(line.trim().slice(0, 200)))}`;
};

/**
 * POSTs the JSON; a 2xx answer is delivery. Redirects are not followed (the answer's Location is
 * not the user's URL). The Title header is what ntfy-style services show as the title.
 */
function post(url: string, json: string, title: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const done = (problem: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(problem);
    };
    const headers = { "content-type": "application/json", "content-length": Buffer.byteLength(json), "user-agent": `claude-parallel/${VERSION}`, title: headerText(title) };
    let req: ReturnType<typeof httpRequest>;
    try {
      // A connection of its own (no pooled keep-alive socket outlives the run).
      req = (url.toLowerCase().startsWith("https:") ? httpsRequest : httpRequest)(url, { method: "POST", headers, agent: false });
    } catch (error) {
      return done(`the request could not be made (${(error as NodeJS.ErrnoException).code ?? "invalid"})`);
    }
    timer = setTimeout(() => {
      done(`no answer within ${timeoutMs / 1000} s`);
      req.destroy();
    }, timeoutMs);
    req.on("error", (error: NodeJS.ErrnoException) => done(`the request failed (${error.code ?? "no connection"})`));
    req.on("response", (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      let read = 0;
      res.on("data", (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_ANSWER) res.destroy();
      });
      res.on("error", () => undefined);
      const answered = () => done(status >= 200 && status < 300 ? undefined : `the answer was HTTP ${status}${status >= 300 && status < 400 ? " (redirects are not followed)" : ""}`);
      res.on("end", answered);
      res.on("close", answered);
    });
    req.end(json);
  });
}

/** A header value: printable ASCII only (Node refuses the rest), at most 200 characters. */
function headerText(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 200);
}

/**
 * How `desktop` reaches the user: the platform's notifier where there is one to show it (macOS's
 * osascript; notify-send in a graphical session), else the run's terminal: OSC 9 where the
 * terminal is known to show it as a notification, OSC 777 likewise, a bell otherwise; with no
 * terminal either, nothing. Pure.
 */
export function desktopWay(f: { platform: string; env: NodeJS.ProcessEnv; notifySend?: string; osascript?: string; terminal: boolean }): DesktopWay {
  if (f.platform === "darwin" && f.osascript) return { kind: "osascript", file: f.osascript };
  if (f.platform !== "darwin" && f.notifySend && (f.env.DISPLAY || f.env.WAYLAND_DISPLAY || f.env.DBUS_SESSION_BUS_ADDRESS)) return { kind: "notify-send", file: f.notifySend };
  if (!f.terminal) return { kind: "none" };
  const program = f.env.TERM_PROGRAM ?? "";
  if (["iTerm.app", "WezTerm", "ghostty"].includes(program) || f.env.WT_SESSION) return { kind: "terminal", osc: "9" };
  if (/^(foot|rxvt)/.test(f.env.TERM ?? "") || f.env.VTE_VERSION) return { kind: "terminal", osc: "777" };
  return { kind: "terminal", osc: "bell" };
}

/**
 * The bytes that notify through the terminal. The texts are made terminal-safe first (no ESC or
 * BEL of theirs can end the sequence early or start another). Pure.
 */
export function terminalNotice(osc: "9" | "777" | "bell", title: string, body: string): string {
  const safe = (text: string) => terminalSafe(singleLine(text)).slice(0, 200);
  if (osc === "9") return `\x1b]9;${safe(`${title}: ${body}`)}\x07`;
  if (osc === "777") return `\x1b]777;notify;${safe(title).replace(/;/g, ",")};${safe(body)}\x07`;
  return "\x07";
}

async function desktop(ctx: DeliveryContext, title: string, body: string): Promise<string | undefined> {
  const way = ctx.desktop;
  const text = (s: string) => terminalSafe(singleLine(s)).slice(0, 200);
  switch (way.kind) {
    case "notify-send":
      // notify-send's body may hold markup: the text's own <, > and & are shown as they are.
      return processProblem(
        await run(way.file, ["--app-name=claude-parallel", "--", text(title), text(body).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")], {
          cwd: ctx.cwd,
          timeoutMs: ctx.timeoutMs,
        }),
        ctx.timeoutMs,
      );
    case "osascript":
      // The texts travel as arguments, never inside the script.
      return processProblem(
        await run(way.file, ["-e", "on run argv", "-e", "display notification (item 2 of argv) with title (item 1 of argv)", "-e", "end run", text(title), text(body)], {
          cwd: ctx.cwd,
          timeoutMs: ctx.timeoutMs,
        }),
        ctx.timeoutMs,
      );
    case "terminal":
      ctx.terminal?.(terminalNotice(way.osc, title, body));
      return undefined;
    case "none":
      return "there is no desktop notifier here (notify-send in a graphical session, or macOS's osascript) and the run has no terminal";
  }
}
