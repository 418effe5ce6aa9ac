import { existsSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseTaskManifest } from "../../src/session/manifest.js";
import { runHelper } from "../helpers/cli.js";
import { git, makeRepo } from "../helpers/git.js";

const PLAN = "version: 1\nfeature: Add login\nenforceOwns: ask\ntasks:\n  - {id: api, title: Login API, owns: [src/api/], verify: npm test}\n  - {id: ui, title: Login form, owns: [src/ui/]}\n";

describe("start writes the task rules", () => {
  it("into each task worktree's own git directory, naming the worktree and the feature's state folder; nothing into the worktree", () => {
    const repo = makeRepo({ name: "shop", files: { "README.md": "# shop\n", ".parallel/add-login/plan.yaml": PLAN } });
    const r = runHelper(["start"], { cwd: repo });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    for (const id of ["api", "ui"]) {
      const wt = realpathSync(join(repo, "..", `shop-add-login-${id}`));
      const gitDir = git(wt, "rev-parse", "--absolute-git-dir");
      expect(gitDir).toBe(join(realpathSync(repo), ".git/worktrees", `shop-add-login-${id}`));
      const manifest = parseTaskManifest(readFileSync(join(gitDir, "claude-parallel-task.json"), "utf8"));
      const env = readFileSync(join(wt, ".claude-parallel/env"), "utf8");
      expect(manifest).toMatchObject({ slug: "add-login", task: id, phase: 1, branch: `feature/add-login-${id}`, owns: [`src/${id}/`], enforceOwns: "ask", brief: ".claude-parallel/brief.md" });
      expect(manifest!.stateDir).toBe(join(realpathSync(repo), ".git/parallel/add-login"));
      expect(manifest).toMatchObject({ worktree: wt, commonDir: join(realpathSync(repo), ".git") });
      expect(env).toContain(`PARALLEL_PORT=${manifest!.port}\n`);
      expect(manifest!.others.map((o) => o.task)).toEqual([id === "api" ? "ui" : "api"]);
      expect(existsSync(join(wt, ".claude-parallel/task.json"))).toBe(false);
    }
  });
});
