import { execFileSync, spawnSync } from "node:child_process";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HELPER } from "../helpers/cli.js";
import { startedFeature } from "../helpers/feature.js";
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
