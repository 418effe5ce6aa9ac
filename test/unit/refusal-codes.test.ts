import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { RefusedError } from "../../src/core/errors.js";
import { REPO_ROOT } from "../helpers/paths.js";

/**
 * Every refusal's code, with the one meaning it has. A code is a stable identifier that scripts
 * and `run` may match on: renaming one, or giving one a second meaning, is a change of interface.
 * A new code is added here with its meaning; two meanings never share a code, nor one meaning two.
 */
const CODES: Record<string, string> = {
  "amount-needed": "approve was given no amount, and the task has no budget of its own to repeat",
  "amount-too-small": "the amount approved would leave the task at a budget it reached",
  "base-conflict": "merging the integration branch into base conflicts (base moved on since the feature started)",
  "branch-checked-out-elsewhere": "a task's branch is checked out in a worktree other than the task's",
  "branch-missing": "a branch the command needs (base or the integration branch) does not exist",
  "branch-name-clash": "a branch the feature would create cannot exist beside an existing one (one would be a folder of the other)",
  "branch-not-merged": "a branch or backup of the feature holds commits base does not have (clean without --force)",
  "branch-not-ours": "a branch named like one of the feature's exists and is not the feature's",
  "branch-of-other-feature": "a branch the feature would use is another started feature's",
  "budget-not-reached": "the task has reached no budget: there is nothing to approve",
  "checkout-dirty": "the checkout the command must move has uncommitted changes",
  "checkout-merging": "the checkout finish must merge in has someone's merge under way",
  "feature-cleaned": "the feature was finished and cleaned up: nothing of it is left to act on",
  "feature-finished": "the feature is finished (merged into base): it cannot change",
  "feature-not-started": "the feature has not started (no state in this clone)",
  "file-differs": "a file ci init writes exists with other content (without --force)",
  "integration-lost": "the integration branch is gone although phases were synced into it",
  "leg-bundle-invalid": "a CI leg's bundle does not hold the commit its result names",
  "leg-not-done": "no CI leg session that succeeded left the task branch's tip",
  "merge-incomplete": "after the merge in base's checkout, base still does not hold the integration branch",
  "no-push-remote": "there is no remote to push the integration branch to",
  "not-the-tip": "the commit to accept is not where the integration branch is",
  "path-in-the-way": "something that is not ours is where the command would make a file or a worktree",
  "phase-not-started": "the phase the command acts on has not started",
  "phase-not-synced": "a phase the command needs synced is not synced yet",
  "phase-synced": "the phase is synced already, and a synced phase cannot change",
  "plan-field-fixed": "an edited plan changes slug, base, integrationBranch or worktreeRoot of a started feature",
  "pull-request-closed": "finish --pr: the integration branch's pull request was closed without being merged",
  "publish-interrupted": "a sync or task merge of the feature was interrupted and must be finished first",
  "ref-moved": "a local ref moved while the command ran (nothing was overwritten): run it again",
  "ref-update-refused": "git (or a hook of the repository) refused to move a ref",
  "remote-ahead": "a ref on the remote holds commits this clone does not have (nothing was pushed over it)",
  "rolling-skips-review": "run --rolling would merge tasks of a phase the plan asks a review of, without the reviewer",
  "shared-state-invalid": "a shared state (a state ref's commit) is not well-formed, or its plan and state disagree",
  "shared-state-mismatch": "a shared state does not fit this clone (another base or integration branch, or a worktree path that is taken)",
  "started-agent-changed": "an edited plan changes the agent of a task whose session started",
  "started-task-branch-changed": "an edited plan changes the branch of a started task",
  "started-task-moved": "an edited plan moves a started task to another phase",
  "started-task-removed": "an edited plan drops a started task",
  "state-diverged": "the feature's state changed here and on the remote since they last matched",
  "state-started-twice": "the feature was started here and on the remote separately",
  "synced-task-changed": "an edited plan changes what a synced task was asked to do",
  "tag-like-branch": "a tag is named like one of the feature's branches",
  "task-finished": "the task is merged or skipped: it has no session to act on",
  "task-joins-started-phase": "an edited plan puts a task into a phase that has started without it",
  "task-not-in-phase": "the task named is not a task of that phase",
  "task-not-started": "the task named has not started in this clone",
  "untrusted-change": "a shared state changes what runs or what sessions are told, and the user has not allowed it",
  "verdict-invalid": "a CI verdict file is not the sync job's verdict on this phase",
  "verify-not-recorded": "no result of a task's verify is recorded at its branch's tip",
  "worktree-holds-work": "a worktree of the feature holds work that removing it would lose (clean without --force)",
  "worktree-link-broken": "a task worktree's .git link does not lead to its entry in the repository",
  "worktree-missing": "a started task has no worktree in this clone",
  "start-interrupted": "the start of the phase was interrupted, and this command does not finish it (sync --no-next)",
  "integration-moved": "the integration branch is not where claude-parallel's last move left it (moved by someone else, or while a sync was interrupted)",
  "merge-not-verified": "the merged result is not the tree the sync job verified: a branch moved since",
  "task-branch-missing": "a task's branch is missing",
  "no-commit": "a task's branch has no commit beyond the phase's start",
  "worktree-dirty": "a task's worktree has uncommitted changes",
  "outside-owns": "a task's branch changed files outside its owned paths",
  "task-verify-fails": "a task's verify command fails on its branch",
  "review-budget": "a review round of run's sync would go past the feature's budget: it does not start until the user gives more, or publishes without it",
  "review-changes": "the reviewer of a phase's merged result asks a task for changes: nothing is published until its session makes them",
  "review-needs-you": "the reviewer gate needs the user: a finding no task owns, no usable verdict, or changes still asked after the plan's review.rounds",
  "merge-conflict": "a task's branch conflicts, merged in order, with the integration branch or an earlier task's",
  "feature-ref-moved": "a ref of the feature (a backup, a merged task's branch) is not where claude-parallel left it",
  "stray-backup": "a ref under the feature's backup folder that claude-parallel never wrote",
  "backup-outside": "a backup ref recorded without its tip holds a commit the integration branch does not",
  "branch-off-start": "a live task's branch no longer holds the commit it started from (rebased, or reset to another history)",
  "history-too-large": "the commits of a task's branch change more files than claude-parallel reads to check its owned paths",
};

/** The source files that build refusals, and the codes each gives them (`code: "..."`). */
function codesInSource(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
  for (const file of walk(join(REPO_ROOT, "src"))) {
    const text = readFileSync(file, "utf8");
    if (!/\bRefus(al|edError)\b|\bDecision</.test(text)) continue;
    for (const [, code] of text.matchAll(/\bcode: "([^"]*)"/g)) found.set(code!, [...(found.get(code!) ?? []), relative(REPO_ROOT, file)]);
  }
  return found;
}

describe("refusal codes", () => {
  const found = codesInSource();

  it("every code a refusal is given is listed here with its meaning", () => {
    expect(
      [...found.keys()].filter((c) => !(c in CODES)),
      "codes in src/ not listed in this test (add each with its meaning)",
    ).toEqual([]);
  });

  it("every listed code is given somewhere (a code no refusal has any more is taken out)", () => {
    expect(Object.keys(CODES).filter((c) => !found.has(c))).toEqual([]);
  });

  it("codes are kebab-case, and no two share a meaning", () => {
    for (const code of Object.keys(CODES)) expect(code).toMatch(/^[a-z]+(-[a-z]+)*$/);
    const meanings = Object.values(CODES);
    expect(meanings.filter((m, i) => meanings.indexOf(m) !== i)).toEqual([]);
  });

  it("a refusal's code is reported with it, before its task and message", () => {
    const e = new RefusedError([
      { code: "phase-synced", task: "a", message: "phase 1 of demo is already synced", fix: "a synced phase cannot change" },
      { message: "m", fix: "f" },
    ]);
    expect(e.report()).toBe("nothing was changed:\n[phase-synced] task a: phase 1 of demo is already synced\n  fix: a synced phase cannot change\nm\n  fix: f");
  });
});
