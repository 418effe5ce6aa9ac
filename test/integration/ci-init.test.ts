import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HELPER, runHelper } from "../helpers/cli.js";
import { git, makeRepo } from "../helpers/git.js";

const WORKFLOW = ".github/workflows/claude-parallel.yml";

describe("ci init", () => {
  it("writes the workflow and a copy of the helper, says unchanged the second time, refuses a different file without --force", () => {
    const repo = makeRepo({ name: "ciinit" });
    const first = runHelper(["ci", "init", "--runner", "self-hosted,linux", "--max-parallel", "3"], { cwd: repo });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`wrote ${WORKFLOW}`);
    expect(first.stdout).toMatch(/wrote \.github\/claude-parallel\/scripts\/ \(\d+ files of the helper\)/);
    const text = readFileSync(join(repo, WORKFLOW), "utf8");
    expect(text).toContain('runs-on: ["self-hosted", "linux"]');
    expect(text).toContain("max-parallel: 3");
    expect(text).toContain('HELPER: ".github/claude-parallel/scripts/parallel.mjs"');
    // The copy is the running helper, entry and chunks: it runs on its own.
    const copy = join(repo, ".github/claude-parallel/scripts/parallel.mjs");
    expect(readFileSync(copy, "utf8")).toBe(readFileSync(HELPER, "utf8"));
    expect(runHelper(["--version"], { cwd: repo, helper: copy }).code).toBe(0);

    const again = runHelper(["ci", "init", "--runner", "self-hosted,linux", "--max-parallel", "3"], { cwd: repo });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`unchanged ${WORKFLOW}`);
    expect(again.stdout).toContain("Nothing changed");

    const other = runHelper(["ci", "init"], { cwd: repo });
    expect(other.code).toBe(4);
    expect(other.stderr).toContain(`${WORKFLOW} exists and differs`);
    expect(readFileSync(join(repo, WORKFLOW), "utf8")).toBe(text);

    const dry = runHelper(["ci", "init", "--force", "--dry-run"], { cwd: repo });
    expect(dry.stdout).toContain(`would have replaced ${WORKFLOW}`);
    expect(readFileSync(join(repo, WORKFLOW), "utf8")).toBe(text);

    const forced = runHelper(["ci", "init", "--force", "--on-last", "none"], { cwd: repo });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain(`replaced ${WORKFLOW}`);
    expect(readFileSync(join(repo, WORKFLOW), "utf8")).not.toContain("finish");
  });

  it("runs the plugin a repository commits instead of copying the helper", () => {
    const repo = makeRepo({ name: "ciplugin" });
    mkdirSync(join(repo, "plugin/scripts"), { recursive: true });
    writeFileSync(join(repo, "plugin/scripts/parallel.mjs"), "// the committed plugin\n");
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "plugin");
    const r = runHelper(["ci", "init"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(repo, WORKFLOW), "utf8")).toContain('HELPER: "plugin/scripts/parallel.mjs"');
    expect(existsSync(join(repo, ".github/claude-parallel"))).toBe(false);
  });

  it.each([
    [["ci", "init", "--runner", "ubuntu-latest;rm -rf /"], "--runner"],
    [["ci", "init", "--max-parallel", "0"], "--max-parallel"],
    [["ci", "init", "--max-parallel", "300"], "--max-parallel"],
    [["ci", "init", "--engine", "gitlab"], "--engine"],
    [["ci", "init", "--on-last", "merge"], "--on-last"],
    [["ci", "frobnicate"], "unknown ci subcommand"],
  ])("refuses bad arguments with exit 2: %j", (args, says) => {
    const repo = makeRepo({ name: "cibad" });
    const r = runHelper(args, { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(says);
    expect(existsSync(join(repo, ".github"))).toBe(false);
  });
});
