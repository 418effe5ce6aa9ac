import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sandboxAvailable } from "../helpers/claude.js";
import { runHelper } from "../helpers/cli.js";
import { git, makeRepo } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";

/** The sandbox settings `start` gives the sessions it launches (the sandbox itself: test/e2e/sandbox.test.ts). */

const plan = (extra = "") => `version: 1\nfeature: Add login\n${extra}tasks:\n  - {id: api, title: Login API, owns: [src/api/]}\n  - {id: ui, title: Login form, owns: [src/ui/]}\n`;

function repoWith(planText: string) {
  const repo = makeRepo({ name: "shop", files: { "README.md": "# shop\n", ".parallel/add-login/plan.yaml": planText } });
  return { repo, common: join(realpathSync(repo), ".git") };
}

/** A PATH with git and nothing else: no bubblewrap, no socat. */
function pathWithoutSandbox(): string {
  const bin = tempDir();
  symlinkSync(spawnSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).stdout.trim(), join(bin, "git"));
  return bin;
}

describe("Claude Code's sandbox for the sessions start launches", () => {
  it.skipIf(!sandboxAvailable())("auto, where it runs: each printed command carries settings in the feature's state that deny what git would leave writable", () => {
    const { repo, common } = repoWith(plan());
    const userIgnore = join(tempDir(), "ignore");
    writeFileSync(userIgnore, "*.swp\n");
    git(repo, "config", "core.excludesFile", userIgnore);
    const r = runHelper(["start", "--deps", "none", "--launch", "print"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const settingsOf = (task: string) => join(common, "parallel/add-login/sandbox", `${task}.json`);
    expect(r.stdout).toContain(`claude '--settings' '${settingsOf("api")}' "$(cat .claude-parallel/brief.md)"`);
    expect(r.stdout).toContain("Each session runs its Bash commands in Claude Code's sandbox");
    const settings = JSON.parse(readFileSync(settingsOf("api"), "utf8"));
    // Confinement only: no permission is added (no autoAllowBashIfSandboxed), none may be asked around it.
    const ignore = join(common, "parallel/add-login/sandbox/api.gitignore");
    expect(settings).toEqual({
      env: { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "core.excludesFile", GIT_CONFIG_VALUE_0: ignore },
      sandbox: { enabled: true, failIfUnavailable: true, allowUnsandboxedCommands: false, filesystem: { denyWrite: expect.any(Array) } },
    });
    // The sessions' git ignores the sandbox's placeholders, and still what the user ignores.
    expect(readFileSync(ignore, "utf8")).toContain("/.bashrc\n");
    expect(readFileSync(ignore, "utf8").endsWith("*.swp\n")).toBe(true);
    const ui = realpathSync(join(repo, "..", "shop-add-login-ui"));
    expect([...settings.sandbox.filesystem.denyWrite].sort()).toEqual(
      [
        join(common, "parallel"),
        join(common, "worktrees/shop-add-login-api/claude-parallel-task.json"),
        ui,
        join(common, "refs/heads/main"),
        join(common, "refs/heads/feature/add-login"),
        join(common, "refs/heads/feature/add-login-ui"),
        join(common, "packed-refs"),
        join(common, "HEAD"),
        join(common, "index"),
        join(common, "objects/pack"),
        join(common, "info"),
        join(common, "objects/info"),
        join(common, "refs/replace"),
      ].sort(),
    );
    // packed-refs did not exist: an empty one (no packed refs, as git reads it) was made to be denied.
    expect(readFileSync(join(common, "packed-refs"), "utf8")).toBe("");
    expect(git(repo, "for-each-ref", "--format=%(refname)")).toContain("refs/heads/feature/add-login-api");
  });

  it("off: no settings; on without bubblewrap and socat: refused before anything changes; auto without them: said once, plainly", () => {
    const off = repoWith(plan("sandbox: off\n"));
    const r = runHelper(["start", "--deps", "none", "--launch", "print"], { cwd: off.repo });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain("--settings");
    expect(r.stdout).not.toContain("sandbox");
    expect(existsSync(join(off.common, "parallel/add-login/sandbox"))).toBe(false);

    const PATH = pathWithoutSandbox();
    const on = repoWith(plan("sandbox: on\n"));
    const refused = runHelper(["start", "--deps", "none", "--launch", "print"], { cwd: on.repo, env: { PATH } });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain("the plan asks for Claude Code's sandbox (sandbox: on), which needs bubblewrap (bwrap) and socat, not installed here");
    expect(refused.stderr).toContain("apt-get install bubblewrap socat");
    expect(existsSync(join(on.common, "parallel/add-login/state.json"))).toBe(false);

    const auto = repoWith(plan());
    const noted = runHelper(["start", "--deps", "none", "--launch", "print"], { cwd: auto.repo, env: { PATH } });
    expect(noted.code, noted.stderr).toBe(0);
    expect(noted.stdout).not.toContain("--settings");
    expect(noted.stdout.match(/Claude Code's sandbox is not available here \(it needs bubblewrap \(bwrap\) and socat\)/g)).toHaveLength(1);
  });

  it.skipIf(!sandboxAvailable())("a ref held only in packed-refs gets a loose file with the same commit, which is denied: a session cannot shadow it", () => {
    const { repo, common } = repoWith(plan());
    git(repo, "branch", "feature/add-login-ui", "main");
    git(repo, "pack-refs", "--all");
    const main = git(repo, "rev-parse", "refs/heads/main");
    const r = runHelper(["start", "--deps", "none", "--launch", "print"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const denied: string[] = JSON.parse(readFileSync(join(common, "parallel/add-login/sandbox/api.json"), "utf8")).sandbox.filesystem.denyWrite;
    expect(denied).toContain(join(common, "packed-refs"));
    expect(denied).toContain(join(common, "refs/heads/main"));
    expect(denied).toContain(join(common, "refs/heads/feature/add-login-ui"));
    expect(readFileSync(join(common, "refs/heads/main"), "utf8")).toBe(`${main}\n`);
    expect(git(repo, "rev-parse", "refs/heads/main")).toBe(main);
    expect(git(repo, "status", "--porcelain")).toBe("");
  });
});
