import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, readFileSync, readdirSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import matter from "gray-matter";
import { describe, expect, it } from "vitest";
import { claudeAvailable, claudeBinary } from "../helpers/claude.js";
import { PLUGIN_DIR, REPO_ROOT } from "../helpers/paths.js";
import { tempDir } from "../helpers/tmp.js";

describe("what users get", () => {
  it("npm pack holds the plugin folder, README and LICENSE, and nothing else", () => {
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: REPO_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const files: string[] = JSON.parse(out)[0].files.map((f: { path: string }) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        "plugin/bin/claude-parallel",
        "plugin/commands/parallel.md",
        "plugin/hooks/hooks.json",
        "plugin/scripts/parallel.mjs",
        "plugin/.claude-plugin/plugin.json",
        "README.md",
        "LICENSE",
        "package.json",
      ]),
    );
    for (const f of files) expect(f).toMatch(/^(plugin\/|README\.md$|LICENSE$|package\.json$)/);
    expect(files).not.toContain("package-lock.json");
    expect(JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")).bin).toEqual({ "claude-parallel": "plugin/scripts/parallel.mjs" });
  });

  // The committed bundle itself (the other tests run a fresh build of src/).
  it("ships a bundle whose every file loads from a folder with no node_modules anywhere", () => {
    const copy = tempDir();
    cpSync(join(REPO_ROOT, "plugin", "scripts"), join(copy, "scripts"), { recursive: true });
    const files = ["parallel.mjs", ...readdirSync(join(copy, "scripts", "chunks")).map((f) => `chunks/${f}`)];
    expect(files.length).toBeGreaterThan(3);
    const urls = files.filter((f) => f !== "parallel.mjs").map((f) => pathToFileURL(join(copy, "scripts", f)).href);
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", `for (const u of ${JSON.stringify(urls)}) await import(u);`], { cwd: copy, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

describe("the /parallel command", () => {
  const file = readFileSync(join(REPO_ROOT, "commands", "parallel.md"), "utf8");
  const { data, content } = matter(file);

  it("has the frontmatter Claude Code reads, with least-privilege tools", () => {
    expect(data.name).toBe("parallel");
    expect(data["argument-hint"]).toBe("[feature description]");
    expect(typeof data.description).toBe("string");
    const tools = String(data["allowed-tools"]).split(/,\s*(?![^()]*\))/);
    expect(tools).toEqual([
      'Bash("${CLAUDE_PLUGIN_ROOT}/bin/claude-parallel" context)',
      "Bash(claude-parallel plan *)",
      "Bash(claude-parallel schema)",
      'Bash(node "${CLAUDE_PLUGIN_ROOT}/scripts/parallel.mjs" plan *)',
      'Bash(node "${CLAUDE_PLUGIN_ROOT}/scripts/parallel.mjs" schema)',
      "Bash(git status:*)",
      "Bash(git log:*)",
      "Bash(git diff:*)",
      "Bash(git show:*)",
      "Bash(git ls-files:*)",
      "Bash(git worktree list:*)",
      "Read",
      "Write(./.parallel/**)",
      "Edit(./.parallel/**)",
      "Glob",
      "Grep",
    ]);
  });

  it("injects the context through one `!` call of the helper and never splices the arguments into a shell", () => {
    const bangs = content.split("\n").filter((line) => /(^|\s)!`/.test(line));
    expect(bangs).toEqual(['!`"${CLAUDE_PLUGIN_ROOT}/bin/claude-parallel" context`']);
    expect(content).toContain("$ARGUMENTS");
    for (const line of content.split("\n")) if (line.includes("$ARGUMENTS")) expect(line).not.toMatch(/!`/);
  });
});

describe("the plugin", () => {
  const validate = (target: string) => {
    const r = spawnSync(claudeBinary(), ["plugin", "validate", target], {
      cwd: REPO_ROOT,
      env: { ...process.env, HOME: tempDir(), CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" },
      encoding: "utf8",
      timeout: 60_000,
    });
    const output = r.stdout + r.stderr;
    expect(r.status, output).toBe(0);
    expect(output).toMatch(/✔ Validation passed\s*$/);
    expect(output).not.toMatch(/warning|✘|⚠/i);
    return output;
  };

  // The root is the marketplace and nothing else: the plugin it lists is plugin/, the one committed copy.
  it.skipIf(!claudeAvailable())("claude plugin validate . checks the marketplace, whose one plugin is ./plugin", () => {
    expect(validate(".")).toContain("Validating marketplace manifest");
    expect(JSON.parse(readFileSync(join(REPO_ROOT, ".claude-plugin", "marketplace.json"), "utf8")).plugins.map((p: { source: string }) => p.source)).toEqual(["./plugin"]);
    expect(readdirSync(join(REPO_ROOT, ".claude-plugin"))).toEqual(["marketplace.json"]);
  });

  it.skipIf(!claudeAvailable())("claude plugin validate of plugin/ (built from the sources): no errors, no warnings", () => {
    const output = validate(PLUGIN_DIR);
    // The hooks are found and read (an unknown event or a bad hook would be a warning above).
    // Every tool call: the budget applies to all of them, the ownership guard to edits.
    expect(output).toContain('hooks: PreToolUse * command "node \\"${CLAUDE_PLUGIN_ROOT}/scripts/parallel.mjs\\" _hook PreToolUse || true"');
    for (const event of ["SessionStart", "UserPromptSubmit", "Stop", "StopFailure", "Notification", "SessionEnd"]) expect(output).toContain(`hooks: ${event} command`);
  });
});

describe("/parallel-status, /parallel-sync and /parallel-dashboard", () => {
  const read = (name: string) => matter(readFileSync(join(REPO_ROOT, "commands", `${name}.md`), "utf8"));

  it("/parallel-status only reads", () => {
    const { data, content } = read("parallel-status");
    expect(data.name).toBe("parallel-status");
    expect(data["allowed-tools"]).toBe('Bash("${CLAUDE_PLUGIN_ROOT}/bin/claude-parallel" status), Bash(claude-parallel status *), Read');
    expect(data["disallowed-tools"]).toBe("Bash(claude-parallel status *--verify*)");
    expect(content).toContain('!`"${CLAUDE_PLUGIN_ROOT}/bin/claude-parallel" status`');
  });

  it("/parallel-sync runs only when the user asks, with the helper's sync and status and read-only git", () => {
    const { data, content } = read("parallel-sync");
    expect(data.name).toBe("parallel-sync");
    expect(data["disable-model-invocation"]).toBe(true);
    expect(typeof data["argument-hint"]).toBe("string");
    const tools = String(data["allowed-tools"]).split(/,\s*(?![^()]*\))/);
    expect(tools).toEqual([
      'Bash("${CLAUDE_PLUGIN_ROOT}/bin/claude-parallel" status)',
      "Bash(claude-parallel sync *)",
      "Bash(claude-parallel status *)",
      "Bash(git status:*)",
      "Bash(git log:*)",
      "Bash(git diff:*)",
      "Bash(git show:*)",
      "Read",
      "Glob",
      "Grep",
    ]);
    // Options that skip a check are denied outright, whatever the model is told (test/e2e/permissions.test.ts).
    expect(String(data["disallowed-tools"]).split(/,\s*(?![^()]*\))/)).toEqual([
      "Bash(claude-parallel sync *--no-verify*)",
      "Bash(claude-parallel sync *--verify*)",
      "Bash(claude-parallel sync *--allow-outside-owns*)",
      // Accepting a moved integration branch is the user's own act, by every spelling (patterns:
      // Claude Code does not substitute ${CLAUDE_PLUGIN_ROOT} in disallowed-tools).
      "Bash(claude-parallel accept*)",
      "Bash(*/claude-parallel* accept*)",
      "Bash(node *parallel.mjs* accept*)",
    ]);
    const bangs = content.split("\n").filter((line) => /(^|\s)!`/.test(line));
    expect(bangs).toEqual(['!`"${CLAUDE_PLUGIN_ROOT}/bin/claude-parallel" status`']);
    expect(content).toContain("Never propose resolving a conflict by discarding");
  });

  it("/parallel-dashboard runs only when the user asks, and may only start the read-only dashboard in the background", () => {
    const { data, content } = read("parallel-dashboard");
    expect(data.name).toBe("parallel-dashboard");
    expect(data["disable-model-invocation"]).toBe(true);
    expect(String(data["allowed-tools"]).split(/,\s*(?![^()]*\))/)).toEqual(["Bash(claude-parallel dashboard --detach)", "Bash(claude-parallel dashboard * --detach)"]);
    // No `!` line: the user's words never reach a shell.
    expect(content.split("\n").filter((line) => /(^|\s)!`/.test(line))).toEqual([]);
  });
});
