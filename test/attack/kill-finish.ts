import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gitTry } from "../helpers/attack.js";
import { git } from "../helpers/git.js";
import { killLoop } from "./kill-loop.js";
import { finishedViolations, PHASE1, SLUG, syncedAttackRepo, untouchedViolations, type AttackRepo } from "./scenarios.js";

/**
 * `finish` of a feature whose phases are all synced, killed at random moments: into a base
 * checked out nowhere (`inCheckout` false: the merge is made in memory and published with a
 * compare-and-swap), or checked out in a clean worktree of the user's, with an untracked file of
 * theirs (a real `git merge` there). One re-run must leave base holding the feature once, the
 * feature recorded as finished, that checkout clean at base's new tip with the user's file, and
 * the user's other things as they were.
 */
export function killFinishSuite(file: number, runs: number, inCheckout: boolean): void {
  const checkoutOf = (r: AttackRepo) => join(r.repo, "..", "trunk-checkout");
  killLoop(
    {
      args: ["finish"],
      seedOffset: inCheckout ? 25_000 : 20_000,
      build: (folder) => {
        const r = syncedAttackRepo(`kfi${file}`, folder);
        if (inCheckout) {
          git(r.repo, "worktree", "add", "-q", checkoutOf(r), "trunk");
          writeFileSync(join(checkoutOf(r), "mine.txt"), "untracked, mine\n");
        }
        return r;
      },
      steps: ["finish-after-merge", "finish-after-record"],
      milestones: [
        { label: "the finish lock", path: (r) => join(r.repo, ".git/parallel/.locks/demo.lock") },
        { label: "git's lock on trunk", path: (r) => join(r.repo, ".git/refs/heads/trunk.lock") },
        ...(inCheckout
          ? [
              { label: "the index.lock of the checkout of trunk", path: (r: AttackRepo) => join(r.repo, ".git/worktrees/trunk-checkout/index.lock") },
              { label: "a merged file in the checkout of trunk", path: (r: AttackRepo) => join(checkoutOf(r), "c/x.txt") },
              { label: "ORIG_HEAD of the checkout of trunk", path: (r: AttackRepo) => join(r.repo, ".git/worktrees/trunk-checkout/ORIG_HEAD") },
            ]
          : []),
      ],
      violations: (r) => {
        const v = [...finishedViolations(r), ...untouchedViolations(r, r.everOnTasks, r.before)];
        const state = JSON.parse(readFileSync(join(r.repo, `.git/parallel/${SLUG}/state.json`), "utf8")) as { finishedAt?: string };
        if (!state.finishedAt) v.push("the feature is not recorded as finished");
        // finish removes no working worktree: clean does.
        for (const id of [...PHASE1, "c"]) if (!existsSync(r.wt(id))) v.push(`finish removed the worktree of ${id}`);
        if (inCheckout) {
          const status = gitTry(checkoutOf(r), ["status", "--porcelain"]).stdout;
          if (status !== "?? mine.txt") v.push(`the checkout of trunk is not clean at its new tip with the user's file: ${JSON.stringify(status)}`);
          if (gitTry(checkoutOf(r), ["rev-parse", "HEAD"]).stdout !== gitTry(r.repo, ["rev-parse", "refs/heads/trunk"]).stdout) v.push("the checkout of trunk is not at trunk");
          const mergeHead = gitTry(checkoutOf(r), ["rev-parse", "--path-format=absolute", "--git-path", "MERGE_HEAD"]).stdout;
          if (existsSync(mergeHead)) v.push("git still notes a merge under way in the checkout of trunk (MERGE_HEAD): the user's next commit there would be a merge");
        }
        return v;
      },
    },
    file,
    runs,
  );
}
