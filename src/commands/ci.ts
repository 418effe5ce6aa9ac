import { appendFile, mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import * as z from "zod/mini";
import { ciBrief, claudeArgs } from "../ci/brief.js";
import { decideInit, type InitFile } from "../ci/decide-init.js";
import { githubOutputs } from "../ci/github-output.js";
import { phaseInProgress, phaseMatrix } from "../ci/matrix.js";
import { LegResultSchema, RESULT_FILE, sessionCost, type LegResult } from "../ci/result.js";
import { MAX_MATRIX, RUNNER_LABEL, VENDORED_HELPER, WORKFLOW_PATH, workflowYaml, type OnLast } from "../ci/workflow.js";
import { EnvironmentError, ExitCode, InputError, RefusedError, type Refusal } from "../errors.js";
import { acquireFeatureLock } from "../feature/lock.js";
import { openCheckout, openFeature } from "../feature/open.js";
import { sessionDoneRef, verifyRecordPath } from "../feature/paths.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { WorktreeFiles } from "../fs/worktree-files.js";
import { commitOf, isAncestor } from "../git/repo.js";
import { remoteRefs, REMOTE_NAME } from "../state-ref/remote.js";
import { git, gitOk } from "../git/run.js";
import { uncommittedPaths } from "../git/status.js";
import { quote } from "../render/shell.js";
import { helperPath } from "../self.js";
import { runVerify } from "../status/verify.js";
import type { Io } from "../cli.js";import { confinementDecision } from "../start/sandbox.js";


/** A copy of the plugin committed in the repository itself: the workflow runs that one. */
const COMMITTED_PLUGIN_HELPER = "plugin/scripts/parallel.mjs";

export interface CiInitOptions {
  engine: "github";
  runner: string;
  maxParallel: number;
  onLast: OnLast;
  force: boolean;
  dryRun: boolean;
  version: string;
}

/**
 * `ci init`: writes the workflow, and (unless the repository commits the plugin itself) a copy of
 * this helper for it to run, so CI runs exactly the version that wrote the workflow and installs
 * nothing of ours.
 */
export async function ciInitCommand(options: CiInitOptions, io: Io): Promise<ExitCode> {
  const labels = options.runner.split(",").map((l) => l.trim());
  const bad = labels.find((l) => !RUNNER_LABEL.test(l));
  if (bad !== undefined) throw new InputError({ where: "--runner", message: `\`${bad}\` is not a runner label`, fix: "give labels of letters, digits, '.', '_' and '-', separated by commas (ubuntu-latest, or self-hosted,linux)" });
  if (!Number.isInteger(options.maxParallel) || options.maxParallel < 1 || options.maxParallel > MAX_MATRIX) {
    throw new InputError({ where: "--max-parallel", message: `must be a whole number from 1 to ${MAX_MATRIX}`, fix: "give the number of task legs that may run at once" });
  }
  const { mainRoot } = await openCheckout(io.cwd);
  const say = (line = "") => io.stdout(line + "\n");
  const pluginCommitted = (await git(["ls-files", "--error-unmatch", "--", COMMITTED_PLUGIN_HELPER], mainRoot)).exitCode === 0;
  const helper = pluginCommitted ? COMMITTED_PLUGIN_HELPER : VENDORED_HELPER;
  const wanted: Omit<InitFile, "existing">[] = [
    { path: WORKFLOW_PATH, content: workflowYaml({ runner: labels, maxParallel: options.maxParallel, onLast: options.onLast, helper, fileName: WORKFLOW_PATH.split("/").pop()!, version: options.version }) },
  ];
  if (!pluginCommitted) {
    const source = dirname(helperPath());
    for (const file of await helperFiles(source)) wanted.push({ path: join(dirname(VENDORED_HELPER), file), content: await readFile(join(source, file), "utf8") });
  }
  // Through WorktreeFiles: a .github that is a link out of the repository is refused, never written through.
  const tree = await WorktreeFiles.at(mainRoot);
  const files: InitFile[] = await Promise.all(wanted.map(async (f) => ({ ...f, ...(await existing(tree, f.path)) })));
  const decision = decideInit(files, options.force);
  if ("refusals" in decision) throw new RefusedError(decision.refusals);
  const { actions } = decision;
  const verb = { write: "wrote", replace: "replaced", unchanged: "unchanged" } as const;
  for (const a of actions) {
    if (options.dryRun || a.kind === "unchanged") continue;
    await tree.writeFile(a.path, a.content);
  }
  // The workflow by name; the helper's copy as one folder (its chunks' names change with every build).
  const workflow = actions.find((a) => a.path === WORKFLOW_PATH)!;
  const copies = actions.filter((a) => a !== workflow);
  const dryVerb = { write: "would have written", replace: "would have replaced", unchanged: "unchanged" } as const;
  const verbOf = (kind: keyof typeof verb) => (options.dryRun ? dryVerb[kind] : verb[kind]);
  say(`${verbOf(workflow.kind)} ${WORKFLOW_PATH}`);
  const helperDir = dirname(VENDORED_HELPER);
  for (const kind of ["write", "replace", "unchanged"] as const) {
    const n = copies.filter((a) => a.kind === kind).length;
    if (n) say(`${verbOf(kind)} ${helperDir}/ (${n} ${n === 1 ? "file" : "files"} of the helper)`);
  }
  if (options.dryRun) return ExitCode.ok;
  const changed = actions.filter((a) => a.kind !== "unchanged");
  say();
  if (changed.length === 0) say("Nothing changed: the workflow and the helper's copy are already what ci init writes.");
  say(`The workflow runs the helper at ${helper}${pluginCommitted ? " (the plugin this repository commits)" : " (a copy of this helper: commit it with the workflow)"}.`);
  say("Next:");
  if (changed.length) say(`  git add ${[WORKFLOW_PATH, ...(copies.length ? [helperDir] : [])].map(quote).join(" ")} && git commit -m 'claude-parallel workflow' && git push`);
  say("  add the secret ANTHROPIC_API_KEY (or CLAUDE_CODE_OAUTH_TOKEN): gh secret set ANTHROPIC_API_KEY");
  say("  commit the feature's plan (.parallel/<slug>/plan.yaml), then: gh workflow run claude-parallel.yml -f slug=<slug>");
  return ExitCode.ok;
}

/** What is at `rel` now: nothing, or a file's text; a folder, a link or anything else there is refused. */
async function existing(tree: WorktreeFiles, rel: string): Promise<{ existing?: string }> {
  const kind = await tree.kind(rel);
  if (kind === undefined) return {};
  if (kind !== "file") {
    const what = kind === "dir" ? "a folder" : kind === "link" ? "a symbolic link" : "not a regular file";
    throw new RefusedError([{ message: `${rel} is ${what}, where ci init writes a file: nothing was written`, fix: `move it out of the way (in ${quote(tree.root)}: git mv or rm ${quote(rel)}), then run ci init again` }]);
  }
  return { existing: await readFile(await tree.pathFor(rel), "utf8") };
}

/** The running helper's files: its entry and its chunks. */
async function helperFiles(dir: string): Promise<string[]> {
  const chunks = await readdir(join(dir, "chunks")).catch(() => [] as string[]);
  return ["parallel.mjs", ...chunks.filter((c) => c.endsWith(".mjs")).sort().map((c) => `chunks/${c}`)];
}

async function writeOutputs(values: Record<string, string>): Promise<void> {
  const path = process.env.GITHUB_OUTPUT;
  if (!path) throw new EnvironmentError("--github-output needs GITHUB_OUTPUT (set by GitHub Actions)", "run it in a workflow step, or leave out --github-output");
  await appendFile(path, githubOutputs(values));
}

/** `ci matrix <slug>`: the phase in progress as the task job's matrix (JSON), its number, and whether it is the last. */
export async function ciMatrixCommand(options: { slug: string; githubOutput: boolean }, io: Io): Promise<ExitCode> {
  const { feature } = await openFeature(options.slug, io.cwd);
  const m = phaseMatrix(feature.plan, feature.state);
  const values = { matrix: JSON.stringify(m.matrix), phase: String(m.phase), count: String(m.matrix.include.length), last: String(m.last) };
  io.stdout(`${m.phase ? `Phase ${m.phase} of ${feature.plan.phases.length}: ${m.matrix.include.map((l) => l.task).join(", ")}` : "No phase in progress: nothing to run."}\n${JSON.stringify(values, null, 2)}\n`);
  if (options.githubOutput) await writeOutputs(values);
  return ExitCode.ok;
}

function taskOf(feature: Awaited<ReturnType<typeof openFeature>>["feature"], id: string) {
  const phase = phaseInProgress(feature.plan, feature.state);
  const task = phase?.tasks.find((t) => t.id === id);
  if (!phase || !task) throw new RefusedError([{ message: `${id} is not a task of ${feature.slug}'s phase in progress`, fix: "run the workflow's plan job first (it starts the phase)" }]);
  return { phase, task, recorded: feature.state!.phases[String(phase.index)]!.tasks[id] };
}

/**
 * `ci brief <slug> <task>`: the task leg's prompt and Claude Code arguments, and whether its
 * session already succeeded (the remote's done mark lies on the branch): a re-run of the phase
 * skips it, while a leg whose session failed runs again on top of its commits.
 */
export async function ciBriefCommand(options: { slug: string; task: string; remote: string; githubOutput: boolean }, io: Io): Promise<ExitCode> {
  if (!REMOTE_NAME.test(options.remote)) throw new InputError({ where: "--remote", message: `\`${options.remote}\` is not a remote's name`, fix: "give the name of a remote, such as origin" });
  const { feature, mainRoot } = await openFeature(options.slug, io.cwd);
  const { task } = taskOf(feature, options.task);
  const tip = await commitOf(`refs/heads/${task.branch}`, mainRoot);
  const mark = (await remoteRefs(mainRoot, options.remote, feature.slug, [sessionDoneRef(feature.slug, task.id)])).get(sessionDoneRef(feature.slug, task.id));
  const done = tip !== undefined && mark !== undefined && (await isAncestor(mark, tip, mainRoot));
  const values = { prompt: ciBrief(feature.plan, task), claude_args: claudeArgs(task), done: String(done) };
  io.stdout(`${values.prompt}\n\nclaude_args: ${values.claude_args}\n${done ? `The session of ${task.id} already succeeded (at ${mark!.slice(0, 12)}, on ${task.branch}): it is not run again.\n` : ""}`);
  if (options.githubOutput) await writeOutputs(values);
  return ExitCode.ok;
}

/** `ci result <slug> <task>`: after the session, the leg's outcome, cost, uncommitted files and verify, as result.json in --out. */
export async function ciResultCommand(options: { slug: string; task: string; outcome: string; executionFile?: string; out: string }, io: Io): Promise<ExitCode> {
  const { feature, repo } = await openFeature(options.slug, io.cwd);
  const { phase, task } = taskOf(feature, options.task);
  const commit = await gitOk(["rev-parse", "--verify", "HEAD^{commit}"], repo.root);
  const executionText = options.executionFile ? await readFile(options.executionFile, "utf8").catch(() => undefined) : undefined;
  const uncommitted = await uncommittedPaths(repo.root);
  const port = feature.state?.phases[String(phase.index)]?.tasks[task.id]?.port;
  const verify = task.verify ? await runVerify(repo.commonDir, feature.slug, task.id, repo.root, task.verify, commit, port, (await confinementDecision(feature.plan)).confine) : undefined;
  const result: LegResult = {
    version: 1,
    slug: feature.slug,
    phase: phase.index,
    task: task.id,
    branch: task.branch,
    commit,
    outcome: options.outcome,
    ...sessionCost(executionText),
    uncommitted,
    ...(verify && { verify }),
  };
  await mkdir(options.out, { recursive: true });
  await writeFile(join(options.out, RESULT_FILE), JSON.stringify(result, null, 2) + "\n");
  io.stdout(`${task.id}: session ${options.outcome || "not run"}, ${commit.slice(0, 12)}${result.costUsd !== undefined ? `, $${result.costUsd.toFixed(2)}` : ""}${verify ? `, verify exit ${verify.exitCode}` : ""}${uncommitted.length ? `, ${uncommitted.length} uncommitted (not merged): ${uncommitted.slice(0, 5).join(", ")}` : ""}\n`);
  return ExitCode.ok;
}

/**
 * `ci record <slug> <dir>`: reads the legs' result files (the downloaded artifacts), reports each
 * leg and the phase's cost, and records each task's verify result for the commit it ran at, so the
 * sync's preflight checks it exactly as it checks a local `status --verify`. A task with a verify
 * command and no result for its branch's tip stops the sync.
 */
export async function ciRecordCommand(options: { slug: string; dir: string; phase?: number }, io: Io): Promise<ExitCode> {
  const { feature, repo, mainRoot } = await openFeature(options.slug, io.cwd);
  const phase = options.phase !== undefined ? feature.plan.phases[options.phase - 1] : phaseInProgress(feature.plan, feature.state);
  if (!phase || !feature.state?.phases[String(phase.index)]) throw new RefusedError([{ message: `no phase of ${feature.slug} is in progress`, fix: "run the workflow's plan job first" }]);
  const results = new Map<string, LegResult>();
  for (const file of await resultFiles(options.dir)) {
    const parsed = z.safeParse(LegResultSchema, await readFile(file, "utf8").then(JSON.parse).catch(() => undefined));
    if (parsed.success && parsed.data.slug === feature.slug && parsed.data.phase === phase.index) results.set(parsed.data.task, parsed.data);
    else io.stderr(`ignored ${relative(options.dir, file)}: not a result of ${feature.slug} phase ${phase.index}\n`);
  }
  const release = await acquireFeatureLock(repo.commonDir, feature.slug, "ci record");
  const refusals: Refusal[] = [];
  const rows: string[] = [];
  let cost = 0;
  try {
    const skipped = feature.state.phases[String(phase.index)]!.tasks;
    for (const task of phase.tasks.filter((t) => !skipped[t.id]?.skipped)) {
      const r = results.get(task.id);
      const tip = await commitOf(`refs/heads/${task.branch}`, mainRoot);
      cost += r?.costUsd ?? 0;
      rows.push(`| ${task.id} | ${r ? r.outcome || "not run" : "no result"} | ${r?.costUsd !== undefined ? `$${r.costUsd.toFixed(2)}` : "-"} | ${tip?.slice(0, 12) ?? "missing"} | ${r?.verify ? `exit ${r.verify.exitCode}` : task.verify ? "not run" : "-"} | ${r?.uncommitted.length ? r.uncommitted.length : 0} |`);
      if (!task.verify) continue;
      if (r?.verify && tip !== undefined && r.verify.commit === tip && r.verify.command === task.verify) {
        await writeFileAtomic(verifyRecordPath(repo.commonDir, feature.slug, task.id), JSON.stringify(r.verify, null, 2) + "\n");
      } else {
        refusals.push({ task: task.id, message: `no result of its verify \`${task.verify}\` at its branch's tip ${tip?.slice(0, 12) ?? "(missing)"}`, fix: "re-run the task's leg (it runs the verify after the session), or run the sync where its worktree is" });
      }
    }
  } finally {
    await release();
  }
  const table = [`### ${feature.slug}: phase ${phase.index} of ${feature.plan.phases.length}`, "", "| task | session | cost | branch tip | verify | uncommitted |", "| --- | --- | ---: | --- | --- | ---: |", ...rows, "", `Cost of the phase's sessions: $${cost.toFixed(2)}`, ""].join("\n");
  io.stdout(table + "\n");
  if (process.env.GITHUB_STEP_SUMMARY) await appendFile(process.env.GITHUB_STEP_SUMMARY, table + "\n");
  if (refusals.length) throw new RefusedError(refusals);
  return ExitCode.ok;
}

async function resultFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  for (const e of entries) if (e.isFile() && e.name === RESULT_FILE) found.push(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
  return found.sort();
}
