import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SESSION_STATES } from "../../src/session/ledger.js";
import { desktopWay, terminalNotice } from "../../src/notify/deliver.js";
import { NOTIFY_EVENTS, notificationsFor, payload, type Happening } from "../../src/notify/notifications.js";
import { allTargets, cliTarget, planTargets, redactUrl, targetKey, targetLabel } from "../../src/notify/targets.js";
import { parsePlan } from "../../src/core/plan/load.js";
import { InputError } from "../../src/core/errors.js";
import type { RunEvent } from "../../src/feature/run-events.js";

/** The mapping from what run sees to the notifications it sends (src/notify/notifications.ts), the targets, and the desktop's way. Pure. */

const AT = "2026-01-02T03:04:05.678Z";
const phaseOf = (task: string) => ({ a: 1, b: 2 })[task as "a" | "b"];
const run = (event: string, fields: Record<string, unknown> = {}): Happening => ({ kind: "run", event: { at: AT, event, text: `${event} happened`, ...fields } as RunEvent });
const ledger = (state: string, since = AT, detail?: string): Happening => ({ kind: "ledger", task: "b", state, since, ...(detail !== undefined && { detail }) });

/**
 * Every event `run` emits, with what it notifies (undefined: nothing). A new event in run's
 * sources fails the test below until it is decided here.
 */
const RUN_EVENTS: Record<string, string | undefined> = {
  "run-started": undefined,
  "phase-started": undefined,
  "task-started": undefined,
  "task-branched": undefined,
  "session-ended": undefined,
  "check-failed": undefined,
  conflict: undefined,
  "review-changes": undefined,
  "sync-started": undefined,
  "task-merged": undefined,
  "merge-raced": undefined,
  "worktree-restored": undefined,
  interrupt: undefined,
  "notify-failed": undefined,
  stopped: undefined,
  resumed: "handed-back",
  "pr-opened": undefined,
  "pr-watch": undefined,
  "pr-handed-back": "handed-back",
  "pr-for-you": undefined,
  "verify-failed": "verify-failed",
  budget: undefined,
  "budget-reached": "budget-reached",
  "phase-synced": "phase-synced",
  "gave-up": "gave-up",
  finished: "finished",
};

describe("notificationsFor", () => {
  it("decides every event run emits", () => {
    const files = ["src/commands/run.ts", ...readdirSync("src/run").map((f) => `src/run/${f}`)];
    const source = files.map((f) => readFileSync(f, "utf8")).join("\n");
    const emitted = new Set([...source.matchAll(/\bevent: "([a-z-]+)"/g)].map((m) => m[1]!));
    expect(emitted.size).toBeGreaterThan(10);
    for (const e of emitted) expect(Object.keys(RUN_EVENTS), `run emits "${e}": decide what it notifies`).toContain(e);
  });

  it("maps each run event to its notification, with the task's phase when the event has none", () => {
    for (const [event, notifies] of Object.entries(RUN_EVENTS)) {
      const got = notificationsFor(run(event, { task: "b" }), phaseOf);
      if (notifies === undefined) expect(got, event).toEqual([]);
      else expect(got, event).toEqual([expect.objectContaining({ event: notifies, task: "b", phase: 2, message: `${event} happened`, at: AT })]);
    }
    expect(new Set(Object.values(RUN_EVENTS).filter(Boolean))).toEqual(new Set(NOTIFY_EVENTS.filter((e) => e !== "needs-input")));
    expect(notificationsFor(run("phase-synced", { phase: 3 }), phaseOf)).toEqual([expect.objectContaining({ phase: 3 })]);
    expect(notificationsFor(run("gave-up"), phaseOf)[0]).not.toHaveProperty("task");
  });

  it("a run stopped by an error gave up; one stopped by an interrupt notifies nothing", () => {
    expect(notificationsFor(run("stopped", { error: true }), phaseOf)).toEqual([expect.objectContaining({ event: "gave-up" })]);
    expect(notificationsFor(run("stopped", { running: ["a"] }), phaseOf)).toEqual([]);
  });

  it("keys: a phase synced and each way of finishing are one notification, whenever seen; other events each their own", () => {
    const key = (h: Happening) => notificationsFor(h, phaseOf)[0]!.key;
    expect(key(run("phase-synced", { phase: 2 }))).toBe(key({ kind: "run", event: { at: "2030-01-01T00:00:00.000Z", event: "phase-synced", phase: 2, text: "again" } }));
    expect(key(run("phase-synced", { phase: 2 }))).not.toBe(key(run("phase-synced", { phase: 3 })));
    const finished = [
      key(run("finished")),
      key(run("finished", { finished: true })),
      key(run("finished", { finished: false })),
      key(run("finished", { pr: true })),
      key(run("finished", { pr: true, head: "a".repeat(40) })),
      key(run("finished", { pr: true, head: "b".repeat(40) })),
    ];
    expect(finished[0]).toBe(finished[1]);
    expect(new Set(finished).size).toBe(5);
    // The pull request green and approved at a head: one notification for that head, whichever run sees it.
    expect(key(run("finished", { pr: true, head: "a".repeat(40) }))).toBe(finished[4]);
    expect(key(run("verify-failed", { task: "a" }))).not.toBe(key(run("verify-failed", { task: "b" })));
    expect(key(run("gave-up"))).not.toBe(key({ kind: "run", event: { at: "2030-01-01T00:00:00.000Z", event: "gave-up", text: "again" } }));
  });

  it("ledger: waiting for input needs the user, once per time it starts waiting; other states nothing (a budget pause is the run's event)", () => {
    for (const state of SESSION_STATES) {
      const got = notificationsFor(ledger(state, AT, "Claude needs your permission to use Bash"), phaseOf);
      if (state === "waiting for input")
        expect(got).toEqual([{ key: `needs-input:b:${AT}`, event: "needs-input", task: "b", phase: 2, message: "b waits for you: Claude needs your permission to use Bash", at: AT }]);
      else expect(got, state).toEqual([]);
    }
    expect(notificationsFor(ledger("waiting for input"), phaseOf)[0]!.key).toBe(notificationsFor(ledger("waiting for input", AT, "other words"), phaseOf)[0]!.key);
    expect(notificationsFor(ledger("waiting for input"), phaseOf)[0]!.key).not.toBe(notificationsFor(ledger("waiting for input", "2030-01-01T00:00:00.000Z"), phaseOf)[0]!.key);
  });

  it("a session's text is data: one line, control characters escaped, bounded", () => {
    const hostile = `done\n{"event":"finished"}\x1b]52;c;ZXZpbA==\x07\u202e${"x".repeat(2000)}`;
    const [n] = notificationsFor({ kind: "ledger", task: "a", state: "waiting for input", since: AT, detail: hostile }, phaseOf);
    expect(n!.message).not.toMatch(/[\n\x1b\x07\u202e]/);
    expect(n!.message).toContain('\\n{"event":"finished"}\\x1b]52');
    expect(n!.message.length).toBeLessThanOrEqual(500);
  });

  it("the payload has exactly its six fields", () => {
    const [n] = notificationsFor(run("gave-up"), phaseOf);
    expect(payload(n!, "auth")).toEqual({ event: "gave-up", feature: "auth", task: null, phase: null, message: "gave-up happened", at: AT });
    expect(Object.keys(payload(notificationsFor(run("resumed", { task: "a", problem: "conflict", sessionId: "s" }), phaseOf)[0]!, "auth"))).toEqual([
      "event",
      "feature",
      "task",
      "phase",
      "message",
      "at",
    ]);
  });
});

describe("notify targets", () => {
  it("reads --notify: desktop, an http(s) URL, else a program (a path made absolute)", () => {
    expect(cliTarget("desktop", "/w")).toEqual({ kind: "desktop" });
    expect(cliTarget("https://ntfy.sh/topic", "/w")).toEqual({ kind: "url", url: "https://ntfy.sh/topic" });
    expect(cliTarget("HTTP://127.0.0.1:8/x", "/w")).toEqual({ kind: "url", url: "HTTP://127.0.0.1:8/x" });
    expect(cliTarget("./bin/notify", "/w")).toEqual({ kind: "program", file: "/w/bin/notify" });
    expect(cliTarget("notify-me", "/w")).toEqual({ kind: "program", file: "notify-me" });
    expect(cliTarget("notify-me --loud", "/w")).toEqual({ kind: "program", file: "notify-me --loud" });
    for (const bad of ["", " ", "a\0b"]) expect(() => cliTarget(bad, "/w"), JSON.stringify(bad)).toThrow(InputError);
  });

  it("a bad URL is refused without being quoted back (it may carry a token)", () => {
    for (const bad of ["https://secret-token@", "https://host/secret token", "http://", `https://h/${"s".repeat(3000)}`]) {
      let message = "";
      try {
        cliTarget(bad, "/w");
      } catch (error) {
        message = (error as InputError).problems.map((p) => `${p.message} ${p.fix}`).join(" ");
      }
      expect(message, bad).toMatch(/the --notify target is/);
      expect(message).not.toContain("secret");
      expect(message).not.toContain("sss");
    }
  });

  it("the plan's notify: the same targets, a command as a shell line; a bad target's message does not quote it", () => {
    const plan = (notify: string) => `version: 1\nfeature: F\nnotify: ${notify}\ntasks:\n  - {id: a, title: A}\n`;
    expect(planTargets(parsePlan(plan(`[desktop, "https://ntfy.sh/t", {command: "./n.sh | tee x"}]`), "plan.yaml").plan.notify)).toEqual([
      { kind: "desktop" },
      { kind: "url", url: "https://ntfy.sh/t" },
      { kind: "shell", line: "./n.sh | tee x" },
    ]);
    const problem = (notify: string) => {
      try {
        parsePlan(plan(notify), "plan.yaml");
      } catch (error) {
        return (error as InputError).problems[0]!;
      }
      throw new Error("accepted");
    };
    expect(problem(`["https://tok secret@h/"]`)).toMatchObject({ where: "plan.yaml:3:10 (notify[0])", message: "the notify target is a URL with a space or a control character in it" });
    expect(JSON.stringify(problem(`["https://tok secret@h/"]`))).not.toContain("secret");
    expect(problem("[ntfy.sh/topic]").message).toBe("the notify target is neither `desktop` nor an http(s) URL");
    expect(problem("[3]")).toMatchObject({ message: "a notify target is `desktop`, an http(s) URL, or `command: <shell line>`" });
    expect(problem("[{cmd: x}]").message).toBe("a notify target is `desktop`, an http(s) URL, or `command: <shell line>`");
    expect(problem(`[{command: ""}]`).message).toBe("notify command must not be empty");
  });

  it("each target once, the command line's first; a key and a label that hold no token", () => {
    const url = { kind: "url" as const, url: "https://user:pw@hooks.example.com/services/T0/B0/secret?token=abc" };
    const targets = allTargets([url, { kind: "desktop" }], ["desktop", url.url, { command: "x" }]);
    expect(targets).toEqual([url, { kind: "desktop" }, { kind: "shell", line: "x" }]);
    expect(targetKey(url)).toMatch(/^[0-9a-f]{16}$/);
    expect(targetKey(url)).not.toBe(targetKey({ kind: "url", url: "https://hooks.example.com/" }));
    expect(targetKey({ kind: "program", file: "x" })).not.toBe(targetKey({ kind: "shell", line: "x" }));
    expect(targetLabel(url)).toBe("https://hooks.example.com/…");
    expect(redactUrl("http://127.0.0.1:8080/")).toBe("http://127.0.0.1:8080/");
    expect(redactUrl("https://ntfy.sh/my-secret-topic")).toBe("https://ntfy.sh/…");
    expect(redactUrl("https://h/#frag")).toBe("https://h/…");
    expect(redactUrl("not a url")).toBe("(a URL)");
  });
});

describe("desktop", () => {
  const env = (e: Record<string, string>) => e as NodeJS.ProcessEnv;
  it("uses the platform's notifier where it can show something, else the terminal's notification, else a bell, else nothing", () => {
    const way = (platform: string, e: Record<string, string>, o: { notifySend?: string; osascript?: string; terminal?: boolean } = {}) =>
      desktopWay({ platform, env: env(e), terminal: o.terminal ?? true, ...o });
    expect(way("darwin", {}, { osascript: "/usr/bin/osascript" })).toEqual({ kind: "osascript", file: "/usr/bin/osascript" });
    expect(way("linux", { DISPLAY: ":0" }, { notifySend: "/usr/bin/notify-send" })).toEqual({ kind: "notify-send", file: "/usr/bin/notify-send" });
    expect(way("linux", { WAYLAND_DISPLAY: "w" }, { notifySend: "/n" }).kind).toBe("notify-send");
    expect(way("linux", { DBUS_SESSION_BUS_ADDRESS: "unix:x" }, { notifySend: "/n" }).kind).toBe("notify-send");
    // notify-send with no session to show it in (a server over ssh): the terminal.
    expect(way("linux", {}, { notifySend: "/n" })).toEqual({ kind: "terminal", osc: "bell" });
    expect(way("darwin", { TERM_PROGRAM: "iTerm.app" })).toEqual({ kind: "terminal", osc: "9" });
    for (const e of [{ TERM_PROGRAM: "WezTerm" }, { TERM_PROGRAM: "ghostty" }, { WT_SESSION: "1" }] as Array<Record<string, string>>) expect(way("linux", e)).toEqual({ kind: "terminal", osc: "9" });
    for (const e of [{ TERM: "foot" }, { TERM: "rxvt-unicode-256color" }, { VTE_VERSION: "7600" }] as Array<Record<string, string>>) expect(way("linux", e)).toEqual({ kind: "terminal", osc: "777" });
    expect(way("linux", { TERM: "xterm-256color" })).toEqual({ kind: "terminal", osc: "bell" });
    expect(way("linux", { TERM_PROGRAM: "iTerm.app" }, { terminal: false })).toEqual({ kind: "none" });
  });

  it("the terminal's notification cannot be ended early or turned into another sequence by the text", () => {
    const body = "phase 1 synced\x07\x1b]52;c;ZXZpbA==\x07\x1b[2J\nnext";
    for (const osc of ["9", "777"] as const) {
      const out = terminalNotice(osc, "claude-parallel: a;b", body);
      expect(out.startsWith(`\x1b]${osc};`)).toBe(true);
      expect(out.endsWith("\x07")).toBe(true);
      // One sequence: no other ESC or BEL inside.
      expect(out.slice(1, -1)).not.toMatch(/[\x1b\x07\n]/);
    }
    expect(terminalNotice("777", "t;x", "b")).toBe("\x1b]777;notify;t,x;b\x07");
    expect(terminalNotice("bell", "t", body)).toBe("\x07");
  });
});
