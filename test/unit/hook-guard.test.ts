import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decideEdit, editedFile, resolveTarget, type Target } from "../../src/hooks/guard.js";
import type { TaskManifest } from "../../src/hooks/manifest.js";

const manifest = (extra: Partial<TaskManifest> = {}): TaskManifest => ({
  version: 1,
  slug: "add-login",
  feature: "Add login",
  task: "api",
  role: "Api",
  title: "Login API",
  phase: 1,
  phases: 2,
  branch: "feature/add-login-api",
  owns: ["src/api/"],
  produces: ["contracts/api.yaml"],
  consumes: [],
  port: 41000,
  stateDir: "/repo/.git/parallel/add-login",
  enforceOwns: "deny",
  others: [
    { task: "ui", role: "UI", phase: 1, paths: ["src/ui/", "src/**/*.css"] },
    { task: "qa", role: "QA", phase: 2, paths: ["test/"] },
  ],
  brief: ".claude-parallel/brief.md",
  ...extra,
});

/** A worktree in a temp folder with src/api and a sibling folder outside it. */
function worktree() {
  const base = realpathSync(mkdtempSync(join(tmpdir(), "cp-guard-")));
  const root = join(base, "wt");
  mkdirSync(join(root, "src/api"), { recursive: true });
  mkdirSync(join(base, "outside"));
  return { base, root };
}

const inside = (path: string): Target => ({ inside: path });

describe("resolveTarget: where an edit lands", () => {
  it("resolves relative paths against the session's folder, absolute ones as they are", () => {
    const { root } = worktree();
    expect(resolveTarget(root, root, "src/api/a.ts")).toEqual(inside("src/api/a.ts"));
    expect(resolveTarget(root, join(root, "src"), "api/a.ts")).toEqual(inside("src/api/a.ts"));
    expect(resolveTarget(root, root, join(root, "src/ui/new/deep.ts"))).toEqual(inside("src/ui/new/deep.ts"));
  });

  it("folds `..`, and a path that climbs out of the worktree is outside", () => {
    const { base, root } = worktree();
    expect(resolveTarget(root, root, "src/ui/../api/a.ts")).toEqual(inside("src/api/a.ts"));
    expect(resolveTarget(root, root, "src/api/../../../outside/x")).toEqual({ outside: join(base, "outside/x") });
    expect(resolveTarget(root, root, "/etc/passwd")).toEqual({ outside: "/etc/passwd" });
    expect(resolveTarget(root, root, ".")).toEqual({ outside: root });
  });

  it("follows symbolic links: a link inside the worktree that leads out is outside; one that stays in lands where it points", () => {
    const { base, root } = worktree();
    symlinkSync(join(base, "outside"), join(root, "src/api/escape"));
    symlinkSync(join(root, "src/ui-real"), join(root, "src/ui"));
    mkdirSync(join(root, "src/ui-real"));
    writeFileSync(join(base, "outside/target.txt"), "x");
    symlinkSync(join(base, "outside/target.txt"), join(root, "src/api/file-link"));
    symlinkSync(join(base, "nowhere"), join(root, "src/api/dangling"));
    expect(resolveTarget(root, root, "src/api/escape/x.ts")).toEqual({ outside: join(base, "outside/x.ts") });
    expect(resolveTarget(root, root, "src/api/file-link")).toEqual({ outside: join(base, "outside/target.txt") });
    expect(resolveTarget(root, root, "src/api/dangling")).toEqual({ outside: join(root, "src/api/dangling") });
    expect(resolveTarget(root, root, "src/ui/form.ts")).toEqual(inside("src/ui-real/form.ts"));
  });

  it("keeps the case the file system has: on a case-sensitive one `SRC/API` is another folder", () => {
    const { root } = worktree();
    const caseSensitive = (() => {
      try {
        realpathSync(join(root, "SRC"));
        return false;
      } catch {
        return true;
      }
    })();
    const target = resolveTarget(root, root, "SRC/API/a.ts");
    if (caseSensitive) {
      expect(target).toEqual(inside("SRC/API/a.ts"));
      expect(decideEdit(manifest(), target, root).kind).toBe("deny");
    } else {
      expect(target).toEqual(inside("src/api/a.ts"));
      expect(decideEdit(manifest(), target, root).kind).toBe("allow");
    }
  });
});

describe("decideEdit: the answer", () => {
  const root = "/wt";
  it("allows the task's owned paths, its produced contracts and .claude-parallel/", () => {
    for (const p of ["src/api/a.ts", "src/api/deep/b.ts", "contracts/api.yaml", ".claude-parallel/requests.md"]) {
      expect(decideEdit(manifest(), inside(p), root), p).toEqual({ kind: "allow" });
    }
  });

  it("refuses another task's path, naming the owner and what to do instead", () => {
    const d = decideEdit(manifest(), inside("src/ui/form.ts"), root);
    expect(d.kind).toBe("deny");
    const reason = "reason" in d ? d.reason : "";
    expect(reason).toContain("src/ui/form.ts");
    expect(reason).toContain("task `ui` (the UI session, phase 1)");
    expect(reason).toContain(".claude-parallel/requests.md");
    expect(reason).not.toContain("task `qa`");
    // Globs match as in the sync: a CSS file anywhere under src/ belongs to ui.
    expect(decideEdit(manifest(), inside("src/lib/x.css"), root)).toMatchObject({ reason: expect.stringContaining("task `ui`") });
  });

  it("refuses a path no task owns, and one outside the worktree, saying so", () => {
    expect(decideEdit(manifest(), inside("docs/readme.md"), root)).toMatchObject({ kind: "deny", reason: expect.stringContaining("no task of the plan owns it") });
    expect(decideEdit(manifest(), { outside: "/etc/hosts" }, root)).toMatchObject({ kind: "deny", reason: expect.stringContaining("/etc/hosts is outside this task's worktree (/wt)") });
  });

  it("asks instead with enforceOwns: ask, and lets everything through with off; a task that owns nothing is unrestricted", () => {
    expect(decideEdit(manifest({ enforceOwns: "ask" }), inside("src/ui/form.ts"), root).kind).toBe("ask");
    expect(decideEdit(manifest({ enforceOwns: "off" }), inside("src/ui/form.ts"), root).kind).toBe("allow");
    expect(decideEdit(manifest({ owns: [], produces: [] }), inside("src/ui/form.ts"), root).kind).toBe("allow");
    expect(decideEdit(manifest({ owns: [], produces: [] }), { outside: "/etc/hosts" }, root).kind).toBe("allow");
  });

  it("finds the edited file in each tool's input", () => {
    expect(editedFile({ file_path: "a.ts", content: "x" })).toBe("a.ts");
    expect(editedFile({ notebook_path: "n.ipynb" })).toBe("n.ipynb");
    expect(editedFile({ command: "ls" })).toBeUndefined();
    expect(editedFile(null)).toBeUndefined();
  });
});
