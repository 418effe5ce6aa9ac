import type { Decision, Refusal } from "../errors.js";
import { quote, sh } from "../text/shell.js";
import { usd, type BudgetApproval, type BudgetState } from "../budget.js";
import type { RunMode } from "../state/state-schema.js";
import { runAgainCommand } from "../render/run-again.js";

/**
 * What `claude-parallel approve <task> [--add USD]` does, decided from facts alone: raise the
 * limit the task reached (its own, the feature's, or both) by the amount approved, then resume
 * the same session (headless), or say how to continue it (interactive), or that the next run
 * starts it; for a merged task, once the feature's budget stopped the pull request's watch, that
 * the watch goes on. The command gathers the facts under the feature's lock and applies the actions.
 */

export type ApproveSession =
  /** No session was ever launched for the task. */
  | { kind: "none" }
  /** Its session's process still runs: its tool calls go through again once the limit is raised. */
  | { kind: "running" }
  /** A headless session that ended: resumed with `claude -p --resume`. */
  | { kind: "headless"; sessionId: string }
  /** A session the user runs in a terminal (the hooks saw it); its id when known. */
  | { kind: "interactive"; sessionId?: string };

export interface ApproveFacts {
  slug: string;
  /** A task of the plan (the command checks the name). */
  task: string;
  merged: boolean;
  skipped: boolean;
  /** The task's worktree, when it has one on disk. */
  worktree?: string;
  budget: BudgetState;
  /** The task's own budget before approvals (run's --task-budget-usd, else the plan's): the default amount. */
  baseTaskUsd?: number;
  /** `--add USD`. */
  addUsd?: number;
  session: ApproveSession;
  /** How the last run was started: the run this suggests is started the same way. */
  runMode?: RunMode;
  now: string;
}

export type ApproveAction =
  | { kind: "raise"; task: string; approval: BudgetApproval; taskLimit?: { from: number; to: number }; featureLimit?: { from: number; to: number }; spentUsd: number }
  | { kind: "resume"; task: string; sessionId: string; worktree: string; prompt: string }
  | { kind: "say"; text: string };

const cents = (x: number) => Math.ceil(x * 100 - 1e-9) / 100;

export function decideApprove(f: ApproveFacts): Decision<ApproveAction> {
  const refuse = (r: Refusal & { code: string }): Decision<ApproveAction> => ({ refusals: [{ ...r, task: f.task }] });
  const approve = (add: string) => `claude-parallel approve ${f.task} ${quote(f.slug)} --add ${add}`;
  const own = f.budget.tasks.get(f.task) ?? { spentUsd: 0 };
  const feature = f.budget.feature;
  const ownReached = own.limitUsd !== undefined && own.spentUsd >= own.limitUsd;
  const featureReached = feature.reached !== undefined;
  // A merged task's session still answers the pull request's feedback (watch): the budget that stops it can grow.
  if (f.skipped || (f.merged && !featureReached))
    return refuse({ code: "task-finished", message: `${f.task} is ${f.merged ? "merged" : "skipped"}: it has no session to give more budget`, fix: "nothing to do" });
  if (!ownReached && !featureReached) {
    const where = [
      `its sessions spent ${usd(own.spentUsd)}${own.limitUsd !== undefined ? ` of its ${usd(own.limitUsd)} budget` : ", and it has no budget of its own"}`,
      ...(feature.limitUsd !== undefined ? [`the feature's ${usd(feature.spentUsd)} of ${usd(feature.limitUsd)}`] : []),
    ];
    return refuse({
      code: "budget-not-reached",
      message: `${f.task} has not reached a budget (${where.join("; ")}): there is nothing to approve`,
      fix: "to give it more room before it reaches one, raise budgetUsd (or featureBudgetUsd) in the plan and replan, or run with --task-budget-usd / --max-budget-usd",
    });
  }
  const add = f.addUsd ?? f.baseTaskUsd;
  if (add === undefined) return refuse({ code: "amount-needed", message: `${f.task} has no budget of its own to repeat: say how much more its sessions may spend`, fix: approve("<USD>") });
  // Each limit reached grows by the amount; it must then be above what was spent against it.
  const short = Math.max(ownReached ? own.spentUsd - own.limitUsd! : 0, featureReached ? feature.spentUsd - feature.limitUsd! : 0);
  if (add <= short) {
    const least = cents(short + 0.01);
    return refuse({
      code: "amount-too-small",
      message: `adding ${usd(add)} leaves ${f.task} at its budget: ${ownReached ? `it spent ${usd(own.spentUsd)} of its ${usd(own.limitUsd!)}` : `the feature spent ${usd(feature.spentUsd)} of its ${usd(feature.limitUsd!)}`}`,
      fix: `add at least ${usd(least)}: ${approve(String(least))}`,
    });
  }
  const approval: BudgetApproval = { task: f.task, ...(ownReached && { taskAddUsd: add }), ...(featureReached && { featureAddUsd: add }), at: f.now };
  const raise: ApproveAction = {
    kind: "raise",
    task: f.task,
    approval,
    spentUsd: own.spentUsd,
    ...(ownReached && { taskLimit: { from: own.limitUsd!, to: own.limitUsd! + add } }),
    ...(featureReached && { featureLimit: { from: feature.limitUsd!, to: feature.limitUsd! + add } }),
  };
  const limits = [raise.taskLimit && `its own ${usd(raise.taskLimit.to)}`, raise.featureLimit && `the feature's ${usd(raise.featureLimit.to)}`].filter(Boolean).join(", ");
  const again = runAgainCommand(f.slug, f.runMode);
  if (f.merged) {
    const watch = f.runMode?.finish === "pr" ? again : sh`claude-parallel watch ${f.slug}`;
    return { actions: [raise, { kind: "say", text: `${f.task}'s work is merged: the pull request's feedback goes to its session when the watch goes on: ${watch}` }] };
  }
  const then = { kind: "say" as const, text: `The run checks its work when its session ends: ${again}` };
  switch (f.session.kind) {
    case "headless": {
      if (f.worktree === undefined)
        return refuse({
          code: "worktree-missing",
          message: `${f.task}'s worktree is missing: its session has nowhere to go on`,
          fix: `make it again with ${sh`claude-parallel start ${f.slug}`}, then approve again`,
        });
      const prompt = `claude-parallel: the user approved more budget for your task (now ${limits}; your task's sessions have spent ${usd(own.spentUsd)}). Go on with your task where you stopped, and commit your work when it is done.`;
      return { actions: [raise, { kind: "resume", task: f.task, sessionId: f.session.sessionId, worktree: f.worktree, prompt }, then] };
    }
    case "running":
      return { actions: [raise, { kind: "say", text: `${f.task}'s session still runs: its tool calls go through again.` }, then] };
    case "interactive": {
      const where =
        f.worktree === undefined ? sh`claude-parallel status ${f.slug}` : `${sh`cd -- ${f.worktree}`} && ${f.session.sessionId ? sh`claude --resume ${f.session.sessionId}` : "claude --continue"}`;
      return { actions: [raise, { kind: "say", text: `${f.task}'s session runs in a terminal of yours: continue it there (${where}).` }] };
    }
    case "none":
      return { actions: [raise, { kind: "say", text: `${f.task} has no session yet: ${again} starts one.` }] };
  }
}

/** One line per action (`approve --dry-run`). */
export function describeApprove(a: ApproveAction): string {
  switch (a.kind) {
    case "raise": {
      const raised = [
        a.taskLimit && `${a.task}'s budget from ${usd(a.taskLimit.from)} to ${usd(a.taskLimit.to)}`,
        a.featureLimit && `the feature's from ${usd(a.featureLimit.from)} to ${usd(a.featureLimit.to)}`,
      ]
        .filter(Boolean)
        .join(" and ");
      return `raise ${raised} (its sessions have spent ${usd(a.spentUsd)})`;
    }
    case "resume":
      return `resume ${a.task}'s session ${a.sessionId} in ${a.worktree}`;
    case "say":
      return a.text;
  }
}
