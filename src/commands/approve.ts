import { mkdir } from "node:fs/promises";
import { budgetNow } from "../session/cost-accounting.js";
import { backstopUsd } from "../core/budget.js";
import { decideApprove, describeApprove, type ApproveAction, type ApproveFacts, type ApproveSession } from "../core/decide/decide-approve.js";
import { budgetRecordPath, budgetRecordText } from "../session/budget-record.js";
import { decided, ExitCode, RefusedError } from "../core/errors.js";
import { dryRunText } from "../core/render/dry-run.js";
import { acquireFeatureLock } from "../feature/lock.js";
import { openFeature, type FeatureContext } from "../state-ref/open-feature.js";
import { featureDir, sessionsDir } from "../core/state/paths.js";
import { writeState } from "../feature/store.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { pathExists } from "../fs/exists.js";
import { nextRecord, readHookRecord, writeHookRecord } from "../session/ledger.js";
import { readRunState, writeRunState } from "../run/run-state.js";
import { invocationRunning, logSize, sessionLogPath, startInvocation } from "../session/sessions.js";
import { readSessionRecord } from "../session/headless.js";
import { claudeBinary } from "../session/launch.js";
import { quote } from "../core/text/shell.js";
import type { Io } from "../core/io.js";
import { dollars, namedTask, str, usageError } from "../core/command-args.js";
import type { CommandSpec, Values } from "../core/command-spec.js";

export const spec: CommandSpec = {
  name: "approve",
  synopsis: ["<task> [slug] [--add USD] [--dry-run]"],
  summary: ["Let a task that reached its budget (or the feature's) spend more: raise the limit and", "resume its session."],
  details: [
    "`run` pauses a task once its sessions have spent its budget (budgetUsd, --task-budget-usd) or the feature's sessions the feature's (featureBudgetUsd, --max-budget-usd): no new session or resume, and the hooks refuse the tool calls of its session. approve raises each limit the task reached by --add USD (default: the task's own budget once more), records that in the feature's state, and resumes the same headless session (`claude -p --resume`); a session in your terminal you continue yourself. A running `run` holds the feature: approve once it has stopped, then run again to carry on.",
  ],
  options: [
    { name: "add", type: "string", value: "USD", text: "How many dollars more (default: the task's own budget once more)." },
    { name: "dry-run", type: "boolean", text: "Print what it would do, and change nothing." },
  ],
  positionals: 2,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  if (!positionals[0]) throw usageError("`approve` needs the task's id", "run `claude-parallel approve <task> [slug] [--add USD]`");
  return approveCommand({ task: positionals[0], slug: positionals[1], addUsd: dollars("--add", str(values.add)), dryRun: values["dry-run"] === true }, io);
}

interface ApproveOptions {
  task: string;
  slug?: string;
  addUsd?: number;
  dryRun: boolean;
}

/**
 * `claude-parallel approve <task> [slug] [--add USD]`: under the feature's lock, gathers what the
 * task spent against its limits (src/budget/), decides (src/core/decide/decide-approve.ts), and applies:
 * the approval into the feature's state and the budget record the hooks read, then the resume of
 * the same session, recorded in `run`'s state before it starts (a later run adopts it).
 */
async function approveCommand(options: ApproveOptions, io: Io): Promise<ExitCode> {
  const first = await openFeature(options.slug, io.cwd);
  const release = await acquireFeatureLock(first.repo.commonDir, first.feature.slug, "approve");
  try {
    const ctx = await openFeature(first.feature.slug, io.cwd, { repo: first.repo });
    const facts = await gather(ctx, options);
    const actions = decided(decideApprove(facts));
    if (options.dryRun) {
      io.stdout(dryRunText(`approve ${options.task} ${ctx.feature.slug}`, actions, describeApprove));
      return ExitCode.ok;
    }
    await apply(ctx, facts, actions, io);
    return ExitCode.ok;
  } finally {
    await release();
  }
}

async function gather(ctx: FeatureContext, options: ApproveOptions): Promise<ApproveFacts> {
  const { repo, feature } = ctx;
  const { plan, state, slug } = feature;
  const commonDir = repo.commonDir;
  const task = namedTask(
    slug,
    plan.phases.flatMap((p) => p.tasks),
    options.task,
  );
  if (!state) throw new RefusedError([{ code: "feature-not-started", message: `${slug} has not started: no session has spent anything`, fix: `start it first: claude-parallel run ${quote(slug)}` }]);
  const phase = state.phases[String(task.phase)];
  const recorded = phase?.tasks[task.id];
  const runState = await readRunState(commonDir, slug);
  return {
    slug,
    task: task.id,
    merged: phase?.syncedAt !== undefined || recorded?.mergedAt !== undefined,
    skipped: recorded?.skipped !== undefined,
    ...(recorded && (await pathExists(recorded.worktree)) && { worktree: recorded.worktree }),
    budget: await budgetNow(commonDir, feature, runState.budget ?? {}),
    ...((runState.budget?.taskUsd ?? task.budgetUsd) !== undefined && { baseTaskUsd: runState.budget?.taskUsd ?? task.budgetUsd }),
    ...(options.addUsd !== undefined && { addUsd: options.addUsd }),
    session: await sessionOf(ctx, task.id, runState),
    ...(runState.mode && { runMode: runState.mode }),
    now: new Date().toISOString(),
  };
}

/** The task's session: one `run` started (its state), one `start --launch headless` started (its record), or one the hooks saw. */
async function sessionOf(ctx: FeatureContext, taskId: string, runState: Awaited<ReturnType<typeof readRunState>>): Promise<ApproveSession> {
  const { repo, feature } = ctx;
  const ts = runState.tasks[taskId];
  if (ts?.current) return invocationRunning(ts.current) ? { kind: "running" } : ts.sessionId ? { kind: "headless", sessionId: ts.sessionId } : { kind: "none" };
  const record = await readSessionRecord(repo.commonDir, feature.slug, taskId);
  if (record?.pid !== undefined && record.exitCode === undefined && invocationRunning({ pid: record.pid })) return { kind: "running" };
  if (record?.sessionId) return { kind: "headless", sessionId: record.sessionId };
  const ledger = readHookRecord(featureDir(repo.commonDir, feature.slug), taskId);
  if (ledger) return { kind: "interactive", ...(ledger.sessionId !== undefined && { sessionId: ledger.sessionId }) };
  return { kind: "none" };
}

async function apply(ctx: FeatureContext, facts: ApproveFacts, actions: ApproveAction[], io: Io): Promise<void> {
  const { repo, feature } = ctx;
  const { slug, plan } = feature;
  const commonDir = repo.commonDir;
  const stateDir = featureDir(commonDir, slug);
  // Found before anything is written: a missing claude leaves no resume half-recorded.
  const claude = actions.some((a) => a.kind === "resume") ? await claudeBinary() : undefined;
  let budget = facts.budget;
  for (const action of actions) {
    switch (action.kind) {
      case "raise": {
        const state = feature.state!;
        state.budgetApprovals = [...(state.budgetApprovals ?? []), action.approval];
        await writeState(commonDir, state);
        const runState = await readRunState(commonDir, slug);
        budget = await budgetNow(commonDir, feature, runState.budget ?? {});
        await writeFileAtomic(budgetRecordPath(stateDir), budgetRecordText(budget, facts.now));
        if (facts.session.kind !== "running") {
          const previous = readHookRecord(stateDir, action.task);
          if (previous?.state === "paused: budget")
            writeHookRecord(stateDir, nextRecord(previous, { task: action.task, name: "approve", at: facts.now, state: "stopped", detail: "more budget approved" }));
        }
        io.stdout(`${describeApprove(action).replace(/^raise/, "Raised")}.\n`);
        break;
      }
      case "resume": {
        const runState = await readRunState(commonDir, slug);
        const ts = (runState.tasks[action.task] ??= { invocations: 0, attempts: {} });
        ts.invocations += 1;
        ts.sessionId = action.sessionId;
        delete ts.paused;
        await mkdir(sessionsDir(commonDir, slug), { recursive: true });
        ts.current = { n: ts.invocations, kind: "resume", prompt: action.prompt, logOffset: await logSize(sessionLogPath(commonDir, slug, action.task)), recordedAt: new Date().toISOString() };
        // Recorded before it starts: a run finds it (and starts it, if this process dies first).
        await writeRunState(commonDir, slug, runState);
        const task = plan.phases.flatMap((p) => p.tasks).find((t) => t.id === action.task)!;
        const phase = feature.state!.phases[String(task.phase)];
        const cap = backstopUsd(budget, action.task);
        const started = await startInvocation({
          commonDir,
          plan,
          state: feature.state!,
          task,
          worktree: action.worktree,
          inv: ts.current,
          sessionId: action.sessionId,
          claude: claude!,
          ...(phase?.permissionMode !== undefined && { permissionMode: phase.permissionMode }),
          ...(phase?.model !== undefined && { model: phase.model }),
          ...(cap !== undefined && { maxBudgetUsd: cap }),
        });
        await writeRunState(commonDir, slug, runState);
        if (started.note) io.stdout(`Note: ${started.note}\n`);
        io.stdout(`Resumed ${action.task}'s session ${action.sessionId} (pid ${ts.current.pid}) in ${action.worktree}; its output: ${sessionLogPath(commonDir, slug, action.task)}.\n`);
        break;
      }
      case "say":
        io.stdout(`${action.text}\n`);
        break;
    }
  }
}
