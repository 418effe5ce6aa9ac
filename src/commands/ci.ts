import { createHash } from "node:crypto";
import { appendFile, copyFile, mkdir, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, relative } from "node:path";
import * as z from "zod/mini";
import { ciBrief, claudeArgs, RULE_FIX, unexpressibleVerifies } from "../ci/brief.js";
import { decideInit, type InitFile } from "../core/decide/decide-init.js";
import { decideDispatch, runTitle, type ListedRun } from "../ci/dispatch.js";
import { githubOutputs } from "../ci/github-output.js";
import { phaseMatrix, runPhase } from "../ci/matrix.js";
import { BUNDLE_FILE, LegResultSchema, legSession, RESULT_FILE, sessionFacts, TRANSCRIPT_FILE, type LegResult } from "../ci/result.js";
import {
  helperEntry,
  legArtifactPrefix,
  MARKETPLACE_NAME,
  MAX_MATRIX,
  PLUGIN_NAME,
  RUNNER_LABEL,
  SETUP_ACTION_DIR,
  setupActionYaml,
  VENDORED_DIR,
  WORKFLOW_PATH,
  workflowYaml,
  type HelperSource,
  type OnLast,
} from "../ci/workflow.js";
import { EnvironmentError, ExitCode, InputError, RefusedError, type Refusal } from "../core/errors.js";
import { withFeatureLock } from "../feature/lock.js";
import { openCheckout, openFeature, type FeatureContext } from "../state-ref/open-feature.js";
import { sessionDoneRef, stateRef, verifyRecordPath } from "../core/state/paths.js";
import { writeState } from "../feature/store.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { WorktreeFiles } from "../fs/worktree-files.js";
import { commitOf, isAncestor } from "../git/repo.js";
import { git, gitOk } from "../git/run.js";
import { uncommittedPaths } from "../git/status.js";
import type { PlannedPhase } from "../core/plan/build.js";
import { runOk } from "../proc.js";
import { dryRunText } from "../core/render/dry-run.js";
import { quote } from "../core/text/shell.js";
import { helperPath } from "../self.js";
import { ignoreSessionDir } from "../session/session-files.js";
import { writeTaskSessionFiles } from "../session/task-rules.js";
import type { RemoteUpdate } from "../core/decide/decide-share.js";
import { pushAtomic, remoteRefs } from "../state-ref/remote.js";
import { localStateCommit, recordStateCommit, treeOfCommit } from "../state-ref/state-commit.js";
import { runVerify } from "../session/verify.js";
import type { Io } from "../core/io.js";
import { confinementDecision } from "../session/sandbox.js";
import { oneOf, phaseNumber, phaseOption, str, usageError } from "../core/command-args.js";
import type { CommandSpec, Values } from "../core/command-spec.js";
import { didYouMean } from "../core/text/suggest.js";
import { VERSION } from "../core/version.js";

export const spec: CommandSpec = {
  name: "ci",
  synopsis: ["init [--engine github] [--runner LABELS] [--max-parallel N] [--on-last pr|none]", "[--setup CMD] [--source OWNER/REPO@REF] [--force] [--dry-run]"],
  summary: ["Write .github/workflows/claude-parallel.yml: each run executes one phase of a feature", "on GitHub Actions (one job per task, with claude-code-action) and dispatches the next."],
  details: [
    "The workflow runs this helper from the workflow's own commit, checked out apart from the project (the plugin/ the repository commits, or a copy ci init writes under .github/claude-parallel/), or from --source, a repository at a pinned ref whose helper must be this one. It also writes .github/actions/claude-parallel-setup/action.yml, your project's setup, when there is none (never replaced). It refuses to replace a different workflow file without --force. docs/ci.md tells the whole setup.",
    "The workflow's steps call these subcommands (not for interactive use): `ci plan <slug> --run ID [--phase N] [--github-output]` starts the run's phase and prints the task matrix; `ci prepare <slug> <task> --phase N [--github-output]` writes a leg's session files and gives its prompt and arguments; `ci result <slug> <task> --phase N --start C --outcome O [--execution-file F] --out DIR` records a leg's commits (a bundle), session and verify; `ci land <slug> <dir> --phase N` pushes the legs' commits and records their sessions; `ci record <slug> <dir> --phase N` checks the legs before a sync; `ci verdict <slug> --phase N --out DIR` writes the merged tree the verify passed on; `ci publish <slug> --phase N --verdict DIR` merges again and publishes that tree; `ci dispatch <slug> --after N --workflow FILE --ref REF` starts the next phase's run once.",
    "`ci resume <slug> <task> <dir>` (yours): puts a CI leg's transcript, from its artifact downloaded into <dir> (gh run download <run id> -n claude-parallel-phase-<N>-<task> -D <dir>), where Claude Code finds it for the task's worktree here, so `claude --resume <id>` there goes on with the leg's session.",
  ],
  options: [
    { name: "engine", type: "string", value: "github", text: "The CI engine (only github: GitHub Actions)." },
    { name: "runner", type: "string", value: "LABELS", text: "The jobs' runner labels, comma-separated (default: ubuntu-latest; self-hosted,linux for a fleet)." },
    { name: "max-parallel", type: "string", value: "N", text: "At most N task legs at once (default: 8)." },
    { name: "on-last", type: "string", value: "pr|none", text: "After the last phase: open the pull request into base (pr, default) or stop (none)." },
    { name: "setup", type: "string", value: "CMD", text: "The project's setup command (like 'npm ci'), written into the setup action when ci init creates it." },
    { name: "source", type: "string", value: "OWNER/REPO@REF", text: "Take the helper from that repository at that ref (a commit id) instead of a copy in this repository." },
    { name: "force", type: "boolean", text: "Replace a workflow file (or plugin copy) that differs." },
    { name: "dry-run", type: "boolean", text: "Say what it would write and write nothing." },
    { name: "github-output", type: "boolean", text: "(plan, prepare) Also write the values to $GITHUB_OUTPUT." },
    { name: "run", type: "string", value: "ID", text: "(plan) The workflow run's id." },
    { name: "phase", type: "string", value: "N", text: "(plan) The phase to start; (others) the run's phase." },
    { name: "start", type: "string", value: "C", text: "(result) The commit the leg checked out." },
    { name: "outcome", type: "string", value: "O", text: "(result) The session step's outcome." },
    { name: "execution-file", type: "string", value: "F", text: "(result) claude-code-action's execution file." },
    { name: "out", type: "string", value: "DIR", text: "(result, verdict) Where to write the files." },
    { name: "verdict", type: "string", value: "DIR", text: "(publish) The sync job's verdict." },
    { name: "after", type: "string", value: "N", text: "(dispatch) The phase just published." },
    { name: "workflow", type: "string", value: "FILE", text: "(dispatch) The workflow's file name." },
    { name: "ref", type: "string", value: "REF", text: "(dispatch) The branch to run the workflow from." },
  ],
  positionals: 4,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused, ExitCode.verifyFailed],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  const [sub, slug, arg] = positionals;
  if (sub !== "resume" && positionals[3] !== undefined) throw usageError(`unexpected argument \`${positionals[3]}\``);
  const need = (what: string | undefined, usage: string) => {
    if (!what) throw usageError(`\`ci ${sub}\` needs more arguments`, `run \`claude-parallel ci ${usage}\``);
    return what;
  };
  const phase = (usage: string) => phaseNumber(need(str(values.phase), usage));
  switch (sub) {
    case "init": {
      oneOf("--engine", str(values.engine) ?? "github", ["github"] as const);
      const max = str(values["max-parallel"]) ?? "8";
      if (!/^[0-9]{1,4}$/.test(max)) throw usageError(`--max-parallel takes a number, not \`${max}\``);
      const onLast = oneOf("--on-last", str(values["on-last"]) ?? "pr", ["pr", "none"] as const);
      if (slug !== undefined) throw usageError(`unexpected argument \`${slug}\``);
      return ciInitCommand(
        {
          engine: "github",
          runner: str(values.runner) ?? "ubuntu-latest",
          maxParallel: Number(max),
          onLast,
          force: values.force === true,
          dryRun: values["dry-run"] === true,
          version: VERSION,
          setup: str(values.setup),
          source: str(values.source),
        },
        io,
      );
    }
    case "plan": {
      const usage = "plan <slug> --run ID";
      return ciPlanCommand({ slug: need(slug, usage), run: need(str(values.run), usage), phase: phaseOption(values), githubOutput: values["github-output"] === true }, io);
    }
    case "prepare": {
      const usage = "prepare <slug> <task> --phase N";
      return ciPrepareCommand({ slug: need(slug, usage), task: need(arg, usage), phase: phase(usage), githubOutput: values["github-output"] === true }, io);
    }
    case "result": {
      const usage = "result <slug> <task> --phase N --start C --outcome O --out DIR";
      return ciResultCommand(
        {
          slug: need(slug, usage),
          task: need(arg, usage),
          phase: phase(usage),
          start: need(str(values.start), usage),
          outcome: str(values.outcome) ?? "",
          executionFile: str(values["execution-file"]) || undefined,
          out: need(str(values.out), usage),
        },
        io,
      );
    }
    case "land":
    case "record": {
      const usage = `${sub} <slug> <dir> --phase N`;
      const o = { slug: need(slug, usage), dir: need(arg, usage), phase: phase(usage) };
      return sub === "land" ? ciLandCommand(o, io) : ciRecordCommand(o, io);
    }
    case "verdict": {
      const usage = "verdict <slug> --phase N --out DIR";
      return ciVerdictCommand({ slug: need(slug, usage), phase: phase(usage), out: need(str(values.out), usage) }, io);
    }
    case "publish": {
      const usage = "publish <slug> --phase N --verdict DIR";
      return ciPublishCommand({ slug: need(slug, usage), phase: phase(usage), verdict: need(str(values.verdict), usage) }, io);
    }
    case "resume": {
      const usage = "resume <slug> <task> <dir>";
      return ciResumeCommand({ slug: need(slug, usage), task: need(arg, usage), dir: need(positionals[3], usage) }, io);
    }
    case "dispatch": {
      const usage = "dispatch <slug> --after N --workflow FILE --ref REF";
      return ciDispatchCommand({ slug: need(slug, usage), after: phaseNumber(need(str(values.after), usage)), workflow: need(str(values.workflow), usage), ref: need(str(values.ref), usage) }, io);
    }
    default:
      throw usageError(
        sub === undefined
          ? "`ci` needs a subcommand"
          : `unknown ci subcommand \`${sub}\`${didYouMean(sub, ["init", "plan", "prepare", "result", "land", "record", "verdict", "publish", "dispatch", "resume"])}`,
        "run `claude-parallel ci init` (the others are the workflow's steps: claude-parallel ci --help)",
      );
  }
}

/** A copy of the plugin committed in the repository itself (with its marketplace file): the workflow runs that one. */
const COMMITTED_PLUGIN = { pluginDir: "plugin", marketplaceDir: "." };
const COMMIT = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const REMOTE = "origin";

interface CiInitOptions {
  engine: "github";
  runner: string;
  maxParallel: number;
  onLast: OnLast;
  force: boolean;
  dryRun: boolean;
  version: string;
  /** The project's setup command, for the setup action ci init writes when there is none. */
  setup?: string;
  /** `OWNER/REPO@REF`: take the helper from that repository at that ref instead of a copy in this one. */
  source?: string;
}

/**
 * `ci init`: writes the workflow; the project's setup action when there is none (it is the user's
 * from then on: never replaced, not even with --force); and, unless the repository commits the
 * plugin or --source pins another repository, a copy of the plugin for the workflow to run, so
 * CI runs exactly the version that wrote the workflow.
 */
async function ciInitCommand(options: CiInitOptions, io: Io): Promise<ExitCode> {
  const labels = options.runner.split(",").map((l) => l.trim());
  const bad = labels.find((l) => !RUNNER_LABEL.test(l));
  if (bad !== undefined)
    throw new InputError({
      where: "--runner",
      message: `\`${bad}\` is not a runner label`,
      fix: "give labels of letters, digits, '.', '_' and '-', separated by commas (ubuntu-latest, or self-hosted,linux)",
    });
  if (!Number.isInteger(options.maxParallel) || options.maxParallel < 1 || options.maxParallel > MAX_MATRIX) {
    throw new InputError({ where: "--max-parallel", message: `must be a whole number from 1 to ${MAX_MATRIX}`, fix: "give the number of task legs that may run at once" });
  }
  if (options.setup !== undefined && (options.setup.trim() === "" || /[\r\n\0]/.test(options.setup))) {
    throw new InputError({ where: "--setup", message: "is one command line", fix: "give the command that installs what the project needs, like --setup 'npm ci'" });
  }
  const pinned = options.source === undefined ? undefined : parseSource(options.source);
  const { mainRoot } = await openCheckout(io.cwd);
  const say = (line = "") => io.stdout(line + "\n");
  const plugin = await runningPlugin();
  const committed = (
    await Promise.all(["plugin/scripts/parallel.mjs", ".claude-plugin/marketplace.json"].map(async (f) => (await git(["ls-files", "--error-unmatch", "--", f], mainRoot)).exitCode === 0))
  ).every(Boolean);
  const vendored = { pluginDir: `${VENDORED_DIR}/plugin`, marketplaceDir: VENDORED_DIR };
  const source: HelperSource = pinned
    ? { pluginDir: "plugin", marketplaceDir: ".", pinned: { ...pinned, digest: await helperDigest(join(plugin, "scripts")) } }
    : committed
      ? COMMITTED_PLUGIN
      : vendored;
  const wanted: Omit<InitFile, "existing">[] = [
    {
      path: WORKFLOW_PATH,
      content: workflowYaml({ runner: labels, maxParallel: options.maxParallel, onLast: options.onLast, helper: source, fileName: WORKFLOW_PATH.split("/").pop()!, version: options.version }),
    },
  ];
  if (source === vendored) {
    wanted.push({ path: `${VENDORED_DIR}/.claude-plugin/marketplace.json`, content: marketplaceJson() });
    for (const file of await pluginFiles(plugin)) wanted.push({ path: `${vendored.pluginDir}/${file}`, content: await readFile(join(plugin, file), "utf8") });
  }
  // Through WorktreeFiles: a .github that is a link out of the repository is refused, never written through.
  const tree = await WorktreeFiles.at(mainRoot);
  const setupPath = `${SETUP_ACTION_DIR}/action.yml`;
  const setupExisting = await existing(tree, setupPath);
  const files: InitFile[] = await Promise.all(wanted.map(async (f) => ({ ...f, ...(await existing(tree, f.path)) })));
  const decision = decideInit(files, options.force);
  if ("refusals" in decision) throw new RefusedError(decision.refusals);
  const { actions } = decision;
  const writeSetup = setupExisting.existing === undefined;
  for (const a of actions) {
    if (options.dryRun || a.kind === "unchanged") continue;
    await tree.writeFile(a.path, a.content);
  }
  if (writeSetup && !options.dryRun) await tree.writeFile(setupPath, setupActionYaml(options.setup));
  // The workflow by name; the plugin's copy as one folder (its chunks' names change with every build).
  const workflow = actions.find((a) => a.path === WORKFLOW_PATH)!;
  const copies = actions.filter((a) => a !== workflow);
  // Said once done, or (the dry run) as what it would do: the workflow by name, the plugin's copy as one folder.
  const verb = options.dryRun
    ? ({ write: "write", replace: "replace", unchanged: "leave unchanged", keep: "keep" } as const)
    : ({ write: "wrote", replace: "replaced", unchanged: "unchanged", keep: "kept" } as const);
  const lines = [
    `${verb[workflow.kind]} ${WORKFLOW_PATH}`,
    writeSetup
      ? `${verb.write} ${setupPath} (your project's setup: yours to edit, never replaced)`
      : `${verb.keep} ${setupPath} (yours: ci init never replaces it${options.setup !== undefined ? "; --setup applies only when it is missing, so edit it there" : ""})`,
  ];
  for (const kind of ["write", "replace", "unchanged"] as const) {
    const n = copies.filter((a) => a.kind === kind).length;
    if (n) lines.push(`${verb[kind]} ${VENDORED_DIR}/ (${n} ${n === 1 ? "file" : "files"} of the plugin)`);
  }
  if (options.dryRun) {
    io.stdout(dryRunText("ci init", lines, (line) => line));
    return ExitCode.ok;
  }
  for (const line of lines) say(line);
  const changed = actions.filter((a) => a.kind !== "unchanged").length + (writeSetup ? 1 : 0);
  say();
  if (changed === 0) say("Nothing changed: the workflow and the plugin's copy are already what ci init writes.");
  say(
    pinned
      ? `The workflow runs the helper from ${pinned.repository}@${pinned.ref}, checked against this helper's digest.`
      : `The workflow runs the helper at ${helperEntry(source)}${committed ? " (the plugin this repository commits)" : " (a copy of this plugin: commit it with the workflow; --source OWNER/REPO@REF takes it from a pinned repository instead)"}.`,
  );
  say("Next (docs/ci.md has the whole setup):");
  if (changed)
    say(
      `  git add ${[WORKFLOW_PATH, SETUP_ACTION_DIR, ...(copies.length ? [VENDORED_DIR] : [])].map(quote).join(" ")} && git commit -m 'claude-parallel workflow' && git push  (on the default branch: a dispatched workflow must be there)`,
    );
  say("  add the secret ANTHROPIC_API_KEY (or CLAUDE_CODE_OAUTH_TOKEN): gh secret set ANTHROPIC_API_KEY");
  if (options.onLast === "pr") say("  allow Actions to open pull requests (Settings > Actions > General), or set the secret CLAUDE_PARALLEL_PR_TOKEN");
  say("  commit the feature's plan (.parallel/<slug>/plan.yaml), then: gh workflow run claude-parallel.yml -f slug=<slug>");
  return ExitCode.ok;
}

function parseSource(text: string): { repository: string; ref: string } {
  const m = /^([A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9._-]{1,100})@([A-Za-z0-9][A-Za-z0-9._/-]{0,199})$/.exec(text);
  if (!m || m[2]!.includes("..") || m[2]!.endsWith(".lock") || m[2]!.endsWith("/")) {
    throw new InputError({
      where: "--source",
      message: `\`${text}\` is not OWNER/REPO@REF`,
      fix: "give the public repository holding claude-parallel and a commit id or tag, like --source claude-parallel/claude-parallel@<commit>",
    });
  }
  return { repository: m[1]!, ref: m[2]! };
}

/** The running plugin's folder: the helper runs from its `scripts/` (an installed plugin, a clone's `plugin/`, a build's). */
async function runningPlugin(): Promise<string> {
  const root = dirname(dirname(helperPath()));
  if ((await stat(join(root, ".claude-plugin/plugin.json")).catch(() => undefined)) && (await stat(join(root, "scripts/parallel.mjs")).catch(() => undefined))) return root;
  throw new EnvironmentError(
    `the running helper (${helperPath()}) is not in a plugin's scripts/ folder`,
    "run ci init with the plugin's helper (claude-parallel from the installed plugin, or node plugin/scripts/parallel.mjs in a clone)",
  );
}

/** The plugin's text files, relative to its folder (its icon stays behind: the sessions do not need it). */
async function pluginFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !e.name.endsWith(".png"))
    .map((e) => relative(dir, join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)))
    .sort();
}

/** A one-plugin marketplace around the copy, so claude-code-action can install it for the sessions. */
function marketplaceJson(): string {
  return (
    JSON.stringify({ name: MARKETPLACE_NAME, owner: { name: "claude-parallel" }, plugins: [{ name: PLUGIN_NAME, source: "./plugin", description: "claude-parallel's task-session hooks" }] }, null, 2) +
    "\n"
  );
}

/** The digest the workflow checks a pinned helper against: `sha256sum` of the sorted `sha256sum` lines of the scripts folder. */
async function helperDigest(dir: string): Promise<string> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => `./${relative(dir, join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))}`);
  const sorted = files.sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : Buffer.from(a) > Buffer.from(b) ? 1 : 0));
  let lines = "";
  for (const f of sorted)
    lines += `${createHash("sha256")
      .update(await readFile(join(dir, f)))
      .digest("hex")}  ${f}\n`;
  return createHash("sha256").update(lines).digest("hex");
}

/** What is at `rel` now: nothing, or a file's text; a folder, a link or anything else there is refused. */
async function existing(tree: WorktreeFiles, rel: string): Promise<{ existing?: string }> {
  const kind = await tree.kind(rel);
  if (kind === undefined) return {};
  if (kind !== "file") {
    const what = kind === "dir" ? "a folder" : kind === "link" ? "a symbolic link" : "not a regular file";
    throw new RefusedError([
      {
        code: "path-in-the-way",
        message: `${rel} is ${what}, where ci init writes a file: nothing was written`,
        fix: `move it out of the way (in ${quote(tree.root)}: git mv or rm ${quote(rel)}), then run ci init again`,
      },
    ]);
  }
  return { existing: await readFile(await tree.pathFor(rel), "utf8") };
}

async function writeOutputs(values: Record<string, string>): Promise<void> {
  const path = process.env.GITHUB_OUTPUT;
  if (!path) throw new EnvironmentError("--github-output needs GITHUB_OUTPUT (set by GitHub Actions)", "run it in a workflow step, or leave out --github-output");
  await appendFile(path, githubOutputs(values));
}

/** The run's phase, started: its plan and its recorded state. */
function startedPhase(context: FeatureContext, index: number) {
  const { feature } = context;
  const phase = feature.plan.phases[index - 1];
  const recorded = feature.state?.phases[String(index)];
  if (!phase || !recorded)
    throw new RefusedError([{ code: "phase-not-started", message: `phase ${index} of ${feature.slug} has not started`, fix: "run the workflow's plan job first (it starts the phase)" }]);
  return { phase, recorded };
}

/**
 * `ci plan <slug> --run ID [--phase N]`: the plan job. Picks the run's phase (`runPhase`: a re-run
 * stays on its phase), checks that every task's verify can be a session tool rule, starts the phase
 * (task branches from the integration branch's tip; no session, no install), records the run with
 * the phase, publishes branches and state, and prints the task job's matrix.
 */
async function ciPlanCommand(options: { slug: string; run: string; phase?: number; githubOutput: boolean }, io: Io): Promise<ExitCode> {
  if (!/^[0-9]{1,20}$/.test(options.run)) throw new InputError({ where: "--run", message: `\`${options.run}\` is not a run id`, fix: "give the workflow run's id (github.run_id)" });
  const say = (line = "") => io.stdout(line + "\n");
  const first = await openFeature(options.slug, io.cwd);
  const { plan, state } = first.feature;
  const { phase, bound } = runPhase(plan, state, options.run, options.phase);
  const nothing = async (why: string) => {
    say(why);
    if (options.githubOutput) await writeOutputs({ matrix: JSON.stringify({ include: [] }), phase: String(phase?.index ?? 0), count: "0", last: "true" });
    return ExitCode.ok;
  };
  if (state?.finishedAt) return nothing(`${plan.slug} is finished: nothing to run.`);
  if (!phase) return nothing(options.phase !== undefined ? `${plan.slug} has no phase ${options.phase}: nothing to run.` : `Every phase of ${plan.slug} is synced: nothing to run.`);
  if (state?.phases[String(phase.index)]?.syncedAt) {
    return nothing(`Phase ${phase.index} of ${plan.slug} is synced${bound ? " (this run worked on it: a re-run of it has nothing to do)" : ""}: nothing to run.`);
  }
  // Every task's, not only this phase's: a plan that cannot run to its end stops before it starts.
  const problems = unexpressibleVerifies(plan.phases.flatMap((p) => p.tasks));
  if (problems.length)
    throw new InputError(
      problems.map((p) => ({ where: `task ${p.task}`, message: `its verify \`${p.command}\` ${p.problem}, so its session could not be allowed to run it (nothing was started)`, fix: RULE_FIX })),
    );
  const { startCommand } = await import("./start.js");
  const started = await startCommand({ target: plan.slug, phase: phase.index, launch: "print", deps: "none", dryRun: false, launchSessions: false }, io);
  if (started !== ExitCode.ok) return started;
  const context = await withFeatureLock(first.repo.commonDir, plan.slug, "ci plan", async () => {
    const context = await openFeature(plan.slug, io.cwd, { repo: first.repo });
    const recorded = context.feature.state!.phases[String(phase.index)]!;
    if (!recorded.ciRuns?.includes(options.run)) {
      recorded.ciRuns = [...(recorded.ciRuns ?? []), options.run].slice(-20);
      await writeState(first.repo.commonDir, context.feature.state!);
    }
    return context;
  });
  const { pushCommand } = await import("./push.js");
  const pushed = await pushCommand({ slug: plan.slug, remote: REMOTE }, io);
  if (pushed !== ExitCode.ok) return pushed;
  const m = phaseMatrix(context.feature.plan, context.feature.state, phase.index);
  const values = { matrix: JSON.stringify(m.matrix), phase: String(m.phase), count: String(m.matrix.include.length), last: String(m.last) };
  say(`Phase ${m.phase} of ${plan.phases.length}: ${m.matrix.include.map((l) => l.task).join(", ") || "every task is skipped"}`);
  if (options.githubOutput) await writeOutputs(values);
  return ExitCode.ok;
}

/**
 * `ci prepare <slug> <task> --phase N`: a task leg before its session. Nothing to do when the phase
 * is synced (a re-run) or the task skipped; no session when one already succeeded at the branch's
 * tip (the remote's done mark is there). Otherwise writes the session's files into the checkout
 * (brief, environment, the manifest the plugin's hooks read) and gives the prompt and arguments.
 */
async function ciPrepareCommand(options: { slug: string; task: string; phase: number; githubOutput: boolean }, io: Io): Promise<ExitCode> {
  const context = await openFeature(options.slug, io.cwd);
  const { feature, repo, mainRoot } = context;
  const { phase, recorded } = startedPhase(context, options.phase);
  const task = phase.tasks.find((t) => t.id === options.task);
  if (!task)
    throw new RefusedError([{ code: "task-not-in-phase", message: `${options.task} is not a task of phase ${phase.index} of ${feature.slug}`, fix: "run the leg from the plan job's matrix" }]);
  const say = (line: string) => io.stdout(line + "\n");
  const outputs = async (values: Record<string, string>) => (options.githubOutput ? writeOutputs(values) : undefined);
  if (recorded.syncedAt) {
    say(`Phase ${phase.index} of ${feature.slug} is synced: this leg has nothing to do (a re-run of a finished run).`);
    await outputs({ leg: "false", session: "false" });
    return ExitCode.ok;
  }
  if (recorded.tasks[task.id]?.skipped) {
    say(`${task.id} is skipped (${recorded.tasks[task.id]!.skipped!.reason}): this leg has nothing to do.`);
    await outputs({ leg: "false", session: "false" });
    return ExitCode.ok;
  }
  const start = await gitOk(["rev-parse", "--verify", "HEAD^{commit}"], repo.root);
  const mark = (await remoteRefs(mainRoot, REMOTE, feature.slug, [])).get(sessionDoneRef(feature.slug, task.id));
  const done = mark === start;
  const problem = unexpressibleVerifies([task])[0];
  if (problem) throw new InputError({ where: `task ${task.id}`, message: `its verify \`${problem.command}\` ${problem.problem}`, fix: RULE_FIX });
  const prompt = ciBrief(feature.plan, task);
  const files = await WorktreeFiles.at(repo.root);
  await ignoreSessionDir(repo.commonDir);
  // The leg's checkout is a clone of its own: the rules go into its git directory, where the hooks look (src/session/find.ts).
  await writeTaskSessionFiles(files, feature.plan, task, { port: recorded.tasks[task.id]?.port ?? 40000, brief: prompt, gitDir: repo.commonDir, worktree: repo.root, commonDir: repo.commonDir });
  const args = claudeArgs(task);
  say(`${prompt}\n\nclaude_args: ${args}`);
  if (done) say(`The session of ${task.id} already succeeded at ${start.slice(0, 12)}, the tip of ${task.branch}: it is not run again.`);
  await outputs({ leg: "true", session: String(!done), start, prompt, claude_args: args });
  return ExitCode.ok;
}

/**
 * `ci result <slug> <task> --phase N --start C --outcome O --out DIR`: a task leg after its session,
 * in the session's job: the leg's commits as a git bundle (start..HEAD), the session's outcome,
 * id, turns and cost (from claude-code-action's execution file, also when it failed), its
 * transcript, the files it left uncommitted, and the task's verify run at HEAD.
 */
async function ciResultCommand(options: { slug: string; task: string; phase: number; start: string; outcome: string; executionFile?: string; out: string }, io: Io): Promise<ExitCode> {
  if (!COMMIT.test(options.start)) throw new InputError({ where: "--start", message: `\`${options.start}\` is not a commit id`, fix: "pass the prepare step's start output" });
  const context = await openFeature(options.slug, io.cwd);
  const { feature, repo } = context;
  const { phase } = startedPhase(context, options.phase);
  const task = phase.tasks.find((t) => t.id === options.task);
  if (!task)
    throw new RefusedError([{ code: "task-not-in-phase", message: `${options.task} is not a task of phase ${phase.index} of ${feature.slug}`, fix: "run the leg from the plan job's matrix" }]);
  await mkdir(options.out, { recursive: true });
  const commit = await gitOk(["rev-parse", "--verify", "HEAD^{commit}"], repo.root);
  const bundle = commit !== options.start;
  if (bundle) await gitOk(["bundle", "create", "--quiet", join(options.out, BUNDLE_FILE), "HEAD", `^${options.start}`], repo.root);
  const executionText = options.executionFile ? await readFile(options.executionFile, "utf8").catch(() => undefined) : undefined;
  const session = sessionFacts(executionText);
  const transcript = session.id ? await copyTranscript(session.id, join(options.out, TRANSCRIPT_FILE)) : false;
  const uncommitted = await uncommittedPaths(repo.root);
  const port = feature.state?.phases[String(phase.index)]?.tasks[task.id]?.port;
  const verify = task.verify ? await runVerify(repo.commonDir, feature.slug, task.id, repo.root, task.verify, commit, port, (await confinementDecision(feature.plan)).confine) : undefined;
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repository, GITHUB_RUN_ID: runId } = process.env;
  const result: LegResult = {
    version: 2,
    slug: feature.slug,
    phase: phase.index,
    task: task.id,
    branch: task.branch,
    start: options.start,
    commit,
    bundle,
    outcome: options.outcome,
    session,
    ...(server && repository && runId && { run: `${server}/${repository}/actions/runs/${runId}` }),
    ...(transcript && { artifact: `${legArtifactPrefix}${phase.index}-${task.id}` }),
    uncommitted,
    ...(verify && { verify }),
  };
  await writeFile(join(options.out, RESULT_FILE), JSON.stringify(result, null, 2) + "\n");
  io.stdout(
    `${task.id}: session ${options.outcome || "not run"}${session.error ? ` (${session.error})` : ""}, ${bundle ? `commits ${options.start.slice(0, 12)}..${commit.slice(0, 12)}` : "no new commit"}${session.costUsd !== undefined ? `, $${session.costUsd.toFixed(2)}` : ""}${session.turns !== undefined ? `, ${session.turns} turns` : ""}${verify ? `, verify exit ${verify.exitCode}` : ""}${uncommitted.length ? `, ${uncommitted.length} uncommitted (not merged): ${uncommitted.slice(0, 5).join(", ")}` : ""}\n`,
  );
  return ExitCode.ok;
}

/** Copies the session's transcript (Claude Code keeps it under ~/.claude/projects/<folder>/<id>.jsonl) next to the result. */
async function copyTranscript(sessionId: string, to: string): Promise<boolean> {
  if (!/^[A-Za-z0-9-]{1,100}$/.test(sessionId)) return false;
  const projects = join(homedir(), ".claude", "projects");
  for (const folder of await readdir(projects).catch(() => [] as string[])) {
    const file = join(projects, folder, `${sessionId}.jsonl`);
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile() && info.size <= 64 * 1024 * 1024) {
      await copyFile(file, to);
      return true;
    }
  }
  return false;
}

/** The legs' results under `dir` (the downloaded artifacts) that belong to the feature's phase; a task with two results has none. */
async function legResults(dir: string, slug: string, phase: number, io: Io): Promise<Map<string, { result: LegResult; dir: string }>> {
  const found = new Map<string, { result: LegResult; dir: string }>();
  const twice = new Set<string>();
  for (const file of await resultFiles(dir)) {
    const parsed = z.safeParse(
      LegResultSchema,
      await readFile(file, "utf8")
        .then(JSON.parse)
        .catch(() => undefined),
    );
    if (!parsed.success || parsed.data.slug !== slug || parsed.data.phase !== phase) {
      io.stderr(`ignored ${relative(dir, file)}: not a result of ${slug} phase ${phase}\n`);
      continue;
    }
    if (found.has(parsed.data.task)) twice.add(parsed.data.task);
    found.set(parsed.data.task, { result: parsed.data, dir: dirname(file) });
  }
  for (const task of twice) {
    io.stderr(`ignored the results of ${task}: there are two\n`);
    found.delete(task);
  }
  return found;
}

async function resultFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  for (const e of entries) if (e.isFile() && e.name === RESULT_FILE) found.push(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
  return found.sort();
}

/** The commit a leg's bundle brings, fetched here as objects only (no ref moves); undefined when the bundle is not the leg's. */
async function fetchBundle(cwd: string, file: string, r: LegResult): Promise<string | undefined> {
  // The bundle comes from the session's job: git reads it as data, and only its HEAD is taken.
  if ((await git(["bundle", "verify", "--quiet", file], cwd)).exitCode !== 0) return undefined;
  const heads = await git(["bundle", "list-heads", file], cwd);
  const head = heads.stdout
    .split("\n")
    .map((l) => l.split(" "))
    .find((f) => f[1] === "HEAD")?.[0];
  if (head !== r.commit) return undefined;
  const fetched = await git(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--refmap=", "--", file, "HEAD"], cwd);
  if (fetched.exitCode !== 0) return undefined;
  return (await commitOf(r.commit, cwd)) === r.commit && (await isAncestor(r.start, r.commit, cwd)) ? r.commit : undefined;
}

/**
 * `ci land <slug> <dir> --phase N`: the land job, which runs none of the session's code. For each
 * leg: its bundle's commits go to its task branch, only as a fast-forward of the branch's tip on
 * the remote (a lease on it), with the done mark of a session that succeeded, in one atomic push
 * per leg; a branch that moved meanwhile is left as it is and said. Then each leg's session (state,
 * id, turns, cost, where its transcript is) goes into the feature's shared state.
 */
async function ciLandCommand(options: { slug: string; dir: string; phase: number }, io: Io): Promise<ExitCode> {
  const context = await openFeature(options.slug, io.cwd);
  const { feature, mainRoot } = context;
  const { phase, recorded } = startedPhase(context, options.phase);
  const say = (line = "") => io.stdout(line + "\n");
  if (recorded.syncedAt) {
    say(`Phase ${phase.index} of ${feature.slug} is synced: nothing to land (a re-run of a finished run).`);
    return ExitCode.ok;
  }
  const results = await legResults(options.dir, feature.slug, phase.index, io);
  const branchRefs = phase.tasks.map((t) => `refs/heads/${t.branch}`);
  const there = await remoteRefs(mainRoot, REMOTE, feature.slug, branchRefs);
  const rows: string[] = [];
  const kept: Refusal[] = [];
  const sessions = new Map<string, LegResult>();
  for (const task of phase.tasks.filter((t) => !recorded.tasks[t.id]?.skipped)) {
    const leg = results.get(task.id);
    if (!leg || leg.result.branch !== task.branch) {
      rows.push(`| ${task.id} | no result | - |`);
      continue;
    }
    const r = leg.result;
    if (r.outcome !== "" && r.outcome !== "skipped") sessions.set(task.id, r);
    const ref = `refs/heads/${task.branch}`;
    const tip = there.get(ref);
    const brought = r.bundle ? await fetchBundle(mainRoot, join(leg.dir, BUNDLE_FILE), r) : r.commit === r.start ? r.commit : undefined;
    if (brought === undefined) {
      kept.push({
        code: "leg-bundle-invalid",
        task: task.id,
        message: `its bundle does not hold the commit its result names (${r.commit.slice(0, 12)}): nothing of it was pushed`,
        fix: "re-run the task's leg",
      });
      rows.push(`| ${task.id} | ${r.outcome || "not run"} | bundle refused |`);
      continue;
    }
    const updates: RemoteUpdate[] = [];
    if (tip === undefined || (tip !== brought && !(await isAncestor(tip, brought, mainRoot)))) {
      kept.push({
        code: "remote-ahead",
        task: task.id,
        message: `${task.branch} on ${REMOTE} (${tip?.slice(0, 12) ?? "missing"}) does not lead to the leg's commit ${brought.slice(0, 12)}: it moved meanwhile, and the leg's commits were not pushed over it`,
        fix: `look at what moved it; the leg's commits are in its artifact (${legArtifactPrefix}${phase.index}-${task.id}); re-run the leg to work on the new tip`,
      });
      rows.push(`| ${task.id} | ${r.outcome || "not run"} | kept: the branch moved |`);
      continue;
    }
    if (tip !== brought) updates.push({ ref, expect: tip, to: brought });
    const doneRef = sessionDoneRef(feature.slug, task.id);
    if (r.outcome === "success" && there.get(doneRef) !== brought) updates.push({ ref: doneRef, ...(there.has(doneRef) && { expect: there.get(doneRef)! }), to: brought });
    try {
      await pushAtomic(mainRoot, REMOTE, updates);
    } catch (error) {
      if (!(error instanceof RefusedError)) throw error;
      kept.push({ code: "remote-ahead", task: task.id, message: error.refusals.map((x) => x.message).join("; "), fix: "re-run the land job" });
      rows.push(`| ${task.id} | ${r.outcome || "not run"} | refused by ${REMOTE} |`);
      continue;
    }
    rows.push(
      `| ${task.id} | ${r.outcome || "not run"}${r.session.error ? ` (${r.session.error})` : ""} | ${tip === brought ? "already there" : `${tip.slice(0, 12)} -> ${brought.slice(0, 12)}`}${r.outcome === "success" ? ", done" : ""} |`,
    );
  }
  if (sessions.size) await recordSessions(context, phase, sessions, say);
  const table = [`### ${feature.slug}: phase ${phase.index}, the legs' commits`, "", "| task | session | pushed |", "| --- | --- | --- |", ...rows, ""].join("\n");
  say(table);
  if (process.env.GITHUB_STEP_SUMMARY) await appendFile(process.env.GITHUB_STEP_SUMMARY, table + "\n");
  if (kept.length) throw new RefusedError(kept);
  return ExitCode.ok;
}

/** Writes each leg's session into the shared state and publishes the state ref alone, with a lease. */
async function recordSessions(context: FeatureContext, phase: PlannedPhase, legs: ReadonlyMap<string, LegResult>, say: (l?: string) => void): Promise<void> {
  const { repo, mainRoot, feature } = context;
  await withFeatureLock(repo.commonDir, feature.slug, "ci land", async () => {
    const { feature: fresh } = await openFeature(feature.slug, mainRoot, { repo });
    const tasks = fresh.state!.phases[String(phase.index)]!.tasks;
    const at = new Date().toISOString();
    for (const [id, r] of legs) if (tasks[id]) tasks[id]!.session = legSession(r, at);
    await writeState(repo.commonDir, fresh.state!);
    const message = `claude-parallel: sessions of ${feature.slug} phase ${phase.index}`;
    const next = await localStateCommit(mainRoot, repo.commonDir, feature.slug, message);
    const ref = stateRef(feature.slug);
    const remote = (await remoteRefs(mainRoot, REMOTE, feature.slug, [ref])).get(ref);
    if (!next || next.commit === remote) return;
    if (next.parent !== remote)
      throw new RefusedError([
        { code: "remote-ahead", message: `${ref} moved on ${REMOTE} meanwhile: the legs' sessions were not recorded in the shared state (their commits are pushed)`, fix: "re-run the land job" },
      ]);
    await pushAtomic(mainRoot, REMOTE, [{ ref, ...(remote !== undefined && { expect: remote }), to: next.commit }]);
    await recordStateCommit(mainRoot, feature.slug, next, message);
    say(`Recorded ${legs.size} ${legs.size === 1 ? "session" : "sessions"} in ${ref}.`);
  });
}

/**
 * `ci record <slug> <dir> --phase N`: in the sync and publish jobs, before the sync. Each task not
 * skipped must have its done mark at its branch's tip: a leg whose session did not succeed is never
 * merged (its partial commits stay on its branch). Each leg's verify result is recorded for the
 * commit it ran at, so the sync's preflight checks it as it checks a local `status --verify`; the
 * legs and the phase's cost go to the job summary.
 */
async function ciRecordCommand(options: { slug: string; dir: string; phase: number }, io: Io): Promise<ExitCode> {
  const context = await openFeature(options.slug, io.cwd);
  const { feature, repo, mainRoot } = context;
  const { phase, recorded } = startedPhase(context, options.phase);
  if (recorded.syncedAt) {
    io.stdout(`Phase ${phase.index} of ${feature.slug} is synced: nothing to check (a re-run of a finished run).\n`);
    return ExitCode.ok;
  }
  const results = await legResults(options.dir, feature.slug, phase.index, io);
  const marks = await remoteRefs(mainRoot, REMOTE, feature.slug, []);
  const refusals: Refusal[] = [];
  const rows: string[] = [];
  let cost = 0;
  await withFeatureLock(repo.commonDir, feature.slug, "ci record", async () => {
    for (const task of phase.tasks.filter((t) => !recorded.tasks[t.id]?.skipped)) {
      const r = results.get(task.id)?.result;
      const tip = await commitOf(`refs/heads/${task.branch}`, mainRoot);
      const done = tip !== undefined && marks.get(sessionDoneRef(feature.slug, task.id)) === tip;
      cost += r?.session.costUsd ?? 0;
      rows.push(
        `| ${task.id} | ${r ? `${r.outcome || "not run"}${r.session.error ? ` (${r.session.error})` : ""}` : "no result"} | ${r?.session.costUsd !== undefined ? `$${r.session.costUsd.toFixed(2)}` : "-"} | ${tip?.slice(0, 12) ?? "missing"}${done ? " (done)" : ""} | ${r?.verify ? `exit ${r.verify.exitCode}` : task.verify ? "not run" : "-"} | ${r?.uncommitted.length ?? 0} |`,
      );
      if (!done) {
        refusals.push({
          code: "leg-not-done",
          task: task.id,
          message: `no session that succeeded left ${task.branch}'s tip ${tip?.slice(0, 12) ?? "(missing)"}${r ? ` (its leg's session: ${r.outcome || "not run"}${r.session.error ? `, ${r.session.error}` : ""})` : ""}: its commits stay on its branch and are not merged`,
          fix: `re-run its leg (Re-run failed jobs), skip it (claude-parallel skip ${task.id} ${feature.slug} --reason ..., then push), or finish it locally (claude-parallel pull ${feature.slug}, then start, sync and push)`,
        });
        continue;
      }
      if (!task.verify) continue;
      if (r?.verify && tip !== undefined && r.verify.commit === tip && r.verify.command === task.verify) {
        await writeFileAtomic(verifyRecordPath(repo.commonDir, feature.slug, task.id), JSON.stringify(r.verify, null, 2) + "\n");
      } else {
        refusals.push({
          code: "verify-not-recorded",
          task: task.id,
          message: `no result of its verify \`${task.verify}\` at its branch's tip ${tip?.slice(0, 12) ?? "(missing)"}`,
          fix: "re-run the task's leg (it runs the verify after the session), or run the sync where its worktree is",
        });
      }
    }
  });
  const table = [
    `### ${feature.slug}: phase ${phase.index} of ${feature.plan.phases.length}`,
    "",
    "| task | session | cost | branch tip | verify | uncommitted |",
    "| --- | --- | ---: | --- | --- | ---: |",
    ...rows,
    "",
    `Cost of the phase's sessions: $${cost.toFixed(2)}`,
    "",
  ].join("\n");
  io.stdout(table + "\n");
  if (process.env.GITHUB_STEP_SUMMARY) await appendFile(process.env.GITHUB_STEP_SUMMARY, table + "\n");
  if (refusals.length) throw new RefusedError(refusals);
  return ExitCode.ok;
}

/** The sync job's verdict: the tree it merged and the verify command that passed on it. */
const VerdictSchema = z.object({ version: z.literal(1), slug: z.string(), phase: z.number(), tree: z.string().check(z.regex(COMMIT)), command: z.optional(z.string()) });
type Verdict = z.infer<typeof VerdictSchema>;
const VERDICT_FILE = "verdict.json";

/** `ci verdict <slug> --phase N --out DIR`: after the sync job's sync, the merged tree and the command that verified it. */
async function ciVerdictCommand(options: { slug: string; phase: number; out: string }, io: Io): Promise<ExitCode> {
  const context = await openFeature(options.slug, io.cwd);
  const { phase, recorded } = startedPhase(context, options.phase);
  if (!recorded.syncedAt || !recorded.mergedCommit) throw new RefusedError([{ code: "phase-not-synced", message: `phase ${phase.index} is not merged here`, fix: "run the sync step first" }]);
  const verdict: Verdict = {
    version: 1,
    slug: context.feature.slug,
    phase: phase.index,
    tree: await treeOfCommit(context.mainRoot, recorded.mergedCommit),
    ...(recorded.verifiedWith !== undefined && { command: recorded.verifiedWith }),
  };
  await mkdir(options.out, { recursive: true });
  await writeFile(join(options.out, VERDICT_FILE), JSON.stringify(verdict, null, 2) + "\n");
  io.stdout(`The merged tree ${verdict.tree.slice(0, 12)}${verdict.command ? ` passed \`${verdict.command}\`` : " (no verify command)"}.\n`);
  return ExitCode.ok;
}

/**
 * `ci publish <slug> --phase N --verdict DIR`: the publish job, which runs no project code. It
 * syncs again (the same preflight and in-memory merges, from the remote's branches), takes from
 * the sync job only that the plan's verify passed on the very tree it merged, and publishes.
 */
async function ciPublishCommand(options: { slug: string; phase: number; verdict: string }, io: Io): Promise<ExitCode> {
  const context = await openFeature(options.slug, io.cwd);
  const { feature } = context;
  // Published already (the remote's state, just pulled, says so): a re-run pushes nothing.
  if (startedPhase(context, options.phase).recorded.syncedAt) {
    io.stdout(`Phase ${options.phase} of ${feature.slug} is already synced and published: nothing to do (a re-run of a finished run).\n`);
    return ExitCode.ok;
  }
  const data = await readFile(join(options.verdict, VERDICT_FILE), "utf8")
    .then(JSON.parse)
    .catch(() => undefined);
  const parsed = z.safeParse(VerdictSchema, data);
  if (!parsed.success || parsed.data.slug !== feature.slug || parsed.data.phase !== options.phase) {
    throw new RefusedError([
      { code: "verdict-invalid", message: `${join(options.verdict, VERDICT_FILE)} is not the sync job's verdict on ${feature.slug} phase ${options.phase}`, fix: "re-run the sync job, then this one" },
    ]);
  }
  const verdict = parsed.data;
  // A verdict on another command proves nothing of this one: no tree can match it.
  const verifiedTree = verdict.command === feature.plan.verify ? verdict.tree : "0".repeat(40);
  const { syncCommand } = await import("./sync.js");
  const synced = await syncCommand({ slug: feature.slug, phase: options.phase, dryRun: false, verify: true, verifiedTree, keepWorktrees: true, next: false, allowOutsideOwns: false }, io);
  if (synced !== ExitCode.ok) return synced;
  const { pushCommand } = await import("./push.js");
  return pushCommand({ slug: feature.slug, remote: REMOTE }, io);
}

/**
 * `ci dispatch <slug> --after N --workflow FILE --ref REF`: the next job. Dispatches the run of
 * phase N+1 once: not when that phase has started, nor while a run of it waits or works.
 */
async function ciDispatchCommand(options: { slug: string; after: number; workflow: string; ref: string }, io: Io): Promise<ExitCode> {
  if (!/^[A-Za-z0-9._-]{1,100}\.ya?ml$/.test(options.workflow))
    throw new InputError({ where: "--workflow", message: `\`${options.workflow}\` is not a workflow file name`, fix: "give the workflow's file name, like claude-parallel.yml" });
  const { feature, mainRoot } = await openFeature(options.slug, io.cwd);
  const next = options.after + 1;
  const title = runTitle(feature.slug, next);
  const gh = { cwd: mainRoot, env: { GH_PROMPT_DISABLED: "1", NO_COLOR: "1" } };
  const listing =
    next <= feature.plan.phases.length && !feature.state?.phases[String(next)]
      ? await runOk("gh", ["run", "list", "--workflow", options.workflow, "--json", "displayTitle,status,url", "--limit", "100"], gh)
      : "[]";
  let runs: ListedRun[] = [];
  try {
    runs = JSON.parse(listing) as ListedRun[];
  } catch {
    throw new EnvironmentError("gh run list gave no JSON", "check gh and the token's actions permission");
  }
  const decision = decideDispatch({ phases: feature.plan.phases.length, next, started: feature.state?.phases[String(next)] !== undefined, runs, title });
  if (decision.kind !== "dispatch") {
    io.stdout(decision.why + "\n");
    return ExitCode.ok;
  }
  await runOk("gh", ["workflow", "run", options.workflow, "--ref", options.ref, "-f", `slug=${feature.slug}`, "-f", `phase=${next}`], gh);
  io.stdout(`Dispatched ${title} (${options.workflow} on ${options.ref}).\n`);
  return ExitCode.ok;
}

/** Where Claude Code keeps a session's transcript for a folder: every character not a letter or digit becomes `-`. */
function transcriptPath(configDir: string, cwd: string, sessionId: string): string {
  return join(configDir, "projects", cwd.replace(/[^A-Za-z0-9]/g, "-"), `${sessionId}.jsonl`);
}

/**
 * `ci resume <slug> <task> <dir>`: puts a CI leg's transcript (its artifact, downloaded into `dir`)
 * where Claude Code looks for the task worktree's sessions here, so `claude --resume <id>` in that
 * worktree goes on with the leg's conversation.
 */
async function ciResumeCommand(options: { slug: string; task: string; dir: string }, io: Io): Promise<ExitCode> {
  const { feature } = await openFeature(options.slug, io.cwd);
  const recorded = Object.values(feature.state?.phases ?? {}).find((p) => p.tasks[options.task])?.tasks[options.task];
  if (!recorded)
    throw new RefusedError([{ code: "task-not-started", message: `${options.task} is not a started task of ${feature.slug}`, fix: `pull it first (claude-parallel pull ${quote(feature.slug)})` }]);
  if (!(await stat(recorded.worktree).catch(() => undefined))?.isDirectory()) {
    throw new RefusedError([{ code: "worktree-missing", message: `${options.task} has no worktree here (${recorded.worktree})`, fix: `make it: claude-parallel start ${quote(feature.slug)}` }]);
  }
  const result = z.safeParse(
    LegResultSchema,
    await readFile(join(options.dir, RESULT_FILE), "utf8")
      .then(JSON.parse)
      .catch(() => undefined),
  );
  if (!result.success || result.data.slug !== feature.slug || result.data.task !== options.task) {
    throw new InputError({
      where: join(options.dir, RESULT_FILE),
      message: `is not the result of a leg of ${options.task} of ${feature.slug}`,
      fix: "download the leg's artifact: gh run download <run id> -n claude-parallel-phase-<N>-<task> -D <dir>",
    });
  }
  const id = result.data.session.id;
  const source = join(options.dir, TRANSCRIPT_FILE);
  const info = await stat(source).catch(() => undefined);
  if (id === undefined || !/^[A-Za-z0-9-]{1,100}$/.test(id) || !info?.isFile() || info.size > 64 * 1024 * 1024) {
    throw new InputError({
      where: options.dir,
      message: "holds no session id and transcript of the leg (its session did not start, or the artifact is another's)",
      fix: "start the task's session anew in its worktree",
    });
  }
  const target = transcriptPath(process.env.CLAUDE_CONFIG_DIR || join(homedir(), ".claude"), recorded.worktree, id);
  await mkdir(dirname(target), { recursive: true });
  await copyFile(source, target);
  io.stdout(`Put the transcript of ${options.task}'s session ${id} where Claude Code finds it for ${recorded.worktree}. Go on with it:\n  cd ${quote(recorded.worktree)} && claude --resume ${id}\n`);
  return ExitCode.ok;
}
