import { describe, expect, it } from "vitest";
import { renderJson } from "../../src/core/render/json.js";
import { renderMarkdown, sessionCommand } from "../../src/core/render/markdown.js";
import { code, fence } from "../../src/core/render/markdown-text.js";
import { mermaidFlowchart } from "../../src/core/render/mermaid.js";
import { quote } from "../../src/core/text/shell.js";
import { parsePlan } from "../../src/core/plan/load.js";
import { buildExecutionPlan } from "../../src/core/plan/build.js";
import { EXAMPLE_PLAN } from "../../src/core/plan/example.js";
import { executionPlan, facts } from "../helpers/plans.js";

const example = () => buildExecutionPlan(parsePlan(EXAMPLE_PLAN, "plan.yaml"), facts);

describe("the execution plan in the seed's format", () => {
  const md = renderMarkdown(example());

  it("has the seed's headings, sessions, sync points and finalization", () => {
    expect(md.split("\n")[0]).toBe("# Parallel Execution Plan: Add user authentication");
    expect(md).toContain("## Phase 1: Parallel Foundation (Designer, Data)");
    expect(md).toContain("## Phase 2: Parallel Implementation (Backend, Frontend)");
    expect(md).toContain("## Phase 3: QA");
    expect(md).toContain("## Phase 4: Sequential Finalization");
    expect(md).toContain("Run simultaneously in separate sessions:");
    expect(md).toContain("Run simultaneously in separate sessions after Phase 1 merges:");
    expect(md).toMatch(
      /### Session A: Designer\n\n- Worktree: `\.\.\/app-add-user-authentication-designer`\n- Branch: `feature\/add-user-authentication-designer`\n- Task: Design the login and signup screens\n- Output: `design\/auth-tokens.yaml`/,
    );
    expect(md).toContain("**Sync Point:** Merge both branches into `feature/add-user-authentication` before Phase 2. ");
    expect(md).toContain("- Integration testing: `npm test` on `feature/add-user-authentication`");
    expect(md).toContain("- QA validation:");
    expect(md).toContain("- Final merge to `main`:");
    expect(md).toContain("Length 4 (lower bound 4)");
  });

  it("gives the commands: worktrees from the integration branch, sessions, merges", () => {
    expect(md).toContain("git worktree add -b 'feature/add-user-authentication-data' -- '../app-add-user-authentication-data' 'feature/add-user-authentication'");
    expect(md).toContain("cd -- '../app-add-user-authentication-data' && claude 'You are the Data session");
    expect(md).toContain(
      "git merge --no-ff -m 'Merge feature/add-user-authentication-data (Users table and sessions schema) into feature/add-user-authentication [phase 1]' -- 'feature/add-user-authentication-data'",
    );
  });

  it("leads every step with claude-parallel's command, values shell-quoted", () => {
    expect(md).toContain("1. `claude-parallel start 'add-user-authentication'` starts Phase 1");
    expect(md).toContain("**Start:** `claude-parallel start 'add-user-authentication'` creates the worktrees");
    expect(md).toContain("**Start:** the sync of Phase 1 starts it; after a sync with `--no-next` (or an interrupted one), `claude-parallel start 'add-user-authentication'` does.");
    expect(md).toMatch(
      /\*\*Sync Point:\*\* Merge both branches into `feature\/add-user-authentication` before Phase 2\. When every session has committed, run `\/parallel-sync` \(or `claude-parallel sync 'add-user-authentication'`\): it checks the branches, merges, runs `npm test` on the result and starts Phase 2\./,
    );
    expect(md).toContain("- Final merge to `main`: `claude-parallel finish 'add-user-authentication'`");
    // Each phase: start, then sessions, then the sync point; the first git command comes after ours.
    for (const phase of md.split(/^## Phase \d+: (?!Sequential)/m).slice(1)) {
      const at = (text: string) => phase.indexOf(text);
      expect(at("**Start:**")).toBeGreaterThanOrEqual(0);
      expect(at("**Start:**")).toBeLessThan(at("git worktree add"));
      expect(at("### Session A")).toBeLessThan(at("**Sync Point:**"));
      expect(at("/parallel-sync")).toBeLessThan(at("git merge"));
    }
  });

  it("marks every raw git block as the way without claude-parallel", () => {
    const blocks = [...md.matchAll(/([^\n]*)\n\n```bash\n([\s\S]*?)\n```/g)];
    const gitBlocks = blocks.filter((m) => /^git (worktree add|switch|merge)/m.test(m[2]!));
    expect(gitBlocks).toHaveLength(3 + 3 + 1); // worktrees and merges per phase, the final merge
    for (const [, before] of gitBlocks) expect(before).toMatch(/^\*Without claude-parallel:\* /);
    // No git command is given outside those blocks but the session's `cd`.
    const others = blocks.filter((m) => !gitBlocks.includes(m));
    for (const [, , body] of others) expect(body).toMatch(/^cd -- '[^']+' && claude /);
  });

  it("names a plan kept outside .parallel/ by its path in the first start, quoted", () => {
    const out = renderMarkdown(example(), { startTarget: "my plans/it's $(here).yaml" });
    expect(out).toContain("`claude-parallel start 'my plans/it'\\''s $(here).yaml'` starts Phase 1");
    expect(out).toContain("**Start:** `claude-parallel start 'my plans/it'\\''s $(here).yaml'` creates");
    // Once started, the feature is known by its slug.
    expect(out).toContain("`claude-parallel sync 'add-user-authentication'`");
    expect(out).toContain("after a sync with `--no-next` (or an interrupted one), `claude-parallel start 'add-user-authentication'` does.");
  });

  it("calls a repository's own command or agent for a role", () => {
    const plan = executionPlan(
      {
        tasks: [
          { id: "designer", title: "Tokens", prompt: "make tokens" },
          { id: "data", title: "Schema" },
        ],
      },
      {
        roles: new Map([
          ["designer", "command"],
          ["data", "agent"],
        ]),
      },
    );
    const [designer, data] = ["designer", "data"].map((id) => plan.phases[0]!.tasks.find((t) => t.id === id)!);
    expect(sessionCommand(plan, designer!)).toBe("claude '/designer make tokens'");
    expect(sessionCommand(plan, data!)).toMatch(/^claude --agent 'data' 'You are the Data session/);
  });

  it("prints the JSON shape", () => {
    const json = JSON.parse(renderJson(example()));
    expect(Object.keys(json)).toEqual(expect.arrayContaining(["feature", "slug", "base", "integrationBranch", "length", "lowerBound", "phases", "decisions"]));
    expect(json.phases[1]).toMatchObject({
      index: 2,
      tasks: [{ id: "backend", agent: "backend", branch: "feature/add-user-authentication-backend", worktree: "../app-add-user-authentication-backend", dependsOn: ["data"] }, { id: "frontend" }],
    });
  });

  it("draws phases and dependencies in Mermaid, escaping labels", () => {
    const plan = executionPlan({
      tasks: [
        { id: "end", title: 'Say "hi" <b>&</b>' },
        { id: "b", title: "B", dependsOn: ["end"] },
      ],
    });
    const chart = mermaidFlowchart(plan);
    expect(chart).toContain('t_end["A: End<br/>Say #34;hi#34; #60;b#62;#38;#60;/b#62;"]');
    expect(chart).toContain("t_end --> t_b");
    expect(chart).not.toMatch(/^\s*end\[/m);
  });
});

describe("text safety", () => {
  it("quotes for POSIX shells", () => {
    expect(quote("it's")).toBe(`'it'\\''s'`);
    expect(quote("$(x) `y` ;")).toBe("'$(x) `y` ;'");
    expect(() => quote("a\0b")).toThrow();
  });

  it("keeps code spans and fences closed whatever the text holds", () => {
    expect(code("a ` b")).toBe("``a ` b``");
    expect(code("`x`")).toBe("`` `x` ``");
    expect(fence("bash", "echo\n```\nrm -rf /")).toMatch(/^````bash\n[\s\S]*\n````$/);
  });

  it("keeps plan text on one line in lists and headings", () => {
    const plan = executionPlan({ feature: "Line\n# Injected heading", tasks: [{ id: "a", title: "x\n## Phase 9: fake" }] });
    // Outside fenced code blocks (where text is shown verbatim), no line may start a heading.
    const md = renderMarkdown(plan).replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, "");
    expect(md).toContain("## Phase 1: A");
    expect(md).not.toMatch(/^## Phase 9/m);
    expect(md).not.toMatch(/^# Injected/m);
  });
});
