import type { ExecutionPlan, PlannedPhase, PlannedTask } from "../plan/build.js";
import { oneLine } from "../render/markdown-text.js";
import { previewMerge } from "./merge-tree.js";
import { gitOk } from "./run.js";

export interface ConflictReport {
  /** The task whose merge conflicts. */
  task: string;
  /** Earlier tasks in the merge order (or the integration branch) that changed the same files. */
  with: string[];
  files: string[];
}

/** One merge of the chain: `base` + task's branch = `commit`. */
export interface ChainLink {
  task: PlannedTask;
  tip: string;
  base: string;
  commit: string;
}

export function mergeMessage(plan: ExecutionPlan, phase: PlannedPhase, task: PlannedTask): string {
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

/** Files, now or once asked for: what a branch changed is asked of git only to explain a conflict. */
type Changes = ReadonlySet<string> | undefined | Promise<ReadonlySet<string> | undefined>;

/**
 * The merge chain, in the phase's order: each branch merged in memory onto the result of the ones
 * before it (merge-tree, then commit-tree: objects only). A conflicting branch is left out so the
 * rest can still be checked: every conflict is reported at once. `changedBy` and
 * `integrationChanges` name the earlier side of a conflict; they are called only for one.
 */
export async function mergeChain(
  cwd: string,
  plan: ExecutionPlan,
  phase: PlannedPhase,
  integrationTip: string,
  checks: ReadonlyArray<{ task: PlannedTask; tip: string }>,
  changedBy: (taskId: string) => Changes = () => undefined,
  integrationChanges: () => Changes = () => undefined,
): Promise<{ chain: ChainLink[]; conflicts: ConflictReport[] }> {
  const chain: ChainLink[] = [];
  const conflicts: ConflictReport[] = [];
  let base = integrationTip;
  for (const check of checks) {
    const preview = await previewMerge(cwd, base, check.tip, { resolved: true });
    if (preview.conflicts.length) {
      const [changes, integration] = await Promise.all([Promise.all(chain.map((l) => changedBy(l.task.id))), integrationChanges()]);
      const earlier = chain.map((l) => l.task.id).filter((_, k) => preview.conflicts.some((f) => changes[k]?.has(f)));
      if (preview.conflicts.some((f) => integration?.has(f))) earlier.push("the integration branch");
      conflicts.push({ task: check.task.id, with: earlier, files: preview.conflicts });
      continue;
    }
    // The message goes by stdin: a plan's text never has to fit on a command line.
    const commit = await gitOk(["commit-tree", preview.tree, "-p", base, "-p", check.tip], cwd, { input: mergeMessage(plan, phase, check.task) + "\n" });
    chain.push({ task: check.task, tip: check.tip, base, commit });
    base = commit;
  }
  return { chain, conflicts };
}
