import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { makeRepo } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";

/**
 * `ci init` writes .github/workflows/claude-parallel.yml and the helper's copy under .github/.
 * A .github that is a link out of the repository used to be written through (63 files outside
 * the repository, and a `git add` that then fails); a workflow path that is a folder gave exit 3
 * "read failed: EISDIR" with no path. Each is now one refusal (exit 4) naming the path, with
 * nothing written anywhere.
 */
describe("ci init over hostile .github shapes", () => {
  it("a .github linked out of the repository: refused, nothing written there", () => {
    const repo = makeRepo({ name: "cilink" });
    const outside = tempDir("attack-outside-");
    symlinkSync(outside, join(repo, ".github"));
    const r = runHelper(["ci", "init"], { cwd: repo });
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stderr).toContain("through a symbolic link");
    expect(readdirSync(outside)).toEqual([]);
  });

  it("the workflow path is a folder or a link: refused with the path, nothing written", () => {
    const repo = makeRepo({ name: "cidir" });
    mkdirSync(join(repo, ".github/workflows/claude-parallel.yml"), { recursive: true });
    const dir = runHelper(["ci", "init", "--force"], { cwd: repo });
    expect(dir.code, dir.stdout + dir.stderr).toBe(4);
    expect(dir.stderr).toContain(".github/workflows/claude-parallel.yml is a folder");
    expect(existsSync(join(repo, ".github/claude-parallel"))).toBe(false);

    const linked = makeRepo({ name: "cilinkfile" });
    mkdirSync(join(linked, ".github/workflows"), { recursive: true });
    symlinkSync("../../README.md", join(linked, ".github/workflows/claude-parallel.yml"));
    const link = runHelper(["ci", "init", "--force"], { cwd: linked });
    expect(link.code, link.stdout + link.stderr).toBe(4);
    expect(link.stderr).toContain("is a symbolic link");
    expect(readFileSync(join(linked, "README.md"), "utf8")).toBe("# app\n");
  });

  it("--dry-run says what it would have written, in English", () => {
    const repo = makeRepo({ name: "cidry" });
    const r = runHelper(["ci", "init", "--dry-run"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    // Observed: "would have wrote .github/workflows/claude-parallel.yml".
    expect(r.stdout).toContain("It would:\n  write .github/workflows/claude-parallel.yml\n");
    expect(existsSync(join(repo, ".github"))).toBe(false);
  });
});
