import type { ExecutionPlan, PlannedPhase, PlannedTask } from "../core/plan/build.js";
import { oneLine } from "../core/render/markdown-text.js";
import { explainConflict } from "./conflict-sources.js";
import type { ConflictReport } from "../core/render/conflict-report.js";
import { previewMerge, strategyOptions } from "./merge-tree.js";
import { gitOk } from "../git/run.js";
import type { ChainLink } from "../core/decide/merge-facts.js";

export type { ChainLink };

// Defined beside its renderer (the pure core names it); the merge chain is where it comes from.
export type { ConflictReport };

/** One merge of the chain: `base` + task's branch = `commit`. */

function mergeMessage(plan: ExecutionPlan, phase: PlannedPhase, task: PlannedTask): string {
  return `Merge ${task.branch} (${oneLine(task.title)}) into ${plan.integrationBranch} [phase ${phase.index}]`;
}

/** `f`, asked at most once per key: the answer (a promise) is kept. */
export function once<T>(f: (key: string) => T): (key: string) => T {
  const answers = new Map<string, T>();
  return (key) => {
    if (!answers.has(key)) answers.set(key, f(key));
    return answers.get(key)!;
  };
}

/** What explains a conflict: each task's start commit, and (a rolling run) who merged into the integration branch since it started. */
interface ChainContext {
  startOf?: (taskId: string) => string;
  integrationTasks?: (check: { task: PlannedTask; tip: string }, files: readonly string[]) => Promise<string[]>;
}

/**
 * The merge chain, in the phase's order: each branch merged in memory onto the result of the ones
 * before it (merge-tree with the task's merge settings, then commit-tree: objects only). A
 * conflicting branch is left out so the rest can still be checked: every conflict is reported at
 * once, explained from the merge bases git used (src/merge/conflict-sources.ts); that is asked of
 * git only for a conflict.
 */
export async function mergeChain(
  cwd: string,
  plan: ExecutionPlan,
  phase: PlannedPhase,
  integrationTip: string,
  checks: ReadonlyArray<{ task: PlannedTask; tip: string }>,
  context: ChainContext = {},
): Promise<{ chain: ChainLink[]; conflicts: ConflictReport[] }> {
  const chain: ChainLink[] = [];
  const conflicts: ConflictReport[] = [];
  let base = integrationTip;
  for (const check of checks) {
    const settings = check.task.merge;
    const preview = await previewMerge(cwd, base, check.tip, { resolved: true, settings });
    if (preview.conflicts.length) {
      const explained = await explainConflict(cwd, {
        ours: base,
        theirs: check.tip,
        stages: preview.stages,
        task: check.task.id,
        start: context.startOf?.(check.task.id) ?? integrationTip,
        integration: { branch: plan.integrationBranch, tip: integrationTip },
        earlier: chain.map((l) => ({ id: l.task.id, branch: l.task.branch, tip: l.tip })),
        ...(context.integrationTasks && { integrationTasks: () => context.integrationTasks!(check, preview.conflicts) }),
        fixOptions: strategyOptions(settings, true),
      });
      conflicts.push({ task: check.task.id, branch: check.task.branch, files: preview.conflicts, ...explained });
      continue;
    }
    // The message goes by stdin: a plan's text never has to fit on a command line.
    const commit = await gitOk(["commit-tree", preview.tree, "-p", base, "-p", check.tip], cwd, { input: mergeMessage(plan, phase, check.task) + "\n" });
    chain.push({ task: check.task, tip: check.tip, base, commit });
    base = commit;
  }
  return { chain, conflicts };
}
