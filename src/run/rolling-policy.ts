import { isReady, type RunAction, type RunFacts, type RunPolicy, type TaskFacts } from "../core/decide/decide-run.js";
import { nextMerge, tasksToStart, type RollingGraph, type RollingState } from "./ready-tasks.js";

/**
 * `run --rolling`: no barriers. A task starts (its own branch from the integration branch as it is
 * then) once every task it waits for is merged; a task whose session ended with a clean check
 * merges alone, one at a time (the merge queue), while the other sessions keep working. A phase is
 * recorded as synced once all of its tasks are merged, in phase order, so `status`, `finish` and a
 * later phased run see the feature as a phased run would have left it.
 */
export function rollingPolicy(graph: RollingGraph): RunPolicy {
  return {
    active(facts) {
      const open = facts.phases.find((p) => !p.synced);
      if (!open) return undefined;
      const tasks = facts.phases.flatMap((p) => p.tasks).filter((t) => t.started === true && !t.merged && !t.skipped);
      return { phase: open.index, tasks };
    },
    prepare(facts) {
      const open = facts.phases.find((p) => !p.synced)!;
      if (open.tasks.every((t) => t.merged || t.skipped)) return [{ kind: "mark-synced", phase: open.index }];
      // No new work once the integration branch itself fails verify: the run is about to stop.
      if (facts.baseVerifyFails) return [];
      const phaseOf = phaseIndex(facts);
      return tasksToStart(graph, rollingState(facts), facts.maxParallel).map((task): RunAction => ({ kind: "start-task", task, phase: phaseOf.get(task)! }));
    },
    merge(facts) {
      const task = nextMerge(graph, rollingState(facts));
      return task === undefined ? undefined : { kind: "merge-task", task, phase: phaseIndex(facts).get(task)! };
    },
  };
}

const phaseIndex = (facts: RunFacts) => new Map(facts.phases.flatMap((p) => p.tasks.map((t) => [t.id, p.index] as const)));

/**
 * Where the tasks stand, in the merge queue's terms: a started task is running until its check is
 * clean (then it waits in the queue); one not started is waiting for what it depends on.
 */
export function rollingState(facts: RunFacts): RollingState {
  const all: TaskFacts[] = facts.phases.flatMap((p) => p.tasks);
  const live = all.filter((t) => t.started === true && !t.merged && !t.skipped);
  return {
    merged: new Set(all.filter((t) => t.merged).map((t) => t.id)),
    skipped: new Set(all.filter((t) => t.skipped && !t.merged).map((t) => t.id)),
    running: new Set(live.filter((t) => !isReady(t)).map((t) => t.id)),
    finished: new Set(live.filter(isReady).map((t) => t.id)),
  };
}
