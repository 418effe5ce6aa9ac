import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { makeRepo } from "../helpers/git.js";

const PLAN = "version: 1\nfeature: Add login\nbudgetUsd: 0.5\ntasks:\n  - {id: api, title: Login API, owns: [src/api/]}\n  - {id: ui, title: Login form, owns: [src/ui/]}\n";

/** A started feature whose api task's headless session reported `costUsd` (its log, as `run` keeps it). */
function spent(costUsd: number) {
  const repo = makeRepo({ name: "shop", files: { "README.md": "# shop\n", ".parallel/add-login/plan.yaml": PLAN } });
  expect(runHelper(["start", "--deps", "none"], { cwd: repo }).code).toBe(0);
  const stateDir = join(repo, ".git/parallel/add-login");
  mkdirSync(join(stateDir, "sessions"), { recursive: true });
  writeFileSync(join(stateDir, "sessions/api.jsonl"), JSON.stringify({ type: "result", subtype: "success", is_error: false, session_id: "s-1", total_cost_usd: costUsd, num_turns: 3 }) + "\n");
  return { repo, stateDir };
}

describe("claude-parallel approve", () => {
  it("a task under its budget, or unknown: refused with nothing written", () => {
    const { repo, stateDir } = spent(0.2);
    const under = runHelper(["approve", "api", "--add", "1"], { cwd: repo });
    expect(under.code).toBe(4);
    expect(under.stderr).toContain("api has not reached a budget (its sessions spent $0.20 of its $0.50 budget)");
    const unknown = runHelper(["approve", "apj"], { cwd: repo });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("did you mean `api`?");
    expect(runHelper(["approve", "api", "--add", "-1"], { cwd: repo }).code).toBe(2);
    expect(JSON.parse(readFileSync(join(stateDir, "state.json"), "utf8")).budgetApprovals).toBeUndefined();
  });

  it("a task past its budget with no session to resume here: the approval is recorded in the feature's state and the hooks' record, and the next run is named", () => {
    const { repo, stateDir } = spent(0.62);
    const dry = runHelper(["approve", "api", "--dry-run"], { cwd: repo });
    expect(dry.stdout).toContain("raise api's budget from $0.50 to $1.00 (its sessions have spent $0.62)");
    expect(JSON.parse(readFileSync(join(stateDir, "state.json"), "utf8")).budgetApprovals).toBeUndefined();
    const r = runHelper(["approve", "api"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("Raised api's budget from $0.50 to $1.00");
    expect(r.stdout).toContain("api has no session yet: claude-parallel run 'add-login' starts one.");
    expect(JSON.parse(readFileSync(join(stateDir, "state.json"), "utf8")).budgetApprovals).toMatchObject([{ task: "api", taskAddUsd: 0.5 }]);
    expect(JSON.parse(readFileSync(join(stateDir, "budget.json"), "utf8")).tasks.api).toEqual({ spentUsd: 0.62, limitUsd: 1 });
    // Approved once: under the new limit, nothing more to approve.
    expect(runHelper(["approve", "api"], { cwd: repo }).code).toBe(4);
  });
});
