import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { git, gitEnv } from "./git.js";

/**
 * Runs a generated GitHub Actions workflow's jobs locally, step by step: each job in a fresh clone
 * of a bare `origin`, every `run:` step under bash with the env the workflow gives it (workflow,
 * job and step `env:`, expressions evaluated), `$GITHUB_OUTPUT` read back into step and job
 * outputs. The `uses:` steps are played by stand-ins: checkout clones, the artifact actions copy
 * folders, and claude-code-action is the test's script. Only the expression forms the workflow
 * uses are understood; anything else throws, so a workflow change the simulation cannot follow
 * fails the test instead of being skipped.
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
}

export interface Job {
  needs?: string | string[];
  if?: string;
  env?: Record<string, string>;
  outputs?: Record<string, string>;
  strategy?: { matrix: string; "fail-fast": boolean; "max-parallel": number };
  steps: Step[];
}

export interface Workflow {
  env: Record<string, string>;
  jobs: Record<string, Job>;
  permissions: Record<string, string>;
  concurrency: { group: string };
}

export const parseWorkflow = (text: string) => parse(text) as Workflow;

export interface ActionCall {
  job: string;
  matrix: Record<string, string>;
  with: Record<string, string>;
  cwd: string;
  runnerTemp: string;
}

export interface SimOptions {
  workflow: Workflow;
  origin: string;
  /** Where each job's clone and temp folders go. */
  root: string;
  inputs: Record<string, string>;
  /** Plays claude-code-action: edits and commits in `cwd`; returns its outputs. */
  claude: (call: ActionCall) => Record<string, string>;
  /** Called before each step (a lost race is staged here). */
  beforeStep?: (job: string, step: Step, cwd: string) => void;
  /** Extra environment (PATH with a stand-in `gh`). */
  env?: Record<string, string>;
}

export interface StepLog {
  job: string;
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
  jobs: Record<string, JobResult>;
  log: StepLog[];
  /** The run's artifacts: a re-run of some of its jobs (`only`) sees them, as on GitHub. */
  artifacts: string;
}

let runCounter = 0;

export function runWorkflow(o: SimOptions, only?: { jobs: string[]; of: RunResult }): RunResult {
  const run = ++runCounter;
  const artifacts = only?.of.artifacts ?? join(o.root, `artifacts-${run}`);
  mkdirSync(artifacts, { recursive: true });
  const needs: Record<string, JobResult> = { ...(only?.of.jobs ?? {}) };
  const log: StepLog[] = [];
  for (const [name, job] of Object.entries(o.workflow.jobs)) {
    if (only && !only.jobs.includes(name)) continue;
    const base: Context = { inputs: o.inputs, needs, github: { token: "simulated-token" }, secrets: {} };
    if (job.if !== undefined && !condition(job.if, base, needsSucceeded(job, needs))) {
      needs[name] = { result: "skipped", outputs: {} };
      continue;
    }
    if (job.strategy) {
      const matrix = evaluate(job.strategy.matrix, base) as { include: Record<string, string>[] };
      let failed = false;
      for (const leg of matrix.include) {
        const r = runJob(o, name, job, { ...base, matrix: leg }, artifacts, log, `${run}-${leg.task}`);
        failed ||= r.result === "failure";
      }
      needs[name] = { result: failed ? "failure" : "success", outputs: {} };
    } else needs[name] = runJob(o, name, job, base, artifacts, log, `${run}`);
  }
  return { jobs: needs, log, artifacts };
}

function needsSucceeded(job: Job, needs: Record<string, JobResult>): boolean {
  const list = job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
  return list.every((n) => needs[n]?.result === "success");
}

function runJob(o: SimOptions, name: string, job: Job, context: Context, artifacts: string, log: StepLog[], tag: string): JobResult {
  const home = join(o.root, `job-${tag}-${name}`);
  const cwd = join(home, "repo");
  const temp = join(home, "temp");
  mkdirSync(temp, { recursive: true });
  const steps: Record<string, { outputs: Record<string, string>; outcome: string }> = {};
  let failed = false;
  const ctx = { ...context, steps, runner: { temp } };
  for (const step of job.steps) {
    const label = step.name ?? step.uses ?? step.run ?? "";
    const run = step.if === undefined ? !failed : condition(step.if, ctx, !failed);
    if (!run) {
      if (step.id) steps[step.id] = { outputs: {}, outcome: "skipped" };
      continue;
    }
    o.beforeStep?.(name, step, cwd);
    const withs = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, String(interpolate(String(v), ctx))]));
    let outputs: Record<string, string> = {};
    let code = 0;
    if (step.uses?.startsWith("actions/checkout@")) {
      git(home, "clone", "-q", o.origin, "repo");
      if (withs.ref) git(cwd, "checkout", "-q", "-B", withs.ref, `origin/${withs.ref}`);
    } else if (step.uses?.startsWith("anthropics/claude-code-action@")) {
      outputs = o.claude({ job: name, matrix: (ctx as { matrix?: Record<string, string> }).matrix ?? {}, with: withs, cwd, runnerTemp: temp });
    } else if (step.uses?.startsWith("actions/upload-artifact@")) {
      cpSync(withs.path!, join(artifacts, withs.name!), { recursive: true });
    } else if (step.uses?.startsWith("actions/download-artifact@")) {
      const prefix = withs.pattern!.replace(/\*$/, "");
      for (const a of readdirSync(artifacts).filter((n) => n.startsWith(prefix))) cpSync(join(artifacts, a), join(withs.path!, a), { recursive: true });
    } else if (step.run !== undefined) {
      const outputFile = join(temp, `output-${Object.keys(steps).length}-${Math.random().toString(36).slice(2)}`);
      writeFileSync(outputFile, "");
      const env: Record<string, string> = {
        ...(gitEnv as Record<string, string>),
        ...o.env,
        ...envOf(o.workflow.env, ctx),
        ...envOf(job.env, ctx),
        ...envOf(step.env, ctx),
        GITHUB_OUTPUT: outputFile,
        GITHUB_STEP_SUMMARY: join(temp, "summary.md"),
        RUNNER_TEMP: temp,
        GITHUB_REF_NAME: "main",
        CI: "true",
      };
      const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run], { cwd, env, encoding: "utf8" });
      code = r.status ?? 1;
      log.push({ job: name, step: label, code, stdout: r.stdout, stderr: r.stderr });
      outputs = readOutputs(readFileSync(outputFile, "utf8"));
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
  const e = expression.trim().replace(/^\$\{\{(.*)\}\}$/s, "$1").trim();
  const call = /^fromJSON\((.*)\)$/.exec(e);
  if (call) return JSON.parse(String(evaluate(call[1]!, ctx)));
  if (/^'[^']*'$/.test(e)) return e.slice(1, -1);
  if (!/^[a-z_][\w-]*(\.[\w-]+)*$/i.test(e)) throw new Error(`the simulation cannot evaluate \`${e}\``);
  let value: unknown = ctx;
  for (const key of e.split(".")) value = value === undefined || value === null ? undefined : (value as Record<string, unknown>)[key];
  return value ?? "";
}

/** `if:` conditions: `&&` of `always()`, `!cancelled()`, and `<expr> == '<text>'` / `!=`. */
function condition(text: string, ctx: Context, success: boolean): boolean {
  const body = text.trim().replace(/^\$\{\{(.*)\}\}$/s, "$1").trim();
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

/** A stand-in `gh` on PATH that records its arguments and answers like a logged-in gh. */
export function fakeGh(dir: string): { path: string; calls: () => string[][] } {
  mkdirSync(dir, { recursive: true });
  const record = join(dir, "calls.jsonl");
  writeFileSync(
    join(dir, "gh"),
    `#!/usr/bin/env node\nrequire("fs").appendFileSync(${JSON.stringify(record)}, JSON.stringify(process.argv.slice(2)) + "\\n");\nif (process.argv[2] === "pr") console.log("https://github.invalid/o/r/pull/1");\n`,
    { mode: 0o755 },
  );
  return {
    path: dir,
    calls: () => (existsSync(record) ? readFileSync(record, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as string[]) : []),
  };
}
