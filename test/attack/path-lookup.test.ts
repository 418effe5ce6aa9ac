import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { startedFeature } from "../helpers/feature.js";
import { git } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";

/**
 * A folder named `claude` in a PATH entry before the real command (a checkout called claude in
 * ~/bin, say): the shell skips it, and so must claude-parallel. Seen: `run` took the folder for
 * the command and stopped with "claude could not be started ... (exit 127)".
 */
describe("looking up claude on PATH", () => {
  it("skips a folder named claude and runs the command found after it", () => {
    const { repo } = startedFeature("pathdir");
    const shadow = tempDir("attack-shadow-");
    mkdirSync(join(shadow, "claude"));
    const bin = tempDir("attack-claude-");
    writeFileSync(
      join(bin, "claude"),
      [
        "#!/bin/sh",
        "id=${PWD##*-}",
        'mkdir -p "$id" && echo "work" > "$id/x.txt" && git add -A >/dev/null 2>&1 && git commit -qm "work $id" >/dev/null 2>&1',
        `echo '{"type":"result","subtype":"success","is_error":false,"session_id":"s","total_cost_usd":0.01}'`,
        "",
      ].join("\n"),
    );
    chmodSync(join(bin, "claude"), 0o755);
    const r = runHelper(["run", "--no-finish"], { cwd: repo, env: { PATH: `${shadow}:${bin}:${process.env.PATH}` } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(git(repo, "ls-tree", "-r", "--name-only", "feature/demo")).toContain("c/x.txt");
  });
});
