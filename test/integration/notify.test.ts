import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { featureDir, runNotifiedPath } from "../../src/core/state/paths.js";
import { nextRecord, writeHookRecord } from "../../src/session/ledger.js";
import { deliver, type DeliveryContext } from "../../src/notify/deliver.js";
import { Notifier } from "../../src/notify/notifier.js";
import type { NotifyPayload } from "../../src/notify/notifications.js";
import type { Target } from "../../src/notify/targets.js";
import type { RunEvent } from "../../src/feature/run-events.js";
import { runArgv } from "../../src/run/detach.js";
import { runHelper } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";
import { waitUntil } from "../helpers/wait.js";

/** Delivering notifications for real: a webhook on 127.0.0.1, programs and shell lines, the run's record of what was sent. */

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook on 127.0.0.1 that answers each POST with `status` (or never, with `hang`). */
async function webhook(answer: { status?: number; location?: string; hang?: boolean } = {}): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      if (answer.hang) return;
      res.writeHead(answer.status ?? 200, answer.location ? { location: answer.location } : {});
      res.end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/secret-topic?token=t0k`, received, server };
}
const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) {
    s.closeAllConnections?.();
    s.close();
  }
});

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const BODY: NotifyPayload = { event: "phase-synced", feature: "auth", task: null, phase: 1, message: 'phase 1 synced: "quoted" \\ and ünïcode', at: "2026-01-02T03:04:05.678Z" };

function context(over: Partial<DeliveryContext> = {}): DeliveryContext {
  return { cwd: tempDir(), desktop: { kind: "none" }, timeoutMs: 10_000, ...over };
}

describe("deliver", () => {
  it("POSTs the JSON to a URL: a 2xx answer is delivery; another status, a redirect, no listener and no answer are reported without the URL", async () => {
    const ok = await webhook();
    expect(await deliver({ kind: "url", url: ok.url }, BODY, context())).toBeUndefined();
    expect(ok.received).toHaveLength(1);
    expect(JSON.parse(ok.received[0]!.body)).toEqual(BODY);
    expect(ok.received[0]!.headers["content-type"]).toBe("application/json");
    expect(ok.received[0]!.headers.title).toBe("claude-parallel: phase-synced (auth)");

    const failing = await webhook({ status: 500 });
    expect(await deliver({ kind: "url", url: failing.url }, BODY, context())).toBe("the answer was HTTP 500");
    const moved = await webhook({ status: 302, location: "http://127.0.0.1:1/elsewhere" });
    expect(await deliver({ kind: "url", url: moved.url }, BODY, context())).toBe("the answer was HTTP 302 (redirects are not followed)");
    expect(await deliver({ kind: "url", url: `http://127.0.0.1:${await closedPort()}/x?token=t0k` }, BODY, context())).toBe("the request failed (ECONNREFUSED)");
    // A webhook that never answers: the delivery ends at its bound.
    const silent = await webhook({ hang: true });
    expect(await deliver({ kind: "url", url: silent.url }, BODY, context({ timeoutMs: 300 }))).toBe("no answer within 0.3 s");
  });

  it("runs a program from its argv and a plan's shell line by sh -c, the JSON on stdin; a failure says how it ended", async () => {
    const dir = tempDir();
    const program = join(dir, "notify me");
    writeFileSync(program, `#!/bin/sh\ncat > "$(dirname "$0")/got.json"\n`);
    chmodSync(program, 0o755);
    expect(await deliver({ kind: "program", file: program }, BODY, context())).toBeUndefined();
    expect(JSON.parse(readFileSync(join(dir, "got.json"), "utf8"))).toEqual(BODY);

    const cwd = tempDir();
    expect(await deliver({ kind: "shell", line: "cat > from-shell.json" }, BODY, context({ cwd }))).toBeUndefined();
    expect(JSON.parse(readFileSync(join(cwd, "from-shell.json"), "utf8"))).toEqual(BODY);

    expect(await deliver({ kind: "shell", line: "echo 'no route to pager' >&2; exit 3" }, BODY, context())).toBe("it exited with 3: no route to pager");
    expect(await deliver({ kind: "program", file: join(dir, "missing") }, BODY, context())).toBe("it could not be started (ENOENT)");
  });

  it("stops a command at its bound, with what it started", async () => {
    const cwd = tempDir();
    const problem = await deliver({ kind: "shell", line: "sleep 600 & echo $! > child.pid; wait" }, BODY, context({ cwd, timeoutMs: 500 }));
    expect(problem).toBe("it did not end within 0.5 s and was stopped");
    const pid = Number(readFileSync(join(cwd, "child.pid"), "utf8"));
    const gone = () => !existsSync(`/proc/${pid}`) || /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
    expect(await waitUntil(gone, 10_000)).toBe(true);
  });

  it("desktop without a notifier: the terminal's notification, else a reason", async () => {
    const out: string[] = [];
    expect(await deliver({ kind: "desktop" }, BODY, context({ desktop: { kind: "terminal", osc: "9" }, terminal: (t) => out.push(t) }))).toBeUndefined();
    expect(out).toEqual([`\x1b]9;claude-parallel: auth: phase-synced: phase 1 synced: "quoted" \\ and ünïcode\x07`]);
    expect(await deliver({ kind: "desktop" }, BODY, context())).toMatch(/^there is no desktop notifier here/);
  });
});

describe("Notifier", () => {
  const event = (e: Partial<RunEvent> & { event: string }): RunEvent => ({ at: "2026-01-02T03:04:05.678Z", text: `${e.event} text`, ...e }) as RunEvent;

  function notifier(commonDir: string, targets: Target[], reports: string[]) {
    return new Notifier({
      commonDir,
      slug: "auth",
      targets,
      tasks: [
        { id: "a", phase: 1 },
        { id: "b", phase: 2 },
      ],
      cwd: commonDir,
      report: (t) => reports.push(t),
    });
  }

  it("sends each notification once per target, in order, the ledger's waiting state too; a run run again sends none of them again", async () => {
    const hook = await webhook();
    const commonDir = tempDir();
    const reports: string[] = [];
    const first = notifier(commonDir, [{ kind: "url", url: hook.url }], reports);
    await first.start();
    first.listen(event({ event: "task-started", task: "a" }));
    first.listen(event({ event: "verify-failed", task: "b", phase: 2 }));
    first.listen(event({ event: "resumed", task: "b" }));
    first.listen(event({ event: "phase-synced", phase: 1 }));
    first.listen(event({ event: "phase-synced", phase: 1, at: "2026-01-02T03:04:06.000Z" }));
    writeHookRecord(
      featureDir(commonDir, "auth"),
      nextRecord(undefined, { task: "a", name: "Notification", at: "2026-01-02T03:05:00.000Z", state: "waiting for input", detail: "Claude needs your permission to use Bash" }),
    );
    await first.close();
    expect(reports).toEqual([]);
    const got = hook.received.map((r) => JSON.parse(r.body) as NotifyPayload);
    expect(got.map((p) => [p.event, p.task, p.phase])).toEqual([
      ["verify-failed", "b", 2],
      ["handed-back", "b", 2],
      ["phase-synced", null, 1],
      ["needs-input", "a", 1],
    ]);
    expect(got[3]).toEqual({ event: "needs-input", feature: "auth", task: "a", phase: 1, message: "a waits for you: Claude needs your permission to use Bash", at: "2026-01-02T03:05:00.000Z" });
    // The record names targets by digest: the URL's token is not in it.
    const record = readFileSync(runNotifiedPath(commonDir, "auth"), "utf8");
    expect(record.trim().split("\n")).toHaveLength(4);
    expect(record).not.toMatch(/t0k|secret|127\.0\.0\.1/);

    const again = notifier(commonDir, [{ kind: "url", url: hook.url }], reports);
    await again.start();
    again.listen(event({ event: "phase-synced", phase: 1, at: "2026-01-03T00:00:00.000Z" }));
    again.listen(event({ event: "finished", at: "2026-01-03T00:00:01.000Z" }));
    await again.close();
    expect(hook.received.map((r) => JSON.parse(r.body).event)).toEqual(["verify-failed", "handed-back", "phase-synced", "needs-input", "finished"]);
  });

  it("a failing target is reported once, without its URL; the other targets still get everything", async () => {
    const hook = await webhook();
    const commonDir = tempDir();
    const reports: string[] = [];
    const dead = `http://user:pw@127.0.0.1:${await closedPort()}/secret-topic?token=t0k`;
    const n = notifier(
      commonDir,
      [
        { kind: "url", url: dead },
        { kind: "url", url: hook.url },
      ],
      reports,
    );
    await n.start();
    n.listen(event({ event: "phase-synced", phase: 1 }));
    n.listen(event({ event: "gave-up" }));
    await n.close();
    expect(hook.received).toHaveLength(2);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/^the phase-synced notification to http:\/\/127\.0\.0\.1:\d+\/… was not delivered: the request failed \(ECONNREFUSED\); the run goes on/);
    expect(reports[0]).not.toMatch(/t0k|secret|user|pw/);
  });
});

describe("run --notify", () => {
  it("refuses a target it cannot use before anything starts (exit 2), without quoting a URL", () => {
    const cwd = tempDir();
    const missing = runHelper(["run", "x", "--notify", "./no-such-notifier"], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`--notify "./no-such-notifier": ${join(cwd, "no-such-notifier")} is not an executable file`);
    expect(runHelper(["run", "x", "--notify", "no-such-notifier-on-path"], { cwd }).stderr).toContain("no program of that name on PATH");
    const url = runHelper(["run", "x", "--notify", "https://host/secret token"], { cwd });
    expect(url.code).toBe(2);
    expect(url.stderr).toContain("the --notify target is a URL with a space or a control character in it");
    expect(url.stderr).not.toContain("secret");
  });

  it("a detached run gets the same targets", () => {
    const options = { attempts: 3, stopSessions: false, finishMode: "finish" as const, json: false, detach: true };
    const targets = [{ kind: "desktop" as const }, { kind: "url" as const, url: "https://ntfy.sh/t" }, { kind: "program" as const, file: "-odd name" }];
    expect(runArgv("s", { ...options, notify: targets }).filter((a) => a.startsWith("--notify"))).toEqual(["--notify=desktop", "--notify=https://ntfy.sh/t", "--notify=-odd name"]);
  });
});
