import type { FeatureState } from "./state-schema.js";

/** The task worktrees the feature recorded (before making them), once each. Pure. */
export function recordedWorktrees(state: FeatureState): Array<{ id: string; branch: string; worktree: string }> {
  const seen = new Map<string, { id: string; branch: string; worktree: string }>();
  for (const phase of Object.values(state.phases)) for (const [id, t] of Object.entries(phase.tasks)) if (!seen.has(t.worktree)) seen.set(t.worktree, { id, branch: t.branch, worktree: t.worktree });
  return [...seen.values()];
}
