import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decideEdit, editedFile, protectedPath, resolveTarget, type Protected, type Target } from "../../src/hooks/guard.js";
import type { TaskManifest } from "../../src/session/manifest.js";

const manifest = (extra: Partial<TaskManifest> = {}): TaskManifest => ({
  version: 2,
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
  worktree: "/wt",
  commonDir: "/repo/.git",
  ...extra,
});

const PROTECT: Protected = { gitDirs: ["/repo/.git", "/repo/.git/worktrees/wt"], home: "/home/u", configDir: "/home/u/.claude" };

/** decideEdit in the worktree /wt (no links: the path as named is where it lands), or `named` when given. */
const decide = (m: TaskManifest, target: Target, named?: string, root = "/wt") =>
  decideEdit(m, target, { named: named ?? ("inside" in target ? join(root, target.inside) : target.outside), root, realRoot: root, protect: PROTECT });

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
      expect(decide(manifest(), target, undefined, root).kind).toBe("deny");
    } else {
      expect(target).toEqual(inside("src/api/a.ts"));
      expect(decide(manifest(), target, undefined, root).kind).toBe("allow");
    }
  });
});

describe("decideEdit: the answer", () => {
  it("allows the task's owned paths, its produced contracts and its requests file", () => {
    for (const p of ["src/api/a.ts", "src/api/deep/b.ts", "contracts/api.yaml", ".claude-parallel/requests.md"]) {
      expect(decide(manifest(), inside(p)), p).toEqual({ kind: "allow" });
    }
  });

  it("refuses another task's path, naming the owner and what to do instead", () => {
    const d = decide(manifest(), inside("src/ui/form.ts"));
    expect(d.kind).toBe("deny");
    const reason = "reason" in d ? d.reason : "";
    expect(reason).toContain("src/ui/form.ts");
    expect(reason).toContain("task `ui` (the UI session, phase 1)");
    expect(reason).toContain(".claude-parallel/requests.md");
    expect(reason).not.toContain("task `qa`");
    // Globs match as in the sync: a CSS file anywhere under src/ belongs to ui.
    expect(decide(manifest(), inside("src/lib/x.css"))).toMatchObject({ reason: expect.stringContaining("task `ui`") });
  });

  it("refuses a path no task owns, and one outside the worktree, saying so", () => {
    expect(decide(manifest(), inside("docs/readme.md"))).toMatchObject({ kind: "deny", reason: expect.stringContaining("no task of the plan owns it") });
    expect(decide(manifest(), { outside: "/etc/hosts" })).toMatchObject({ kind: "deny", reason: expect.stringContaining("/etc/hosts is outside this task's worktree (/wt)") });
  });

  it("asks instead with enforceOwns: ask, and lets everything through with off; a task that owns nothing is unrestricted", () => {
    expect(decide(manifest({ enforceOwns: "ask" }), inside("src/ui/form.ts")).kind).toBe("ask");
    expect(decide(manifest({ enforceOwns: "off" }), inside("src/ui/form.ts")).kind).toBe("allow");
    expect(decide(manifest({ owns: [], produces: [] }), inside("src/ui/form.ts")).kind).toBe("allow");
    expect(decide(manifest({ owns: [], produces: [] }), { outside: "/etc/hosts" }).kind).toBe("allow");
  });

  it("refuses protected paths whatever owns and enforceOwns say, saying why", () => {
    const loose = [
      manifest(),
      manifest({ enforceOwns: "off" }),
      manifest({ enforceOwns: "ask" }),
      manifest({ owns: [], produces: [] }),
      manifest({ owns: [".claude/", ".claude-parallel/", ".git/", "**"] }),
    ];
    const cases: Array<[Target, string]> = [
      [inside(".claude-parallel/brief.md"), "claude-parallel wrote it for this session"],
      [inside(".claude-parallel/task.json"), "the one file there that is the session's is .claude-parallel/requests.md"],
      [inside(".claude-parallel/env"), "claude-parallel wrote it"],
      [inside(".git"), "the worktree's link to its git directory"],
      [inside(".git/config"), "the worktree's link to its git directory"],
      [inside(".claude/settings.json"), "Claude Code settings file"],
      [inside(".claude/settings.local.json"), "could widen the session's permissions or turn off its hooks"],
      [inside("packages/web/.claude/settings.json"), "Claude Code settings file"],
      [{ outside: "/repo/.git/worktrees/wt/claude-parallel-task.json" }, "inside the repository's git directory (/repo/.git)"],
      [{ outside: "/repo/.git/parallel/add-login/state.json" }, "the feature's state and this task's rules"],
      [{ outside: "/repo/.git/refs/heads/feature/add-login" }, "refs, hooks and config"],
      [{ outside: "/repo/.git/hooks/pre-commit" }, "inside the repository's git directory"],
      [{ outside: "/repo/.git" }, "inside the repository's git directory"],
      [{ outside: "/repo/.claude/settings.local.json" }, "Claude Code settings file"],
      [{ outside: "/home/u/.claude/settings.json" }, "Claude Code settings file"],
      [{ outside: "/etc/claude-code/managed-settings.json" }, "Claude Code settings file"],
      [{ outside: "/etc/claude-code/managed-settings.d/10-x.json" }, "Claude Code settings file"],
      [{ outside: "/home/u/.claude.json" }, "Claude Code's own configuration"],
    ];
    for (const m of loose) {
      for (const [target, why] of cases) {
        const d = decide(m, target);
        expect(d, JSON.stringify([m.owns, m.enforceOwns, target])).toMatchObject({ kind: "deny", reason: expect.stringContaining(why) });
        expect("reason" in d && d.reason).toContain("is protected");
      }
      expect(decide(m, inside(".claude-parallel/requests.md")), m.enforceOwns).toEqual({ kind: "allow" });
    }
    // What is only like a protected path is the task's business.
    for (const p of [".claude/commands/review.md", ".claude/settings.json.bak", "src/api/.git-keep", ".claude-parallel-notes.md", "src/api/settings.json"]) {
      expect(decide(manifest({ owns: ["**"] }), inside(p)), p).toEqual({ kind: "allow" });
    }
    // Another configuration folder (CLAUDE_CONFIG_DIR) is where its settings are.
    expect(protectedPath("/cfg/settings.json", "/wt", { gitDirs: [], configDir: "/cfg" })).toContain("settings file");
    expect(protectedPath("/cfg/.claude.json", "/wt", { gitDirs: [], configDir: "/cfg" })).toContain("own configuration");
    expect(protectedPath("/cfg/notes/settings.json", "/wt", { gitDirs: [], configDir: "/cfg" })).toBeUndefined();
    expect(protectedPath("/repo/.gitignore", "/wt", PROTECT)).toBeUndefined();
    expect(protectedPath("/repo/.git-other/x", "/wt", PROTECT)).toBeUndefined();
  });

  it("checks the path as named and where it lands: a link cannot hide a protected file, nor a name make one", () => {
    // src/api/notes.md is a link to the brief: where it lands is protected.
    expect(decide(manifest(), inside(".claude-parallel/brief.md"), "/wt/src/api/notes.md")).toMatchObject({ kind: "deny", reason: expect.stringContaining("/wt/src/api/notes.md is protected") });
    // .claude is a link to a folder outside: the name is a settings file's.
    expect(decide(manifest({ owns: [], produces: [] }), { outside: "/elsewhere/settings.json" }, "/wt/.claude/settings.json")).toMatchObject({ kind: "deny" });
    // A link into the git directory, named as an owned file.
    expect(decide(manifest(), { outside: "/repo/.git/config" }, "/wt/src/api/config")).toMatchObject({ kind: "deny", reason: expect.stringContaining("git directory") });
  });

  it("finds the edited file in each tool's input", () => {
    expect(editedFile({ file_path: "a.ts", content: "x" })).toBe("a.ts");
    expect(editedFile({ notebook_path: "n.ipynb" })).toBe("n.ipynb");
    expect(editedFile({ command: "ls" })).toBeUndefined();
    expect(editedFile(null)).toBeUndefined();
  });
});
