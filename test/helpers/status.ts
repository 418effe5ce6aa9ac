import type { TaskStatus } from "../../src/status/gather.js";

/** A task's status for pure tests: nothing committed, clean, nothing launched, unless `change` says otherwise. */
export function taskStatus(id: string, change: Partial<TaskStatus> = {}): TaskStatus {
  return {
    id,
    role: id.toUpperCase(),
    branch: `feature/x-${id}`,
    ahead: 0,
    uncommitted: [],
    outsideOwns: [],
    worktreeMissing: false,
    branchMissing: false,
    session: { kind: "not-launched" },
    verify: { kind: "none" },
    attempts: 0,
    tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    ...change,
  };
}
