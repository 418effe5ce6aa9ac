import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HELPER, runHelper } from "../helpers/cli.js";
import { git, makeRepo } from "../helpers/git.js";

const WORKFLOW = ".github/workflows/claude-parallel.yml";

describe("ci init", () => {
  it("writes the workflow, the project's setup action and a copy of the plugin, says unchanged the second time, refuses a different file without --force, never replaces the setup", () => {
    const repo = makeRepo({ name: "ciinit" });
    const first = runHelper(["ci", "init", "--runner", "self-hosted,linux", "--max-parallel", "3", "--setup", "npm ci"], { cwd: repo });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`wrote ${WORKFLOW}`);
    expect(first.stdout).toMatch(/wrote \.github\/claude-parallel\/ \(\d+ files of the plugin\)/);
    const text = readFileSync(join(repo, WORKFLOW), "utf8");
    expect(text).toContain('runs-on: ["self-hosted", "linux"]');
    expect(text).toContain("max-parallel: 3");
    expect(text).toContain('HELPER: ".github/claude-parallel/plugin/scripts/parallel.mjs"');
    // The copy is the running plugin (helper, hooks, manifest) in a one-plugin marketplace: it runs on its own.
    const copy = join(repo, ".github/claude-parallel/plugin/scripts/parallel.mjs");
    expect(readFileSync(copy, "utf8")).toBe(readFileSync(HELPER, "utf8"));
    expect(runHelper(["--version"], { cwd: repo, helper: copy }).code).toBe(0);
    expect(existsSync(join(repo, ".github/claude-parallel/plugin/hooks/hooks.json"))).toBe(true);
    expect(JSON.parse(readFileSync(join(repo, ".github/claude-parallel/.claude-plugin/marketplace.json"), "utf8"))).toMatchObject({
      name: "claude-parallel",
      plugins: [{ name: "parallel", source: "./plugin" }],
    });
    const setup = join(repo, ".github/actions/claude-parallel-setup/action.yml");
    expect(readFileSync(setup, "utf8")).toContain('- run: "npm ci"');
    // The setup is the user's from now on: kept by every later ci init, --force included.
    writeFileSync(setup, readFileSync(setup, "utf8").replace('"npm ci"', '"npm ci && npm run build"'));

    const again = runHelper(["ci", "init", "--runner", "self-hosted,linux", "--max-parallel", "3"], { cwd: repo });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`unchanged ${WORKFLOW}`);
    expect(again.stdout).toContain("Nothing changed");

    const other = runHelper(["ci", "init"], { cwd: repo });
    expect(other.code).toBe(4);
    expect(other.stderr).toContain(`${WORKFLOW} exists and differs`);
    expect(readFileSync(join(repo, WORKFLOW), "utf8")).toBe(text);

    const dry = runHelper(["ci", "init", "--force", "--dry-run"], { cwd: repo });
    expect(dry.stdout).toContain(`Dry run of claude-parallel ci init: nothing is changed. It would:\n  replace ${WORKFLOW}\n`);
    expect(readFileSync(join(repo, WORKFLOW), "utf8")).toBe(text);

    const forced = runHelper(["ci", "init", "--force", "--on-last", "none", "--setup", "make"], { cwd: repo });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain(`replaced ${WORKFLOW}`);
    expect(forced.stdout).toContain("kept .github/actions/claude-parallel-setup/action.yml");
    expect(readFileSync(join(repo, WORKFLOW), "utf8")).not.toContain("finish");
    expect(readFileSync(setup, "utf8")).toContain("npm ci && npm run build");
  });

  it("with --source, takes the helper from a pinned repository, checked against this helper's digest, and copies nothing", () => {
    const repo = makeRepo({ name: "cisource" });
    const commit = "0123456789abcdef0123456789abcdef01234567";
    const r = runHelper(["ci", "init", "--source", `claude-parallel/claude-parallel@${commit}`], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(join(repo, WORKFLOW), "utf8");
    expect(text).toContain("repository: claude-parallel/claude-parallel");
    expect(text).toContain(`ref: ${commit}`);
    // The digest is the one sha256sum gives over the helper's files (the workflow checks it so).
    const digest = execFileSync("bash", ["-c", "cd scripts && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1"], { cwd: join(HELPER, "../.."), encoding: "utf8" }).trim();
    expect(text).toContain(`if [ "$digest" != ${digest} ]`);
    expect(existsSync(join(repo, ".github/claude-parallel"))).toBe(false);
    expect(runHelper(["ci", "init", "--source", "x@$(id)"], { cwd: repo }).code).toBe(2);
  });

  it("runs the plugin a repository commits (with its marketplace) instead of copying it", () => {
    const repo = makeRepo({ name: "ciplugin" });
    mkdirSync(join(repo, "plugin/scripts"), { recursive: true });
    mkdirSync(join(repo, ".claude-plugin"), { recursive: true });
    writeFileSync(join(repo, "plugin/scripts/parallel.mjs"), "// the committed plugin\n");
    writeFileSync(join(repo, ".claude-plugin/marketplace.json"), "{}\n");
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "plugin");
    const r = runHelper(["ci", "init"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(repo, WORKFLOW), "utf8")).toContain('HELPER: "plugin/scripts/parallel.mjs"');
    expect(readFileSync(join(repo, WORKFLOW), "utf8")).toContain("plugin_marketplaces: ${{ runner.temp }}/claude-parallel\n");
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
