import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, symlinkSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { makeRepo } from "../helpers/git.js";
import { OLD_NODE_VERSION, oldNodeAvailable, oldNodeBinary } from "../helpers/old-node.js";
import { PLUGIN_DIR, REPO_ROOT } from "../helpers/paths.js";
import { tempDir } from "../helpers/tmp.js";

/** Runs a `claude-parallel` launcher the way a shell finds it on the PATH. */
function launch(launcher: string, args: string[], options: { cwd?: string; path?: string } = {}) {
  const r = spawnSync(launcher, args, { cwd: options.cwd ?? makeRepo(), env: { ...process.env, PATH: options.path ?? process.env.PATH }, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const which = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();

/** The launcher as built from its source, bin/claude-parallel (which runs only from a plugin folder). */
const LAUNCHER = join(PLUGIN_DIR, "bin", "claude-parallel");

describe("bin/claude-parallel, the launcher a plugin install puts on Claude Code's PATH", () => {
  it.each(["plugin/bin/claude-parallel", relative(REPO_ROOT, LAUNCHER)])("%s is executable and runs the helper next to it", (launcher) => {
    expect(statSync(join(REPO_ROOT, launcher)).mode & 0o111).toBe(0o111);
    const r = launch(join(REPO_ROOT, launcher), ["--version"]);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.code).toBe(0);
  });

  it("runs from a copy of plugin/ at a path with spaces (the plugin cache), and the context names that copy's helper", () => {
    const copy = join(tempDir(), "plugins cache", "parallel 0.1.0");
    cpSync(PLUGIN_DIR, copy, { recursive: true });
    const r = launch(join(copy, "bin", "claude-parallel"), ["context"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Absolute path: ${join(copy, "scripts", "parallel.mjs")}\n`);
  });

  it("follows symlinks to its real location, as `npm install -g` or a user's ~/bin link would make", () => {
    const links = tempDir();
    mkdirSync(join(links, "a"));
    symlinkSync(LAUNCHER, join(links, "a", "claude-parallel"));
    symlinkSync("a/claude-parallel", join(links, "claude-parallel"));
    const r = launch(join(links, "claude-parallel"), ["context"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Absolute path: ${join(PLUGIN_DIR, "scripts", "parallel.mjs")}\n`);
  });

  it("without node on the PATH: says so, exit 3; `context` gives /parallel a Problems block instead, exit 0", () => {
    const path = tempDir();
    for (const tool of ["dirname", "readlink"]) symlinkSync(which(tool), join(path, tool));
    const plan = launch(LAUNCHER, ["plan", "x"], { path });
    expect(plan.stderr).toBe("claude-parallel: claude-parallel needs Node.js 20 or newer, and there is no node on the PATH. Install Node.js 20+ and run it again.\n");
    expect(plan.code).toBe(3);
    const context = launch(LAUNCHER, ["context"], { path });
    expect(context.stdout).toBe("# claude-parallel context\n\n## Problems\n\n- claude-parallel needs Node.js 20 or newer, and there is no node on the PATH. Install Node.js 20+ and run it again.\n");
    expect(context.code).toBe(0);
  });

  it.skipIf(!oldNodeAvailable())(`with a real Node ${OLD_NODE_VERSION} first on the PATH: the helper's own guard answers`, () => {
    const r = launch(LAUNCHER, ["plan", "x"], { path: `${dirname(oldNodeBinary())}:${process.env.PATH}` });
    expect(r.stderr).toContain(`needs Node.js 20 or newer; this is Node.js v${OLD_NODE_VERSION}`);
    expect(r.code).toBe(3);
  });

  const shellcheck = spawnSync("shellcheck", ["--version"]).status === 0;
  if (!shellcheck && process.env.CI === "true") throw new Error("shellcheck is missing: .ci/run installs it with apt-get");
  it.skipIf(!shellcheck)("passes shellcheck", () => {
    const r = spawnSync("shellcheck", ["--shell=sh", "--severity=style", join(REPO_ROOT, "bin", "claude-parallel")], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
