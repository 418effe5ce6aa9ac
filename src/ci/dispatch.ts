/**
 * Whether the next job dispatches the next phase's run. The run's title names the feature and the
 * phase (the workflow's `run-name`), so a run already dispatched is found in the runs' list: a
 * re-run of the next job, or of the whole run, dispatches nothing a second time. Pure.
 */

/** A run as `gh run list --json displayTitle,status,url` gives it. */
export interface ListedRun {
  displayTitle?: string;
  status?: string;
  url?: string;
}

/** The title the workflow's `run-name` gives a dispatched phase's run. */
export const runTitle = (slug: string, phase: number) => `claude-parallel ${slug} phase ${phase}`;

type DispatchDecision = { kind: "dispatch" } | { kind: "none"; why: string };

export function decideDispatch(f: { phases: number; next: number; started: boolean; runs: readonly ListedRun[]; title: string }): DispatchDecision {
  if (f.next > f.phases) return { kind: "none", why: `Phase ${f.next - 1} was the last: there is no next phase to dispatch.` };
  if (f.started) return { kind: "none", why: `Phase ${f.next} has started already: its run is not dispatched again.` };
  const waiting = f.runs.find((r) => r.displayTitle === f.title && r.status !== "completed");
  if (waiting) return { kind: "none", why: `${f.title} is dispatched already (${waiting.status}: ${waiting.url ?? "no url"}): it is not dispatched again.` };
  return { kind: "dispatch" };
}
