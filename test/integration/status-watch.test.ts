import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HELPER, runHelper } from "../helpers/cli.js";
import { gitEnv, makeRepo } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";
import { waitUntil } from "../helpers/wait.js";

const PLAN = "version: 1\nfeature: Add login\ntasks:\n  - {id: api, title: Login API, owns: [src/api/]}\n  - {id: ui, title: Login form, owns: [src/ui/]}\n";

function started() {
  const repo = makeRepo({ name: "shop", files: { "README.md": "# shop\n", ".parallel/add-login/plan.yaml": PLAN } });
  const r = runHelper(["start", "--deps", "none"], { cwd: repo });
  expect(r.code, r.stderr).toBe(0);
  return { repo, api: realpathSync(join(repo, "..", "shop-add-login-api")) };
}

function commit(dir: string, file: string) {
  mkdirSync(join(dir, file, ".."), { recursive: true });
  writeFileSync(join(dir, file), "x\n");
  spawnSync("git", ["-C", dir, "add", "-A"], { env: gitEnv });
  spawnSync("git", ["-C", dir, "commit", "-q", "-m", `Add ${file}`], { env: gitEnv });
}

function hasTmux(): boolean {
  const found = spawnSync("tmux", ["-V"]).status === 0;
  if (!found && process.env.CI === "true") throw new Error("tmux is missing: .ci/run installs it with apt-get");
  return found;
}
const sockets: string[] = [];
afterAll(() => sockets.forEach((s) => spawnSync("tmux", ["-S", s, "kill-server"])));

describe("status --watch", () => {
  it("refuses options that do not go together", () => {
    const { repo } = started();
    expect(runHelper(["status", "--interval", "5"], { cwd: repo })).toMatchObject({ code: 2, stderr: expect.stringContaining("--interval goes with --watch") });
    expect(runHelper(["status", "--watch", "--json"], { cwd: repo }).code).toBe(2);
    expect(runHelper(["status", "--watch", "--interval", "0"], { cwd: repo })).toMatchObject({ code: 2, stderr: expect.stringContaining("--interval must be a number of seconds") });
  });

  it("not on a terminal: the report once, then one line per change, no redraw codes; Ctrl-C ends it with exit 0", async () => {
    const { repo, api } = started();
    const child = spawn(process.execPath, [HELPER, "status", "add-login", "--watch", "--interval", "0.2"], { cwd: repo, env: gitEnv });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    expect(await waitUntil(() => out.includes("# Status: Add login"), 60_000), out).toBe(true);
    commit(api, "src/api/login.ts");
    expect(await waitUntil(() => /\d\d:\d\d:\d\d add-login: api: 1 commit ahead, last: Add src\/api\/login.ts\n/.test(out), 60_000), out).toBe(true);
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(out).not.toContain("\x1b");
    expect(out.match(/# Status:/g)).toHaveLength(1);
  });

  it.skipIf(!hasTmux())("on a terminal: the report is redrawn in place", async () => {
    const { repo, api } = started();
    const socket = join(tempDir(), "tmux.sock");
    sockets.push(socket);
    const tmux = (...args: string[]) => spawnSync("tmux", ["-S", socket, ...args], { encoding: "utf8", env: gitEnv });
    const command = `cd '${repo}' && '${process.execPath}' '${HELPER}' status add-login --watch --interval 0.2`;
    expect(tmux("new-session", "-d", "-s", "watch", "-x", "200", "-y", "60", command).status).toBe(0);
    const pane = () => tmux("capture-pane", "-p", "-t", "watch").stdout;
    expect(await waitUntil(() => pane().includes("Watching every 0.2 s"), 60_000), pane()).toBe(true);
    commit(api, "src/api/login.ts");
    expect(await waitUntil(() => pane().includes("| 1 ahead |"), 60_000), pane()).toBe(true);
    // In place: one report on the screen, not one appended per look.
    expect(pane().match(/# Status:/g)).toHaveLength(1);
  });
});
