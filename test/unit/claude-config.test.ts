import { describe, expect, it } from "vitest";
import { claudeConfigOf, unnamedClaudeConfig } from "../../src/core/plan/claude-config.js";
import { ownedPattern } from "../../src/core/plan/owns.js";

/** Claude Code configuration a task commits is merged only when its owns name it (src/core/plan/claude-config.ts). */
describe("claudeConfigOf", () => {
  it("finds the configuration that runs code, at any depth and in any case, and nothing else", () => {
    expect(claudeConfigOf(".claude/settings.json")).toBe(".claude/settings.json");
    expect(claudeConfigOf(".claude/settings.local.json")).toBe(".claude/settings.local.json");
    expect(claudeConfigOf(".mcp.json")).toBe(".mcp.json");
    expect(claudeConfigOf(".claude/hooks/pre.sh")).toBe(".claude/hooks");
    expect(claudeConfigOf(".claude/commands/deep/x.md")).toBe(".claude/commands");
    expect(claudeConfigOf(".claude/agents/r.md")).toBe(".claude/agents");
    expect(claudeConfigOf(".claude/skills/s/run.py")).toBe(".claude/skills");
    expect(claudeConfigOf("pkg/web/.claude/hooks/x")).toBe("pkg/web/.claude/hooks");
    expect(claudeConfigOf("pkg/.mcp.json")).toBe("pkg/.mcp.json");
    expect(claudeConfigOf(".Claude/Settings.json")).toBe(".Claude/Settings.json");
    // A `.claude` file or link in place of the folder.
    expect(claudeConfigOf("pkg/.claude")).toBe("pkg/.claude");
    for (const text of ["CLAUDE.md", ".claude/CLAUDE.md", ".claude/output-styles/x.md", ".claude/notes.txt", "src/mcp.json", ".mcp.json/x", "docs/.claude-parallel/x", "a.claude/hooks/x"]) {
      expect(claudeConfigOf(text), text).toBeUndefined();
    }
  });
});

describe("unnamedClaudeConfig", () => {
  const unnamed = (owns: string[], ...changed: string[]) => unnamedClaudeConfig(changed, owns.map(ownedPattern)).map((f) => f.path);

  it("refuses configuration no owned path names explicitly: owning the root, everything or .claude is not naming it", () => {
    for (const owns of [[], ["."], ["**"], [".claude"], [".claude/**"], ["**/*.json"], ["src/"]]) {
      expect(unnamed(owns, ".claude/settings.json", ".claude/hooks/x.sh", ".mcp.json", "src/a.ts"), owns.join()).toEqual([".claude/hooks/x.sh", ".claude/settings.json", ".mcp.json"]);
    }
  });

  it("takes configuration named by the owned path of the file, of its folder, or a pattern below it", () => {
    expect(unnamed([".claude/settings.json", ".claude/hooks", ".mcp.json"], ".claude/settings.json", ".claude/hooks/x.sh", ".mcp.json")).toEqual([]);
    expect(unnamed([".claude/commands/*.md"], ".claude/commands/a.md", ".claude/commands/a.sh")).toEqual([".claude/commands/a.sh"]);
    expect(unnamed(["pkg/.claude/agents"], "pkg/.claude/agents/r.md", ".claude/agents/r.md")).toEqual([".claude/agents/r.md"]);
    // Naming one configuration names no other.
    expect(unnamed([".claude/settings.json"], ".claude/settings.local.json")).toEqual([".claude/settings.local.json"]);
  });
});
