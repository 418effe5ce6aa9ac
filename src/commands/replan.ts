import { realpath } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { ExitCode, InputError, RefusedError } from "../core/errors.js";
import { isFile, pathExists } from "../fs/exists.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { WorktreeFiles } from "../fs/worktree-files.js";
import { acquireFeatureLock } from "../feature/lock.js";
import { openFeature, type FeatureContext } from "../state-ref/open-feature.js";
import { frozenPlanPath } from "../core/state/paths.js";
import { freeze } from "../feature/resolve.js";
import type { FeatureState } from "../core/state/state-schema.js";
import { startedFeatures } from "../feature/store.js";
import { openRepo } from "../git/repo.js";
import { buildExecutionPlan } from "../core/plan/build.js";
import { buildPlan, parsePlanText } from "../core/plan/parse.js";
import { planFile, planFolder } from "../feature/plan-location.js";
import { readPlanFile } from "../feature/plan-read.js";
import { sessionBrief } from "../core/render/brief.js";
import { dryRunText } from "../core/render/dry-run.js";
import { quote } from "../core/text/shell.js";
import { decideReplan } from "../core/decide/decide-replan.js";
import { describeReplan, describeReplanAction, type ReplanAction } from "../replan/render-replan.js";
import { findRoles, roleMap } from "../feature/roles.js";
import { BRIEF_FILE } from "../session/session-files.js";
import { taskGitDir, writeTaskRules } from "../session/task-rules.js";
import type { Io } from "../core/io.js";
import type { CommandSpec, Values } from "../core/command-spec.js";

export const spec: CommandSpec = {
  name: "replan",
  synopsis: ["[plan-or-slug] [--dry-run]"],
  summary: ["Apply an edited plan file to a started feature (whose phases follow the plan frozen", "at the first start): phases not started change freely; what already ran cannot."],
  details: [
    "The edited plan is validated like `plan` does. Synced phases keep their tasks; the phase in progress keeps its task ids (their owns, produces, consumes, verify, prompt, title and estimate may change: widen a task's owns this way); later phases may change freely. Anything else is refused with the reason, and nothing is written.",
  ],
  options: [{ name: "dry-run", type: "boolean", text: "Print what would change and write nothing." }],
  positionals: 1,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  return replanCommand({ target: positionals[0], dryRun: values["dry-run"] === true }, io);
}

interface ReplanOptions {
  target?: string;
  dryRun: boolean;
}

/**
 * `claude-parallel replan [plan-or-slug] [--dry-run]`: applies an edited plan file to a started
 * feature, whose phases otherwise follow the plan frozen at the first start. Phases not started
 * may change freely; what already ran may not be contradicted (see decideReplan).
 */
async function replanCommand(options: ReplanOptions, io: Io): Promise<ExitCode> {
  const first = await locate(options.target, io.cwd);
  startedState(first.context);
  if (options.dryRun) return replan(first.context, first.planPath, options, io);
  const release = await acquireFeatureLock(first.context.repo.commonDir, first.context.feature.slug, "replan");
  try {
    // Read again under the lock: a sync may have finished a phase meanwhile.
    return await replan(await openFeature(first.context.feature.slug, io.cwd), first.planPath, options, io);
  } finally {
    await release();
  }
}

async function replan(context: FeatureContext, planPath: string, options: ReplanOptions, io: Io): Promise<ExitCode> {
  const { repo, mainRoot, repoName, feature } = context;
  const { slug } = feature;
  const state = startedState(context);
  const say = (line = "") => io.stdout(line + "\n");
  if (state.finishedAt)
    throw new RefusedError([
      { code: "feature-finished", message: `${slug} is finished: it was merged into ${state.base} (${state.finishedAt})`, fix: "a finished feature cannot change; plan further work as a new feature" },
    ]);

  // Validated exactly as `plan` does, built as if the recorded base were checked out.
  const shownAs = relative(io.cwd, planPath) || planPath;
  const loaded = await readPlanFile(planPath, shownAs);
  const facts = { repoName, currentBranch: state.base, roles: roleMap(await findRoles(mainRoot)) };
  const frozenText = await freeze(loaded.plan, await buildPlan(loaded, { ...facts, planFolder: planFolder(mainRoot, planPath) }));
  if (frozenText === (await feature.frozenText())) {
    const same: ReplanAction = { kind: "say", text: `${shownAs} is the plan ${slug} follows already: nothing to apply.` };
    if (options.dryRun) io.stdout(dryRunText(`replan ${slug}`, [same], (a) => describeReplanAction(a, BRIEF_FILE)));
    else say(same.text);
    return ExitCode.ok;
  }
  // What start, status and sync will read from now on: the frozen text, built the way they build it.
  const frozenPath = frozenPlanPath(repo.commonDir, slug);
  const next = buildExecutionPlan(await parsePlanText(frozenText, frozenPath), facts);
  const decision = decideReplan({ current: feature.plan, next, state });
  if (Array.isArray(decision)) throw new RefusedError(decision);

  const made = decision.inProgress.flatMap((n) =>
    next.phases[n - 1]!.tasks.flatMap((task) => {
      const recorded = state.phases[String(n)]!.tasks[task.id];
      return recorded?.made ? [{ task, worktree: recorded.worktree, port: recorded.port, brief: sessionBrief(next, task, recorded.port) }] : [];
    }),
  );
  // Where each session's rules go, checked for every worktree before anything is written.
  const briefs = [];
  for (const b of made) if (await pathExists(b.worktree)) briefs.push({ ...b, gitDir: await taskGitDir(b.worktree, repo.commonDir, b.task.id) });
  const actions: ReplanAction[] = [
    { kind: "apply", planFile: shownAs },
    ...describeReplan(decision, feature.plan, next, state).map((text) => ({ kind: "say" as const, text })),
    ...briefs.map((b) => ({ kind: "write-session-files" as const, task: b.task.id, worktree: b.worktree })),
    ...((await samePath(planPath, planFile(mainRoot, slug))) ? [{ kind: "write-plan-md" as const, path: join(dirname(planPath), "PLAN.md") }] : []),
    { kind: "write-frozen-plan", path: frozenPath },
  ];
  if (options.dryRun) {
    io.stdout(dryRunText(`replan ${slug}`, actions, (a) => describeReplanAction(a, BRIEF_FILE)));
    return ExitCode.ok;
  }
  for (const a of actions) {
    if (a.kind === "apply") say(`Replanning ${slug} from ${a.planFile}:`);
    else if (a.kind === "say") say(a.text);
    else if (a.kind === "write-session-files") {
      const b = briefs.find((x) => x.task.id === a.task)!;
      await writeTaskRules(b.gitDir, next, b.task, { port: b.port, worktree: b.worktree, commonDir: repo.commonDir });
      const files = await WorktreeFiles.at(b.worktree);
      await files.writeFile(BRIEF_FILE, b.brief.endsWith("\n") ? b.brief : b.brief + "\n");
    } else if (a.kind === "write-plan-md") {
      const { renderMarkdown } = await import("../core/render/markdown.js");
      await writeFileAtomic(a.path, renderMarkdown(next, {}));
      say(`Wrote ${relative(io.cwd, a.path) || a.path}`);
    } else {
      await writeFileAtomic(a.path, frozenText);
      say(`Wrote the frozen plan ${a.path}: start, status and sync follow it from now on.`);
    }
  }
  if (briefs.length)
    say(
      `Rewrote the task rules (what each session's hooks let it edit) and ${BRIEF_FILE} in the worktrees of ${briefs.map((b) => b.task.id).join(", ")}; tell running sessions to read the brief again.`,
    );
  return ExitCode.ok;
}

const samePath = async (a: string, b: string) => (await realpath(a).catch(() => resolve(a))) === (await realpath(b).catch(() => resolve(b)));

function startedState({ feature }: FeatureContext): FeatureState {
  if (feature.state) return feature.state;
  throw new RefusedError([
    { code: "feature-not-started", message: `${feature.slug} has not started, so no plan is frozen yet`, fix: `start takes the plan file as it is: claude-parallel start ${quote(feature.slug)}` },
  ]);
}

/** The started feature `target` names (a plan file or a slug, or the only one), and the plan file to apply. */
async function locate(target: string | undefined, cwd: string): Promise<{ context: FeatureContext; planPath: string }> {
  const file = target !== undefined && (await isFile(resolve(cwd, target))) ? resolve(cwd, target) : undefined;
  if (file !== undefined) {
    // A plan file of a started feature is the one it started from, even if the edit changed its slug.
    const repo = await openRepo(cwd);
    const matches: FeatureContext[] = [];
    for (const slug of await startedFeatures(repo.commonDir)) {
      const context = await openFeature(slug, cwd).catch(() => undefined);
      const source = context?.feature.state?.planSource;
      if (context && source !== undefined && (resolve(context.mainRoot, source) === file || planFile(context.mainRoot, slug) === file)) matches.push(context);
    }
    if (matches.length === 1) return { context: matches[0]!, planPath: file };
    return { context: await openFeature(target, cwd), planPath: file };
  }
  const context = await openFeature(target, cwd);
  const { mainRoot, feature } = context;
  const candidates = [planFile(mainRoot, feature.slug), ...(feature.state ? [resolve(mainRoot, feature.state.planSource)] : [])];
  for (const path of candidates) if (await isFile(path)) return { context, planPath: path };
  throw new InputError({
    where: feature.slug,
    message: `there is no plan file to apply: neither ${candidates.map((c) => relative(cwd, c) || c).join(" nor ")} exists`,
    fix: "give the edited plan's path: claude-parallel replan <plan.yaml>",
  });
}
