import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { runStandin, type Session } from "./claude-code-action-standin.js";
import { git, gitEnv } from "./git.js";

/**
 * Runs a generated GitHub Actions workflow's jobs locally, step by step: each job in fresh clones
 * of a bare `origin`, every `run:` step under bash with the env the workflow gives it (workflow,
 * job and step `env:`, expressions evaluated), `$GITHUB_OUTPUT` read back into step and job
 * outputs. Each job's token has only the permissions the job declares: a job without
 * `contents: write` cannot push, and the stand-in `gh` refuses what `actions` and `pull-requests`
 * do not allow. The `uses:` steps are played by stand-ins: checkout clones, the artifact actions
 * copy folders, a local action runs its steps, and claude-code-action is
 * ./claude-code-action-standin.ts around the test's session script. Only the expression forms the
 * workflow uses are understood; anything else throws, so a workflow change the simulation cannot
 * follow fails the test instead of being skipped.
 */

type Context = Record<string, unknown>;

export interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
  "timeout-minutes"?: number;
}

export interface Job {
  needs?: string | string[];
  if?: string;
  env?: Record<string, string>;
  outputs?: Record<string, string>;
  permissions?: Record<string, string>;
  strategy?: { matrix: string; "fail-fast": boolean; "max-parallel": number };
  "timeout-minutes"?: number;
  steps: Step[];
}

export interface Workflow {
  env: Record<string, string>;
  jobs: Record<string, Job>;
  permissions: Record<string, string>;
  concurrency: { group: string };
}

export const parseWorkflow = (text: string) => parse(text) as Workflow;

export interface SimOptions {
  workflow: Workflow;
  origin: string;
  /** Where each job's clone and temp folders go. */
  root: string;
  inputs: Record<string, string>;
  /** Who started the run (`github.actor`): a person, or `github-actions[bot]` for a dispatched run. */
  actor: string;
  /** Plays the model in each session claude-code-action runs. */
  session: Session;
  /** Called before each step (a lost race is staged here). */
  beforeStep?: (job: string, step: Step, cwd: string) => void;
  /** Extra environment (PATH with the stand-in `gh`). */
  env?: Record<string, string>;
}

export interface StepLog {
  job: string;
  leg?: string;
  step: string;
  code: number;
  stdout: string;
  stderr: string;
}

export interface JobResult {
  result: "success" | "failure" | "skipped";
  outputs: Record<string, string>;
}

export interface RunResult {
  id: string;
  actor: string;
  sha: string;
  inputs: Record<string, string>;
  jobs: Record<string, JobResult>;
  /** Each leg's result, by task. */
  legs: Record<string, "success" | "failure">;
  log: StepLog[];
  /** The run's artifacts: a re-run of some of its jobs sees them, as on GitHub. */
  artifacts: string;
}

let runCounter = 0;

/**
 * One run of the workflow; or, with `only`, a re-run of some of a run's jobs (and of some legs of
 * its matrix), with the run's inputs, actor, commit and artifacts, the other jobs' results kept.
 */
export function runWorkflow(o: SimOptions, only?: { jobs: string[]; legs?: string[]; of: RunResult }): RunResult {
  const id = only?.of.id ?? String(1000 + ++runCounter);
  const attempt = ++runCounter;
  const actor = only?.of.actor ?? o.actor;
  const inputs = only?.of.inputs ?? o.inputs;
  const sha = only?.of.sha ?? git(o.origin, "rev-parse", "refs/heads/main");
  const artifacts = only?.of.artifacts ?? join(o.root, `artifacts-${id}`);
  mkdirSync(artifacts, { recursive: true });
  const needs: Record<string, JobResult> = { ...(only?.of.jobs ?? {}) };
  const legs: Record<string, "success" | "failure"> = { ...(only?.of.legs ?? {}) };
  const log: StepLog[] = [];
  const run = { id, attempt, actor, sha, artifacts };
  for (const [name, job] of Object.entries(o.workflow.jobs)) {
    if (only && !only.jobs.includes(name)) continue;
    const base: Context = { inputs, needs, github: { token: `token-of-${name}`, sha, run_id: id, actor }, secrets: {} };
    if (job.if !== undefined && !condition(job.if, base, needsSucceeded(job, needs))) {
      needs[name] = { result: "skipped", outputs: {} };
      continue;
    }
    if (job.strategy) {
      const matrix = evaluate(job.strategy.matrix, base) as { include: Record<string, string>[] };
      for (const leg of matrix.include) {
        if (only?.legs && !only.legs.includes(leg.task!)) continue;
        legs[leg.task!] = runJob(o, run, name, job, { ...base, matrix: leg }, log, leg.task).result === "failure" ? "failure" : "success";
      }
      needs[name] = { result: Object.values(legs).includes("failure") ? "failure" : "success", outputs: {} };
    } else needs[name] = runJob(o, run, name, job, base, log);
  }
  return { id, actor, sha, inputs, jobs: needs, legs, log, artifacts };
}

function needsSucceeded(job: Job, needs: Record<string, JobResult>): boolean {
  const list = job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
  return list.every((n) => needs[n]?.result === "success");
}

function runJob(o: SimOptions, run: { id: string; attempt: number; actor: string; sha: string; artifacts: string }, name: string, job: Job, context: Context, log: StepLog[], leg?: string): JobResult {
  const home = join(o.root, `job-${run.attempt}-${name}${leg ? `-${leg}` : ""}`);
  const cwd = join(home, "repo");
  const temp = join(home, "temp");
  mkdirSync(temp, { recursive: true });
  mkdirSync(cwd, { recursive: true });
  const steps: Record<string, { outputs: Record<string, string>; outcome: string }> = {};
  const permissions = job.permissions ?? o.workflow.permissions ?? {};
  let failed = false;
  const ctx = { ...context, steps, runner: { temp } };
  const baseEnv = (): Record<string, string> => ({
    ...(gitEnv as Record<string, string>),
    ...o.env,
    HOME: home,
    GITHUB_ACTIONS: "true",
    CI: "true",
    GITHUB_RUN_ID: run.id,
    GITHUB_SHA: run.sha,
    GITHUB_REF_NAME: "main",
    GITHUB_SERVER_URL: "https://github.invalid",
    GITHUB_REPOSITORY: "owner/repo",
    GITHUB_STEP_SUMMARY: join(temp, "summary.md"),
    RUNNER_TEMP: temp,
    // What the stand-in gh lets this job's token do.
    SIM_PERMISSIONS: JSON.stringify(permissions),
  });
  const shell = (script: string, env: Record<string, string>, label: string) => {
    const outputFile = join(temp, `output-${Math.random().toString(36).slice(2)}`);
    writeFileSync(outputFile, "");
    const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], { cwd, env: { ...env, GITHUB_OUTPUT: outputFile }, encoding: "utf8" });
    log.push({ job: name, ...(leg && { leg }), step: label, code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr });
    return { code: r.status ?? 1, outputs: readOutputs(readFileSync(outputFile, "utf8")) };
  };
  for (const step of job.steps) {
    const label = step.name ?? step.uses ?? step.run ?? "";
    const go = step.if === undefined ? !failed : condition(step.if, ctx, !failed);
    if (!go) {
      if (step.id) steps[step.id] = { outputs: {}, outcome: "skipped" };
      continue;
    }
    o.beforeStep?.(name, step, cwd);
    const withs = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, String(interpolate(String(v), ctx))]));
    const env = { ...baseEnv(), ...envOf(o.workflow.env, ctx), ...envOf(job.env, ctx), ...envOf(step.env, ctx) };
    let outputs: Record<string, string> = {};
    let code = 0;
    if (step.uses?.startsWith("actions/checkout@")) {
      if (withs.repository) throw new Error("the simulation checks out only the workflow's own repository");
      const dir = withs.path ? join(cwd, withs.path) : cwd;
      rmSync(dir, { recursive: true, force: true });
      git(home, "clone", "-q", o.origin, dir);
      if (withs.ref === run.sha) git(dir, "checkout", "-q", "--detach", run.sha);
      else if (withs.ref) git(dir, "checkout", "-q", "-B", withs.ref, `origin/${withs.ref}`);
      // The job's token: without contents: write, a push is refused.
      if (!withs.path && permissions.contents !== "write") git(dir, "config", "remote.origin.pushurl", join(home, "the-token-of-this-job-cannot-push"));
    } else if (step.uses?.startsWith("anthropics/claude-code-action@")) {
      const result = runStandin(
        { actor: run.actor, with: withs, cwd, runnerTemp: temp, home, env: { ...baseEnv(), ...envOf(o.workflow.env, ctx), ...envOf(job.env, ctx) }, task: leg ?? "" },
        o.session,
      );
      log.push({ job: name, ...(leg && { leg }), step: label, code: result.outcome === "success" ? 0 : 1, stdout: JSON.stringify({ tools: result.tools }), stderr: result.refused ?? "" });
      outputs = result.outputs;
      code = result.outcome === "success" ? 0 : 1;
    } else if (step.uses?.startsWith("actions/upload-artifact@")) {
      const target = join(run.artifacts, withs.name!);
      if (!existsSync(withs.path!) || readdirSync(withs.path!).length === 0) code = withs["if-no-files-found"] === "error" ? 1 : 0;
      else {
        rmSync(target, { recursive: true, force: true });
        cpSync(withs.path!, target, { recursive: true });
      }
    } else if (step.uses?.startsWith("actions/download-artifact@")) {
      if (withs.name) {
        if (!existsSync(join(run.artifacts, withs.name))) code = 1;
        else cpSync(join(run.artifacts, withs.name), withs.path!, { recursive: true });
      } else {
        const prefix = withs.pattern!.replace(/\*$/, "");
        for (const a of readdirSync(run.artifacts).filter((n) => n.startsWith(prefix))) cpSync(join(run.artifacts, a), join(withs.path!, a), { recursive: true });
      }
    } else if (step.uses?.startsWith("./")) {
      const action = parse(readFileSync(join(cwd, step.uses, "action.yml"), "utf8")) as { runs: { using: string; steps: Step[] } };
      if (action.runs.using !== "composite") throw new Error(`the simulation runs only composite local actions: ${step.uses}`);
      for (const inner of action.runs.steps) {
        if (inner.run === undefined) throw new Error(`the simulation runs only run: steps of ${step.uses}`);
        code = shell(inner.run, env, `${label} / ${inner.run}`).code;
        if (code !== 0) break;
      }
    } else if (step.run !== undefined) {
      const r = shell(step.run, env, label);
      code = r.code;
      outputs = r.outputs;
    } else throw new Error(`the simulation does not know the step ${label}`);
    if (step.id) steps[step.id] = { outputs, outcome: code === 0 ? "success" : "failure" };
    if (code !== 0) failed = true;
  }
  const jobOutputs = Object.fromEntries(Object.entries(job.outputs ?? {}).map(([k, v]) => [k, String(interpolate(v, ctx))]));
  return { result: failed ? "failure" : "success", outputs: jobOutputs };
}

function envOf(env: Record<string, string> | undefined, ctx: Context): Record<string, string> {
  return Object.fromEntries(Object.entries(env ?? {}).map(([k, v]) => [k, String(interpolate(String(v), ctx))]));
}

/** GitHub's `$GITHUB_OUTPUT` format: `name=value` lines and `name<<DELIMITER` blocks. */
export function readOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const block = /^([^=<]+)<<(.+)$/.exec(line);
    if (block) {
      const end = lines.indexOf(block[2]!, i + 1);
      if (end < 0) throw new Error(`unterminated output ${block[1]}`);
      out[block[1]!] = lines.slice(i + 1, end).join("\n");
      i = end;
    } else if (line.includes("=")) out[line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1);
  }
  return out;
}

/** A value with `${{ }}` expressions: a lone expression keeps its type (fromJSON), others are spliced as text. */
function interpolate(text: string, ctx: Context): unknown {
  const lone = /^\$\{\{(.*)\}\}$/s.exec(text.trim());
  if (lone && !lone[1]!.includes("}}")) return evaluate(lone[1]!, ctx);
  return text.replace(/\$\{\{(.*?)\}\}/g, (_, e: string) => String(evaluate(e, ctx) ?? ""));
}

function evaluate(expression: string, ctx: Context): unknown {
  const e = expression
    .trim()
    .replace(/^\$\{\{(.*)\}\}$/s, "$1")
    .trim();
  const call = /^fromJSON\((.*)\)$/.exec(e);
  if (call) return JSON.parse(String(evaluate(call[1]!, ctx)));
  if (/^'[^']*'$/.test(e)) return e.slice(1, -1);
  // `a || b`: the first value that is not empty (a secret of yours, else the job's token).
  if (e.includes("||"))
    return (
      e
        .split("||")
        .map((p) => evaluate(p, ctx))
        .find((v) => v !== "" && v !== undefined) ?? ""
    );
  if (!/^[a-z_][\w-]*(\.[\w-]+)*$/i.test(e)) throw new Error(`the simulation cannot evaluate \`${e}\``);
  let value: unknown = ctx;
  for (const key of e.split(".")) value = value === undefined || value === null ? undefined : (value as Record<string, unknown>)[key];
  return value ?? "";
}

/** `if:` conditions: `&&` of `always()`, `!cancelled()`, and `<expr> == '<text>'` / `!=`. */
function condition(text: string, ctx: Context, success: boolean): boolean {
  const body = text
    .trim()
    .replace(/^\$\{\{(.*)\}\}$/s, "$1")
    .trim();
  let statusFunction = false;
  const ok = body.split("&&").every((raw) => {
    const term = raw.trim();
    if (term === "always()" || term === "!cancelled()") return (statusFunction = true);
    const m = /^(.+?)\s*(==|!=)\s*'([^']*)'$/.exec(term);
    if (!m) throw new Error(`the simulation cannot evaluate the condition \`${term}\``);
    const value = String(evaluate(m[1]!, ctx));
    return m[2] === "==" ? value === m[3] : value !== m[3];
  });
  return ok && (statusFunction || success);
}

/** A run the stand-in gh dispatched: the next phase's, by the workflow's own token. */
export interface Dispatch {
  displayTitle: string;
  status: string;
  inputs: Record<string, string>;
}

/**
 * A stand-in `gh` on PATH, for a job's token (SIM_PERMISSIONS): `auth status` answers like gh with
 * GH_TOKEN set; `workflow run` (actions: write) records a dispatched run, listed by `run list`
 * (actions: read) until the test runs it; `pr create` (pull-requests: write) opens a pull request
 * (once per branch) that `pr list --head` then finds (with `--json`, as a list of url and state).
 */
export function fakeGh(dir: string): { path: string; calls: () => string[][]; dispatches: () => Dispatch[]; markRun: (d: Dispatch) => void } {
  mkdirSync(dir, { recursive: true });
  const record = join(dir, "calls.jsonl");
  const runs = join(dir, "runs.json");
  writeFileSync(runs, "[]");
  writeFileSync(
    join(dir, "gh"),
    `#!/usr/bin/env node
const fs = require("fs");
const args = process.argv.slice(2);
const may = JSON.parse(process.env.SIM_PERMISSIONS || "{}");
const need = (scope, level) => { if (may[scope] !== "write" && !(level === "read" && may[scope] === "read")) { console.error("HTTP 403: Resource not accessible by integration (" + scope + ": " + level + ")"); process.exit(1); } };
if (args[0] === "auth" && args[1] === "status") process.exit(process.env.GH_TOKEN ? 0 : 1);
fs.appendFileSync(${JSON.stringify(record)}, JSON.stringify(args) + "\\n");
const list = JSON.parse(fs.readFileSync(${JSON.stringify(runs)}, "utf8"));
const prs = ${JSON.stringify(join(dir, "prs.json"))};
if (args[0] === "workflow" && args[1] === "run") {
  need("actions", "write");
  const inputs = {};
  args.forEach((a, i) => { if (args[i - 1] === "-f") inputs[a.slice(0, a.indexOf("="))] = a.slice(a.indexOf("=") + 1); });
  list.push({ displayTitle: "claude-parallel " + inputs.slug + (inputs.phase ? " phase " + inputs.phase : ""), status: "queued", url: "https://github.invalid/owner/repo/actions/runs/" + (list.length + 1), inputs });
  fs.writeFileSync(${JSON.stringify(runs)}, JSON.stringify(list));
} else if (args[0] === "run" && args[1] === "list") {
  need("actions", "read");
  console.log(JSON.stringify(list.map(({ displayTitle, status, url }) => ({ displayTitle, status, url }))));
} else if (args[0] === "pr" && args[1] === "list") {
  need("pull-requests", "read");
  const head = args[args.indexOf("--head") + 1];
  const open = fs.existsSync(prs) && JSON.parse(fs.readFileSync(prs, "utf8")).includes(head);
  // With --json, the fields asked for, as gh gives them: its head is the branch as the remote has it.
  const headRefOid = () => require("child_process").execFileSync("git", ["ls-remote", "origin", "refs/heads/" + head], { encoding: "utf8" }).split("\t")[0];
  if (args.includes("--json")) console.log(JSON.stringify(open ? [{ url: "https://github.invalid/owner/repo/pull/1", state: "OPEN", headRefOid: headRefOid(), isCrossRepository: false }] : []));
  else if (open) console.log("https://github.invalid/owner/repo/pull/1");
} else if (args[0] === "pr" && args[1] === "create") {
  need("pull-requests", "write");
  const head = args[args.indexOf("--head") + 1];
  const open = fs.existsSync(prs) ? JSON.parse(fs.readFileSync(prs, "utf8")) : [];
  if (open.includes(head)) { console.error("a pull request for branch " + head + " already exists"); process.exit(1); }
  fs.writeFileSync(prs, JSON.stringify([...open, head]));
  console.log("https://github.invalid/owner/repo/pull/1");
}
`,
    { mode: 0o755 },
  );
  return {
    path: dir,
    calls: () =>
      existsSync(record)
        ? readFileSync(record, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l) as string[])
        : [],
    dispatches: () => JSON.parse(readFileSync(runs, "utf8")) as Dispatch[],
    markRun: (d) => {
      const list = JSON.parse(readFileSync(runs, "utf8")) as Dispatch[];
      for (const r of list) if (r.displayTitle === d.displayTitle && r.status !== "completed") r.status = "completed";
      writeFileSync(runs, JSON.stringify(list));
    },
  };
}
