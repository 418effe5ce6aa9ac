import { execFileSync, spawn, spawnSync } from "node:child_process";
import { rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HELPER, runHelper } from "../helpers/cli.js";
import { startedFeature, syncedFeature } from "../helpers/feature.js";
import { waitUntil } from "../helpers/wait.js";
import { gitEnv } from "../helpers/git.js";

/**
 * `.claude-parallel/requests.md` is written by a task's session (a model running commands): status
 * reads it. A FIFO there blocked `status` (and `status --watch`) forever; a link to /dev/zero
 * would never end. Status reads only a regular file, not through a link, and only its start;
 * terminal escapes in it arrive escaped.
 */
describe("status and a hostile requests.md", () => {
  it("a FIFO or a link to /dev/zero reads as no request; escapes in a real one arrive escaped", () => {
    const { repo, wt } = startedFeature("reqfifo");
    writeFileSync(join(wt("a"), ".claude-parallel/requests.md"), "please \x1b]52;c;ZXZpbA==\x07 change \u202eshared.txt\n");
    execFileSync("mkfifo", [join(wt("b"), ".claude-parallel/requests.md")]);
    // The guard only turns a hang into a failure; the assertion is about the output.
    const r = spawnSync(process.execPath, [HELPER, "status"], { cwd: repo, env: gitEnv, encoding: "utf8", timeout: 60_000 });
    expect(r.signal, "status hung on the FIFO").toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("a asks other tasks (`.claude-parallel/requests.md`): please \\x1b]52;c;ZXZpbA==\\x07 change \\u202eshared.txt");
    expect(r.stdout).not.toContain("b asks other tasks");
    expect(r.stdout).not.toContain("\x1b");
  });

  it("a link to /dev/zero as requests.md reads as no request", () => {
    const { repo, wt } = startedFeature("reqzero");
    symlinkSync("/dev/zero", join(wt("a"), ".claude-parallel/requests.md"));
    const r = spawnSync(process.execPath, [HELPER, "status", "--json"], { cwd: repo, env: gitEnv, encoding: "utf8", timeout: 60_000, maxBuffer: 1 << 20 });
    expect(r.signal).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toContain("requests");
  });
});

describe("status --watch while the feature ends", () => {
  it("not on a terminal: a feature cleaned up while watched gets a line saying it is no longer reported", async () => {
    const { repo } = syncedFeature("watchclean");
    const child = spawn(process.execPath, [HELPER, "status", "--watch", "--interval", "0.2"], { cwd: repo, env: gitEnv });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    expect(await waitUntil(() => out.includes("# Status: Sync demo"), 60_000), out).toBe(true);
    expect(runHelper(["finish"], { cwd: repo }).code).toBe(0);
    expect(runHelper(["clean"], { cwd: repo }).code).toBe(0);
    // Observed before: nothing at all; the watcher went quiet as if the feature were still waiting.
    expect(await waitUntil(() => /\d\d:\d\d:\d\d demo: no longer reported/.test(out), 60_000), out).toBe(true);
    child.kill("SIGINT");
    expect(await exited).toBe(0);
  });
});

/**
 * status keeps its conflict prediction in <git-common-dir>/parallel/<slug>/status-prediction.json, a
 * cache: whatever is found there (a FIFO, a link to /dev/zero, a wrong shape) is computed again,
 * never waited on or read without end.
 */
describe("status and a hostile prediction cache", () => {
  const cachePath = (repo: string) => join(repo, ".git", "parallel", "demo", "status-prediction.json");
  const status = (repo: string) => spawnSync(process.execPath, [HELPER, "status", "--json"], { cwd: repo, env: gitEnv, encoding: "utf8", timeout: 60_000 });

  it("a FIFO, a link to /dev/zero or a file of the wrong shape is computed again", () => {
    const { repo, wt } = startedFeature("cachefifo");
    writeFileSync(join(wt("a"), "shared.txt"), "A\n");
    execFileSync("git", ["commit", "-qam", "a"], { cwd: wt("a"), env: gitEnv });
    writeFileSync(join(wt("b"), "shared.txt"), "B\n");
    execFileSync("git", ["commit", "-qam", "b"], { cwd: wt("b"), env: gitEnv });
    const expected = status(repo);
    expect(expected.status, expected.stderr).toBe(0);
    expect(expected.stdout).toContain("shared.txt");
    for (const place of [
      (p: string) => execFileSync("mkfifo", [p]),
      (p: string) => symlinkSync("/dev/zero", p),
      (p: string) => writeFileSync(p, JSON.stringify({ "1": { key: 7, conflicts: "no" } })),
    ]) {
      rmSync(cachePath(repo), { force: true });
      place(cachePath(repo));
      const r = status(repo);
      expect(r.signal, "status hung on the cache file").toBeNull();
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).phases, r.stdout).toEqual(JSON.parse(expected.stdout).phases);
    }
  });
});
