import type { TaskStatus } from "../../src/status/gather.js";
import type { ConflictReport } from "../../src/merge/merge-chain.js";

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

/** A conflict for pure tests: `task`'s merge conflicts with `other` (a task, or "the integration branch") in `files`, fixed by merging `other`'s branch. */
export function conflictReport(task: string, other: string, files: string[]): ConflictReport {
  const integration = other === "the integration branch";
  return {
    task,
    branch: `feature/x-${task}`,
    files,
    paths: files.map((path) => ({
      path,
      ours: { change: "changed", source: integration ? { kind: "integration", tasks: [] } : { kind: "task", tasks: [other] } },
      theirs: { change: "changed", source: { kind: "self", task } },
    })),
    fix: { kind: "merge", branches: [integration ? "feature/x" : `feature/x-${other}`], options: [], held: [] },
    with: [other],
  };
}
