import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { stringify } from "yaml";
import { buildExecutionPlan } from "../../src/core/plan/build.js";
import { parsePlan } from "../../src/core/plan/load.js";
import { renderMarkdown, sessionCommand } from "../../src/core/render/markdown.js";
import { sessionBrief } from "../../src/core/render/brief.js";
import { EXAMPLE_PLAN } from "../../src/core/plan/example.js";
import { git, gitEnv, makeRepo } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";

/** The shell blocks of a rendered plan, as a user would copy them. */
function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^(`{3,})bash\n([\s\S]*?)\n\1$/gm)].map((m) => m[2]!);
}

const payloads = [
  "'",
  '"',
  "`",
  "$",
  "\\",
  ";",
  "&",
  "|",
  "<",
  ">",
  "(",
  ")",
  "{",
  "}",
  "*",
  "?",
  "~",
  "!",
  "#",
  "\n",
  "\r",
  "\t",
  " ",
  '$(touch "$CANARY")',
  '`touch "$CANARY"`',
  "'; touch \"$CANARY\"; '",
  '"; touch "$CANARY"; "',
  "'\\''touch \"$CANARY\"'\\''",
  "$((1+1))",
  "${CANARY}",
  "```",
  '\n```\ntouch "$CANARY"\n```\n',
  "-rf",
  "--",
  "é",
  "日本",
  "\u202e",
];
const hostile = fc.array(fc.oneof(fc.constantFrom(...payloads), fc.string({ maxLength: 4 })), { minLength: 1, maxLength: 8 }).map((parts) => parts.join(""));
const nonBlank = hostile.filter((s) => s.trim() !== "" && !s.includes("\0"));

function hasShellcheck(): boolean {
  const found = spawnSync("shellcheck", ["--version"]).status === 0;
  if (!found && process.env.CI === "true") throw new Error("shellcheck is missing: .ci/run installs it with apt-get");
  return found;
}

const SHELL_SEED = 20261126;

describe("generated shell", () => {
  // Three batches of 10 plans (each runs every shell block with worktrees), so that no single
  // test grows long on a loaded machine; seeded, a failure names its seed.
  it.each([0, 1, 2])("runs hostile titles, prompts and feature names as plain text (bash and sh), batch %i", (batch) => {
    const repo = makeRepo({ name: "app" });
    const bin = tempDir();
    const log = join(tempDir(), "claude-args");
    // Stands in for the claude CLI: records each argument it was given, NUL-separated.
    writeFileSync(join(bin, "claude"), `#!/bin/sh\nfor a in "$@"; do printf '%s\\0' "$a"; done >> "${log}"\nprintf '\\n\\0' >> "${log}"\n`);
    chmodSync(join(bin, "claude"), 0o755);
    const canary = join(tempDir(), "PWNED");

    fc.assert(
      fc.property(nonBlank, nonBlank, hostile, fc.constantFrom("bash", "sh"), (feature, title, prompt, shell) => {
        const text = stringify({
          version: 1,
          feature,
          base: "main",
          tasks: [
            { id: "one", title, prompt, owns: ["a/"] },
            { id: "two", title: prompt.trim() || "t", prompt: title, owns: ["b/"], dependsOn: ["one"] },
          ],
        });
        const plan = buildExecutionPlan(parsePlan(text, "plan.yaml"), { repoName: "app", currentBranch: "main", roles: new Map() });
        rmSync(log, { force: true });
        for (const block of shellBlocks(renderMarkdown(plan))) {
          const r = spawnSync(shell, ["-c", block], { cwd: repo, env: { ...gitEnv, PATH: `${bin}:${process.env.PATH}`, CANARY: canary }, encoding: "utf8" });
          expect(r.status, `${shell} failed on:\n${block}\n${r.stderr}`).toBe(0);
        }
        expect(existsSync(canary)).toBe(false);
        // Each session's claude got its brief intact, as one argument.
        const calls = readFileSync(log, "utf8")
          .split("\n\0")
          .filter(Boolean)
          .map((c) => c.split("\0").slice(0, -1));
        const tasks = plan.phases.flatMap((p) => p.tasks);
        expect(calls).toEqual(tasks.map((t) => [sessionBrief(plan, t)]));
        // Clean up the worktrees and branches for the next run.
        for (const t of tasks) git(repo, "worktree", "remove", "--force", t.worktree);
        git(repo, "switch", "-q", "main");
        for (const b of git(repo, "branch", "--format=%(refname:short)").split("\n")) if (b !== "main") git(repo, "branch", "-q", "-D", b);
      }),
      { numRuns: 10, seed: SHELL_SEED + batch },
    );
  });

  it.skipIf(!hasShellcheck())("passes shellcheck, for the example and for hostile plans", () => {
    const check = (markdown: string) => {
      for (const block of shellBlocks(markdown)) {
        // SC2016 and SC1003 are hints about what sits inside single quotes (`$x` that will not
        // expand, a `\'` that looks like an escape): literal text is the point of our quoting.
        const r = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "--exclude=SC2016,SC1003", "-"], { input: block, encoding: "utf8" });
        expect(r.status, `${block}\n${r.stdout}`).toBe(0);
      }
    };
    const facts = {
      repoName: "app",
      currentBranch: "main",
      roles: new Map<string, "command" | "agent">([
        ["designer", "command"],
        ["data", "agent"],
      ]),
    };
    check(renderMarkdown(buildExecutionPlan(parsePlan(EXAMPLE_PLAN, "plan.yaml"), facts)));
    fc.assert(
      fc.property(nonBlank, nonBlank, hostile, (feature, title, prompt) => {
        const text = stringify({
          version: 1,
          feature,
          verify: "npm test",
          tasks: [
            { id: "designer", title, prompt },
            { id: "data", title: prompt.trim() || "x", prompt: title },
            { id: "qa", title, prompt, dependsOn: ["data"] },
          ],
        });
        check(renderMarkdown(buildExecutionPlan(parsePlan(text, "plan.yaml"), facts)));
      }),
      { numRuns: 15, seed: SHELL_SEED + 10 },
    );
  });

  it("writes the session command with every value quoted", () => {
    const plan = buildExecutionPlan(parsePlan(EXAMPLE_PLAN, "plan.yaml"), { repoName: "app", currentBranch: "main", roles: new Map() });
    const task = plan.phases[0]!.tasks[0]!;
    expect(sessionCommand(plan, task)).toMatch(/^claude '[\s\S]*'$/);
    expect(readdirSync(tempDir())).toEqual([]);
    expect(execFileSync("sh", ["-c", `printf '%s' ${sessionCommand(plan, task).slice("claude ".length)}`], { encoding: "utf8" })).toBe(sessionBrief(plan, task));
  });
});
