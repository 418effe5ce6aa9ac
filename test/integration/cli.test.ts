import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { runHelper, HELPER } from "../helpers/cli.js";
import { git, gitEnv, makeRepo, writeFiles } from "../helpers/git.js";
import { REPO_ROOT } from "../helpers/paths.js";
import { tempDir } from "../helpers/tmp.js";

const require = createRequire(import.meta.url);
const EXAMPLE = join(REPO_ROOT, "examples", "user-authentication.yaml");
const small = "version: 1\nfeature: Add login\ntasks:\n  - {id: api, title: Login API, owns: [src/api/]}\n  - {id: ui, title: Login form, owns: [src/ui/]}\n";

describe("claude-parallel plan", () => {
  it("prints the plan and writes the same Markdown to .parallel/<slug>/PLAN.md", () => {
    const repo = makeRepo({ name: "shop" });
    writeFiles(repo, { ".parallel/add-login/plan.yaml": small });
    const r = runHelper(["plan", ".parallel/add-login/plan.yaml"], { cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("# Parallel Execution Plan: Add login");
    expect(r.stdout).toContain("- Worktree: `../shop-add-login-api`");
    expect(r.stdout).toContain("Base branch `main`");
    expect(readFileSync(join(repo, ".parallel/add-login/PLAN.md"), "utf8")).toBe(r.stdout);
    expect(r.stderr).toContain("Wrote .parallel/add-login/PLAN.md");
    expect(r.stderr).toContain("Next: claude-parallel start 'add-login'\n");
    expect(r.stdout).not.toContain("Next:");
  });

  it("writes PLAN.md only beside .parallel/<slug>/plan.yaml, and says where it would have gone", () => {
    const repo = makeRepo({ name: "shop" });
    writeFiles(repo, { "plans/it's login.yaml": small });
    for (const args of [["--json"], []]) {
      const r = runHelper(["plan", "plans/it's login.yaml", ...args], { cwd: repo });
      expect(r.code).toBe(0);
      expect(existsSync(join(repo, ".parallel"))).toBe(false);
      expect(r.stderr).toContain(
        "Nothing written: PLAN.md is kept only beside a plan at .parallel/add-login/plan.yaml, and this plan is plans/it's login.yaml (PLAN.md would have gone to .parallel/add-login/PLAN.md)",
      );
      expect(r.stderr).not.toContain("Wrote");
      // `start <slug>` would not find this plan: the next step names its path, quoted (not for --json, read by programs).
      if (args.length) expect(r.stderr).not.toContain("Next:");
      else expect(r.stderr).toContain("Next: claude-parallel start 'plans/it'\\''s login.yaml'\n");
    }
    expect(runHelper(["plan", "plans/it's login.yaml", "--no-write"], { cwd: repo }).stderr).not.toContain("Nothing written");
    const md = runHelper(["plan", "plans/it's login.yaml"], { cwd: repo }).stdout;
    expect(md).toContain("`claude-parallel start 'plans/it'\\''s login.yaml'` starts Phase 1");
  });

  it("prints a next step that starts the feature", () => {
    const repo = makeRepo({ name: "shop" });
    writeFiles(repo, { ".parallel/add-login/plan.yaml": small, "elsewhere/p.yaml": small.replace("Add login", "Add logout") });
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "plans");
    const outside = join(tempDir(), "p.yaml");
    writeFileSync(outside, small.replace("Add login", "Add logout"));
    for (const file of [".parallel/add-login/plan.yaml", "elsewhere/p.yaml", outside]) {
      const next = /^Next: (.*)$/m.exec(runHelper(["plan", file, "--no-write"], { cwd: repo }).stderr)?.[1];
      expect(next).toBe(`claude-parallel start '${file === outside ? outside : file.startsWith(".parallel") ? "add-login" : file}'`);
      // Run it as the user would, through a shell, with the helper standing in for claude-parallel.
      const started = spawnSync("sh", ["-c", `${next} --dry-run`], { cwd: repo, encoding: "utf8", env: { ...gitEnv, PATH: `${join(HELPER, "../../bin")}:${process.env.PATH}` } });
      expect(started.status, started.stderr).toBe(0);
      expect(started.stdout).toContain(file.startsWith(".parallel") ? "feature/add-login" : "feature/add-logout");
    }
  });

  it("defaults base to the current branch, wherever the plan is run from", () => {
    const repo = makeRepo();
    git(repo, "switch", "-q", "-c", "develop");
    writeFiles(repo, { ".parallel/x/plan.yaml": small, "sub/dir/.keep": "" });
    const r = runHelper(["plan", "../../.parallel/x/plan.yaml", "--json"], { cwd: join(repo, "sub/dir") });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ base: "develop", integrationBranch: "feature/x", slug: "x" });
  });

  it("prints JSON with phases and decisions", () => {
    const repo = makeRepo();
    const r = runHelper(["plan", EXAMPLE, "--json", "--no-write"], { cwd: repo });
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.phases.map((p: { tasks: Array<{ id: string }> }) => p.tasks.map((t) => t.id))).toEqual([["designer", "data"], ["backend", "frontend"], ["qa"]]);
    expect(json).toMatchObject({ length: 4, lowerBound: 4 });
    expect(json.decisions.length).toBeGreaterThan(0);
    expect(existsSync(join(repo, ".parallel"))).toBe(false);
  });

  it("uses the repository's own commands and agents for matching roles", () => {
    const repo = makeRepo({
      files: {
        ".claude/commands/api.md": "---\ndescription: Build API endpoints\n---\nDo $ARGUMENTS\n",
        ".claude/agents/reviewer.md": "---\nname: ui\ndescription: UI specialist\n---\nYou build UIs.\n",
      },
    });
    writeFiles(repo, { "plan.yaml": small });
    const r = runHelper(["plan", "plan.yaml", "--no-write"], { cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("&& claude '/api Login API'");
    expect(r.stdout).toContain("&& claude --agent 'ui' 'You are the UI session");
  });

  it("works from a copy of the plugin's scripts/ with no node_modules anywhere", () => {
    const copy = tempDir();
    const { cpSync } = require("node:fs") as typeof import("node:fs");
    cpSync(join(HELPER, ".."), join(copy, "scripts"), { recursive: true });
    const repo = makeRepo();
    const r = runHelper(["plan", EXAMPLE, "--no-write"], { cwd: repo, helper: join(copy, "scripts", "parallel.mjs") });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("## Phase 3: QA");
    const schema = runHelper(["schema"], { cwd: repo, helper: join(copy, "scripts", "parallel.mjs") });
    expect(JSON.parse(schema.stdout).properties.tasks.items.required).toEqual(["id", "title"]);
  });

  it("prints a JSON Schema that describes every key", () => {
    const r = runHelper(["schema"], { cwd: tempDir() });
    const schema = JSON.parse(r.stdout);
    expect(schema.$schema).toContain("json-schema.org");
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual([
      "version",
      "feature",
      "slug",
      "base",
      "integrationBranch",
      "worktreeRoot",
      "maxParallel",
      "verify",
      "enforceOwns",
      "sandbox",
      "merge",
      "maxTurns",
      "budgetUsd",
      "featureBudgetUsd",
      "notify",
      "review",
      "tasks",
    ]);
    for (const [key, value] of Object.entries(schema.properties.tasks.items.properties)) {
      expect((value as { description?: string }).description, key).toBeTruthy();
    }
  });

  it("refuses to run on Node older than 20, with exit 3", () => {
    const preload = join(tempDir(), "old-node.mjs");
    writeFileSync(preload, 'Object.defineProperty(process.versions, "node", { value: "18.19.0" });\nObject.defineProperty(process, "version", { value: "v18.19.0" });\n');
    const { spawnSync } = require("node:child_process") as typeof import("node:child_process");
    const plan = spawnSync(process.execPath, ["--import", preload, HELPER, "plan", EXAMPLE], { encoding: "utf8" });
    expect(plan.status).toBe(3);
    expect(plan.stderr).toContain("needs Node.js 20 or newer; this is Node.js v18.19.0");
    const context = spawnSync(process.execPath, ["--import", preload, HELPER, "context"], { encoding: "utf8" });
    expect(context.status).toBe(0);
    expect(context.stdout).toContain("## Problems");
  });
});

describe("claude-parallel context", () => {
  const context = (cwd: string, env?: NodeJS.ProcessEnv) => {
    const r = runHelper(["context"], { cwd, env });
    expect(r.code).toBe(0);
    return r.stdout;
  };

  it("describes the repository, its worktrees, plans and roles, and the helper's path", () => {
    const repo = makeRepo({
      name: "shop",
      files: {
        "README.md": "# shop\n",
        ".claude/commands/designer.md": "---\ndescription: Design tokens and screens\n---\nDesign $ARGUMENTS\n",
        ".claude/agents/qa.md": "---\nname: qa-bot\ndescription: Tests everything\n---\n",
        ".claude/agents/broken.md": "---\nname: [unclosed\n---\n",
      },
    });
    git(repo, "worktree", "add", "-q", "-b", "side", join(repo, "..", "shop-side"));
    writeFiles(repo, {
      ".parallel/add-login/plan.yaml": small,
      ".parallel/broken/plan.yaml": "version: 1\nfeature: X\ntasks: []\n",
      "dirty.txt": "new\n",
    });
    const out = context(repo);
    expect(out).toContain("- Name: shop");
    expect(out).toContain(`- Root: ${repo}`);
    expect(out).toContain("- Current branch: main");
    // dirty.txt; the plan folder .parallel/ is not work the sessions would miss.
    expect(out).toMatch(/- Working tree: 1 uncommitted change \(/);
    expect(out).toContain("plans in .parallel/ need not be committed");
    expect(out).toContain(`- ${join(repo, "..", "shop-side")} (side)`);
    expect(out).toContain('- .parallel/add-login/plan.yaml: valid, "Add login", 2 tasks in 1 phases; not started');
    expect(out).toContain("- .parallel/broken/plan.yaml: invalid:");
    expect(out).toContain("- designer: command /designer (.claude/commands/designer.md): Design tokens and screens");
    expect(out).toContain("- qa-bot: agent qa-bot (.claude/agents/qa.md): Tests everything");
    expect(out).toContain(`Absolute path: ${HELPER}`);
    expect(out).toContain("## Plan format");
    expect(out).not.toContain("## Problems");
  });

  it("explains a folder that is not a repository", () => {
    const dir = tempDir();
    const out = context(dir);
    expect(out).toContain(`${dir} is not inside a git repository`);
    expect(out).toContain("git init");
    expect(out).toContain(`Absolute path: ${HELPER}`);
  });

  it("explains a repository with no commit yet", () => {
    const out = context(makeRepo({ commit: false }));
    expect(out).toContain("The repository has no commit yet");
    expect(out).toContain("- Current branch: main");
  });

  it("explains a git older than 2.38 and a missing git", () => {
    const bin = tempDir();
    const realGit = require("node:child_process").execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    // A real git underneath that reports an old version.
    writeFileSync(join(bin, "git"), `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "git version 2.30.1"; exit 0; fi\nexec ${realGit} "$@"\n`);
    chmodSync(join(bin, "git"), 0o755);
    const repo = makeRepo();
    expect(context(repo, { PATH: `${bin}:${process.env.PATH}` })).toContain("git 2.30.1 is too old: claude-parallel needs git 2.38 or newer");
    expect(context(repo, { PATH: tempDir() })).toContain("git is not installed or cannot be run");
  });
});

describe("the plan's folder", () => {
  it("names the feature when the plan has no slug, so PLAN.md lands beside plan.yaml", () => {
    const repo = makeRepo();
    writeFiles(repo, { ".parallel/login/plan.yaml": small });
    const r = runHelper(["plan", ".parallel/login/plan.yaml", "--json"], { cwd: repo });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ slug: "login", integrationBranch: "feature/login" });
    expect(existsSync(join(repo, ".parallel/login/PLAN.md"))).toBe(true);
  });

  it("refuses a slug that contradicts the folder", () => {
    const repo = makeRepo();
    writeFiles(repo, { ".parallel/login/plan.yaml": `slug: signin\n${small}` });
    const r = runHelper(["plan", ".parallel/login/plan.yaml"], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("the plan is in .parallel/login/ but its slug is `signin`");
    expect(existsSync(join(repo, ".parallel/login/PLAN.md"))).toBe(false);
  });
});

describe("help", () => {
  const COMMANDS = ["plan", "start", "status", "sync", "run", "skip", "finish", "clean", "schema", "context"];
  const usage = () => runHelper(["--help"], { cwd: tempDir() }).stdout;
  /** The options the general usage shows for `command`: its synopsis lines, up to its summary. */
  const usageOptions = (command: string) => {
    const lines = usage().split("\n");
    const first = lines.findIndex((l) => l.startsWith(`  claude-parallel ${command} `) || l === `  claude-parallel ${command}`);
    const own = [lines[first]!];
    for (const line of lines.slice(first + 1)) {
      if (!/^ {20,}\[/.test(line)) break; // a continuation of the synopsis
      own.push(line);
    }
    return [...new Set(own.join(" ").match(/--[a-z-]+/g) ?? [])];
  };

  it("prints the same general usage with no argument, --help, -h and help", () => {
    const cwd = tempDir();
    const all = [[], ["--help"], ["-h"], ["help"]].map((args) => runHelper(args, { cwd }));
    for (const r of all) expect(r).toMatchObject({ code: 0, stderr: "", stdout: all[0]!.stdout });
    for (const command of COMMANDS) expect(all[0]!.stdout).toContain(`  claude-parallel ${command}`);
    expect(all[0]!.stdout).toContain("Exit codes: 0 done, 1 internal error, 2 invalid plan or usage");
  });

  it("gives start its own help with `start --help` and `help start`, and starts nothing", () => {
    const repo = makeRepo();
    writeFiles(repo, { ".parallel/add-login/plan.yaml": small });
    const refs = git(repo, "for-each-ref");
    const a = runHelper(["start", "--help"], { cwd: repo });
    const b = runHelper(["help", "start"], { cwd: repo });
    const c = runHelper(["start", "--phase", "1", "-h"], { cwd: repo });
    expect(a).toMatchObject({ code: 0, stderr: "" });
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(a.stdout).toContain("Usage: claude-parallel start [plan-or-slug] [--phase N] [--launch print|tmux|headless]\n");
    expect(a.stdout).toMatch(/\n {2}--launch MODE +print \(default\)/);
    expect(a.stdout).toContain("Exit codes: 0 done, 2 invalid plan or usage, 3 unfit environment, 4 refused");
    expect(a.stdout).not.toContain("Usage:\n  claude-parallel plan");
    expect(git(repo, "for-each-ref")).toBe(refs);
    expect(existsSync(join(repo, "..", "app-add-login-api"))).toBe(false);
  });

  it("gives every command a help that lists each option its usage line shows", () => {
    for (const command of COMMANDS.filter((c) => c !== "context")) {
      const r = runHelper([command, "--help"], { cwd: tempDir() });
      expect(r.code, `${command}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`Usage: claude-parallel ${command}`);
      expect(r.stdout).toContain("Options:\n");
      expect(r.stdout).toContain("Exit codes: 0 done");
      const options = usageOptions(command);
      for (const option of options) expect(r.stdout, `${command} --help lacks ${option}`).toMatch(new RegExp(`\\n {2}${option}\\b`));
      expect(runHelper(["help", command], { cwd: tempDir() }).stdout).toBe(r.stdout);
    }
    expect(usageOptions("sync")).toEqual(["--phase", "--dry-run", "--no-verify", "--verify", "--keep-worktrees", "--no-next", "--allow-outside-owns", "--no-review"]);
    expect(runHelper(["sync", "--help"], { cwd: tempDir() }).stdout).toContain("5 the merged result fails verification");
    expect(runHelper(["plan", "--help"], { cwd: tempDir() }).stdout).not.toContain("5 the merged result");
    expect(runHelper(["skip", "--help"], { cwd: tempDir() }).stdout).toMatch(/\n {2}--reason TEXT +Why the task is skipped/);
    expect(runHelper(["help", "context"], { cwd: tempDir() }).stdout).toContain("Usage: claude-parallel context\n");
  });

  it("refuses help for an unknown command with exit 2 and a suggestion", () => {
    expect(runHelper(["help", "strat"], { cwd: tempDir() })).toMatchObject({ code: 2, stdout: "", stderr: expect.stringContaining("unknown command `strat` (did you mean `start`?)") });
    expect(runHelper(["help", "zzzzzz"], { cwd: tempDir() })).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("use one of: plan, start, status, sync, run, skip, accept, approve, replan, finish, watch, clean"),
    });
    expect(runHelper(["help", "start", "sync"], { cwd: tempDir() }).code).toBe(2);
  });

  it("points a usage mistake at the command's own help", () => {
    expect(runHelper(["start", "--phaze", "1"], { cwd: makeRepo() })).toMatchObject({ code: 2, stderr: expect.stringContaining("run `claude-parallel start --help`") });
  });
});
