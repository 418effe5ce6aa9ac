import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeFileAtomic } from "../../src/fs/atomic.js";
import { tempDir } from "../helpers/tmp.js";

describe("writeFileAtomic", () => {
  it("removes the temporary file a killed writer left beside the file (kill-start-1 seed 20262126), and keeps a living writer's", async () => {
    const dir = tempDir();
    const target = join(dir, ".env");
    // A process that has exited: its PID names a dead writer.
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;
    const living = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      const leftover = join(dir, `..env.claude-parallel-${dead}.tmp`);
      const inFlight = join(dir, `..env.claude-parallel-${living.pid}.tmp`);
      const other = join(dir, `..envx.claude-parallel-${dead}.tmp`);
      for (const f of [leftover, inFlight, other]) writeFileSync(f, "half\n");
      await writeFileAtomic(target, "A=1\n");
      expect(readFileSync(target, "utf8")).toBe("A=1\n");
      expect(existsSync(leftover)).toBe(false);
      expect(existsSync(inFlight)).toBe(true);
      expect(existsSync(other)).toBe(true); // another file's
    } finally {
      living.kill("SIGKILL");
    }
  });
});
