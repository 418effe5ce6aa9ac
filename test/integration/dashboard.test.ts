import { spawn, type ChildProcess } from "node:child_process";
import { request, type IncomingMessage } from "node:http";
import { createServer } from "node:net";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { DashboardFeature } from "../../src/dashboard/view.js";
import { writeHookRecord } from "../../src/session/ledger.js";
import { HELPER, runHelper } from "../helpers/cli.js";
import { commitIn, startedFeature } from "../helpers/feature.js";
import { reusableFolder } from "../helpers/fixture.js";
import { gitEnv } from "../helpers/git.js";
import { waitUntil } from "../helpers/wait.js";

/** A started feature (tasks a and b in phase 1, c in phase 2), built once and restored for each test. */
const fixture = reusableFolder((folder) => startedFeature("dash", undefined, {}, folder));

const children: ChildProcess[] = [];
afterAll(() => children.forEach((c) => c.kill("SIGKILL")));

/** `claude-parallel dashboard` as users run it; resolves with its address once printed. */
async function dashboard(repo: string, args: string[] = ["--no-open"]) {
  const child = spawn(process.execPath, [HELPER, "dashboard", ...args], { cwd: repo, env: gitEnv });
  children.push(child);
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let ended = false;
  void exited.then(() => (ended = true));
  await waitUntil(() => ended || /token=/.test(out), 60_000);
  const url = /^http:\/\/127\.0\.0\.1:(\d+)\/\?token=(\S+)$/m.exec(out);
  if (!url) throw new Error(`no address printed: ${out}`);
  return { child, url: url[0], port: Number(url[1]), token: url[2]!, exited, output: () => out };
}

interface Answer {
  status: number;
  headers: IncomingMessage["headers"];
  body: string;
}

/** One request, with the Host header and method we choose (fetch would not let us set Host). */
function get(port: number, path: string, options: { host?: string; method?: string; address?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const host = options.host ?? `127.0.0.1:${port}`;
    // An empty `host` sends none at all.
    const req = request({ host: options.address ?? "127.0.0.1", port, path, method: options.method ?? "GET", setHost: false, headers: host ? { Host: host } : {} }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** The snapshots of `/events`, as they arrive. */
function listen(port: number, token: string) {
  const snapshots: Array<{ features: DashboardFeature[] }> = [];
  let buffer = "";
  const req = request({ host: "127.0.0.1", port, path: `/events?token=${token}` }, (res) => {
    res.setEncoding("utf8");
    res.on("data", (d: string) => {
      buffer += d;
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = /^data: (.*)$/m.exec(message)?.[1];
        if (/^event: snapshot$/m.test(message) && data) snapshots.push(JSON.parse(data));
      }
    });
  });
  req.on("error", () => undefined); // the dashboard ended first: the snapshots say the rest
  req.end();
  return { snapshots, close: () => req.destroy() };
}

const taskIn = (snapshot: { features: DashboardFeature[] }, id: string) => snapshot.features[0]!.phases.flatMap((p) => p.tasks).find((t) => t.id === id);

describe("claude-parallel dashboard: who may read it", () => {
  it("127.0.0.1 only; every request needs the token and this address as its Host; GET and HEAD only; the page is small, self-contained and locked down", async () => {
    const { repo } = fixture();
    const d = await dashboard(repo);
    const path = (p: string) => `${p}?token=${d.token}`;
    // Bound to 127.0.0.1 alone: another loopback address (which 0.0.0.0 would answer on) is refused.
    await expect(get(d.port, path("/"), { address: "127.0.0.2" })).rejects.toThrow(/ECONNREFUSED/);
    await expect(get(d.port, path("/"), { address: "::1" })).rejects.toThrow(/ECONNREFUSED|EADDRNOTAVAIL/);

    const wrong = d.token.replace(/^./, (c) => (c === "A" ? "B" : "A"));
    for (const p of ["/", "/events", "/snapshot.json", "/nothing", "/?token=", `/?token=${wrong}`, `/?token=${d.token}x`, `/?token=${d.token.toLowerCase()}`]) {
      expect((await get(d.port, p)).status, p).toBe(403);
    }
    // DNS rebinding: a name that resolves to 127.0.0.1 still names another host.
    for (const host of ["evil.example", `evil.example:${d.port}`, `127.0.0.1:${d.port + 1}`, `127.0.0.1.evil.example:${d.port}`])
      expect((await get(d.port, path("/"), { host })).status, host).toBe(403);
    // No Host at all: Node's HTTP/1.1 server refuses it before us.
    expect((await get(d.port, path("/"), { host: "" })).status).toBe(400);
    expect((await get(d.port, path("/"), { host: `localhost:${d.port}` })).status).toBe(200);
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) expect((await get(d.port, path("/snapshot.json"), { method })).status, method).toBe(405);
    expect((await get(d.port, path("/elsewhere"))).status).toBe(404);

    const page = await get(d.port, path("/"));
    expect(page.status).toBe(200);
    expect(Buffer.byteLength(page.body)).toBeLessThan(200 * 1024);
    const csp = page.headers["content-security-policy"]!;
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
    expect(csp).not.toMatch(/unsafe/);
    expect(page.headers).toMatchObject({ "cache-control": "no-store", "referrer-policy": "no-referrer", "x-frame-options": "DENY", "x-content-type-options": "nosniff" });
    // Nothing from elsewhere: no address but the SVG namespace, no external script, style or image.
    expect(page.body.replace(/http:\/\/www\.w3\.org\/2000\/svg/g, "")).not.toMatch(/https?:\/\//);
    expect(page.body).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet|@import/);
    // The page never parses data as HTML.
    expect(page.body).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);

    const snapshot = JSON.parse((await get(d.port, path("/snapshot.json"))).body);
    expect(snapshot).toMatchObject({ version: 1, repository: "dash", features: [{ slug: "demo", feature: "Sync demo" }] });
    d.child.kill("SIGINT");
    expect(await d.exited).toBe(0);
  });

  it("refuses bad arguments: a port that is no port, a feature that does not exist, a path for a slug, a port in use", async () => {
    const { repo } = fixture();
    expect(runHelper(["dashboard", "--port", "http"], { cwd: repo })).toMatchObject({ code: 2, stderr: expect.stringContaining("--port takes a port number") });
    expect(runHelper(["dashboard", "--port", "70000"], { cwd: repo }).code).toBe(2);
    expect(runHelper(["dashboard", "nosuch", "--no-open"], { cwd: repo })).toMatchObject({ code: 2, stderr: expect.stringContaining("no such feature") });
    expect(runHelper(["dashboard", ".parallel/demo/plan.yaml", "--no-open"], { cwd: repo })).toMatchObject({ code: 2, stderr: expect.stringContaining("is not a feature's slug") });
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    expect(runHelper(["dashboard", "--port", String(port), "--no-open"], { cwd: repo })).toMatchObject({ code: 3, stderr: expect.stringContaining(`port ${port} on 127.0.0.1 is in use`) });
    taken.close();
  });
});

describe("claude-parallel dashboard: live", () => {
  it("pushes a new snapshot when a session's ledger changes and when a branch moves, with nothing asked", async () => {
    const { repo, wt } = fixture();
    const d = await dashboard(repo);
    const events = listen(d.port, d.token);
    expect(await waitUntil(() => events.snapshots.length > 0, 60_000)).toBe(true);
    expect(taskIn(events.snapshots.at(-1)!, "a")).toMatchObject({ state: "not started" });
    // What the plugin's hooks write when the session asks for a permission.
    writeHookRecord(join(repo, ".git", "parallel", "demo"), {
      version: 1,
      task: "a",
      state: "waiting for input",
      since: new Date().toISOString(),
      event: "Notification",
      at: new Date().toISOString(),
      detail: "Claude needs your permission to use Bash",
      sessionId: "s-a",
      sessions: { "s-a": { input: 1200, output: 300, cacheRead: 0, cacheWrite: 0 } },
      starts: 1,
    });
    expect(await waitUntil(() => taskIn(events.snapshots.at(-1)!, "a")?.state === "needs input", 60_000), JSON.stringify(events.snapshots.at(-1))).toBe(true);
    const last = events.snapshots.at(-1)!.features[0]!;
    expect(last.needsYou[0]).toMatchObject({ title: "a needs your input", command: `cd -- '${wt("a")}' && claude --resume 's-a'` });
    expect(taskIn(events.snapshots.at(-1)!, "a")).toMatchObject({ attempts: 1, tokens: 1500 });
    // A commit in b's worktree moves its branch: no polling needed to see it.
    commitIn(wt("b"), { "b/x.txt": "b\n" });
    expect(await waitUntil(() => taskIn(events.snapshots.at(-1)!, "b")?.ahead === 1, 60_000)).toBe(true);
    events.close();
    d.child.kill("SIGTERM");
    expect(await d.exited).toBe(0);
  });

  it("--detach: runs in the background and prints its address and how to stop it", async () => {
    const { repo } = fixture();
    const r = runHelper(["dashboard", "demo", "--detach", "--no-open"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const url = /^http:\/\/127\.0\.0\.1:(\d+)\/\?token=(\S+)$/m.exec(r.stdout);
    const pid = Number(/\(pid (\d+)\)/.exec(r.stdout)?.[1]);
    expect(url, r.stdout).not.toBeNull();
    expect(r.stdout).toContain(`Stop it: kill ${pid}`);
    try {
      expect((await get(Number(url![1]), `/snapshot.json?token=${url![2]}`)).status).toBe(200);
    } finally {
      process.kill(pid, "SIGTERM");
    }
  });

  it("--detach while one serves: the address of the running one, no second server; a record whose server is gone is not believed", async () => {
    const { repo } = fixture();
    const detach = (args: string[]) => {
      const r = runHelper(["dashboard", ...args, "--detach", "--no-open"], { cwd: repo });
      expect(r.code, r.stderr).toBe(0);
      return { url: /^http:\/\/127\.0\.0\.1:\d+\/\?token=\S+$/m.exec(r.stdout)?.[0], pid: Number(/\(pid (\d+)\)/.exec(r.stdout)?.[1]) };
    };
    const record = join(repo, ".git", "parallel", ".dashboard.json");
    const first = detach([]);
    let recorded: string;
    try {
      expect(detach([])).toEqual(first);
      expect(detach(["demo"])).toEqual({ url: `${first.url}#demo`, pid: first.pid });
      expect(statSync(record).mode & 0o777, "the record holds the token: only its owner may read it").toBe(0o600);
      recorded = readFileSync(record, "utf8");
    } finally {
      process.kill(first.pid, "SIGTERM");
    }
    expect(await waitUntil(() => !existsSync(record), 60_000), "a dashboard that stops removes its record").toBe(true);
    // As a dashboard killed with SIGKILL leaves it: its port no longer answers its token.
    writeFileSync(record, recorded!, { mode: 0o600 });
    const second = detach([]);
    try {
      expect(second.pid).not.toBe(first.pid);
      const [, port, token] = /:(\d+)\/\?token=(\S+)$/.exec(second.url!)!;
      expect((await get(Number(port), `/snapshot.json?token=${token}`)).status).toBe(200);
    } finally {
      process.kill(second.pid, "SIGTERM");
    }
  });
});
