import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HELPER, runHelper } from "../helpers/cli.js";
import { gitEnv } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";

describe("plan files that are not regular files", () => {
  it("refuses a FIFO without opening it (it would wait for a writer forever)", () => {
    const dir = tempDir();
    const fifo = join(dir, "plan.yaml");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    // Bounded: a helper that opens the FIFO blocks, and is killed after 20 s instead of hanging the run.
    const r = spawnSync(process.execPath, [HELPER, "plan", fifo], { cwd: dir, env: gitEnv, encoding: "utf8", timeout: 20_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("plan.yaml: is a named pipe (FIFO), not a plan file");
    expect(r.stderr).toContain("fix: give the path of a plan.yaml file");
  });

  it("refuses a character device", () => {
    const r = runHelper(["plan", "/dev/null"], { cwd: tempDir() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("/dev/null: is a character device, not a plan file");
  });
});
