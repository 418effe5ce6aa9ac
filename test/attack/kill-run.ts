import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gitTry, worktreeList } from "../helpers/attack.js";
import { killLoop } from "./kill-loop.js";
import { attackRepo, finishedViolations, PHASE1, SLUG, untouchedViolations } from "./scenarios.js";

const TASKS = [...PHASE1, "c"];

/**
 * A stand-in for `claude` (run starts sessions with `claude -p ... --output-format stream-json`):
 * the session of the task whose worktree it runs in (the folder ends with `-<task>`) writes its
 * work, commits it, and reports success. Run again (a resumed or re-launched session), it has
 * nothing new to commit.
 */
const FAKE_CLAUDE = `#!/bin/sh
id=\${PWD##*-}
mkdir -p "$id" && printf 'work of %s\\n' "$id" > "$id/x.txt"
git add -- "$id/x.txt" && git commit -q -m "Work of $id" -- "$id/x.txt" >/dev/null 2>&1
printf '%s\\n' '{"type":"result","subtype":"success","is_error":false,"session_id":"kill-loop","total_cost_usd":0}'
`;

/**
 * `run` of a two-phase feature from its first start to the final merge into `trunk` (checked out
 * nowhere), with sessions that do their work at once, killed at random moments (the session
 * processes run in their own sessions and outlive the kill, as real ones do). One re-run must
 * finish the feature: trunk holds every task's work, merged once; each task's work committed once;
 * no worktree of the feature left; the user's things untouched.
 */
export function killRunSuite(file: number, runs: number): void {
  killLoop(
    {
      args: ["run"],
      seedOffset: 40_000,
      build: (folder) => {
        const r = attackRepo(`kru${file}`, { parent: folder, base: "trunk" });
        const bin = join(folder, "bin");
        mkdirSync(bin);
        writeFileSync(join(bin, "claude"), FAKE_CLAUDE);
        chmodSync(join(bin, "claude"), 0o755);
        return { ...r, bin, before: { main: r.mainSnapshot(), foreign: r.foreignSnapshot() } };
      },
      env: (r) => ({ PATH: `${r.bin}:${process.env.PATH ?? ""}` }),
      steps: [
        "run-after-begin",
        "run-after-start-phase",
        "run-after-intent",
        "run-after-spawn",
        "run-after-sync",
        "after-journal",
        "after-publish",
        "after-record",
        "during-remove",
        "start-after-worktree",
        "finish-after-merge",
      ],
      milestones: [
        { label: "the run's state", path: (r) => join(r.repo, ".git/parallel/demo/run/state.json") },
        { label: "b's worktree", path: (r) => r.wt("b") },
        { label: "d's session record", path: (r) => join(r.repo, ".git/parallel/demo/sessions/d.json") },
        { label: "the journal of phase 1's sync", path: (r) => join(r.repo, ".git/parallel/demo/sync-phase-1.json") },
        { label: "the backup of a", path: (r) => join(r.repo, ".git/refs/parallel/demo/phase-1/a") },
        { label: "c's worktree", path: (r) => r.wt("c") },
        { label: "c's session log", path: (r) => join(r.repo, ".git/parallel/demo/sessions/c.jsonl") },
        { label: "the backup of c", path: (r) => join(r.repo, ".git/refs/parallel/demo/phase-2/c") },
      ],
      violations: (r) => {
        const v = [...finishedViolations(r), ...untouchedViolations(r, [], r.before)];
        const state = JSON.parse(readFileSync(join(r.repo, `.git/parallel/${SLUG}/state.json`), "utf8")) as { finishedAt?: string };
        if (!state.finishedAt) v.push("the feature is not recorded as finished");
        for (const id of TASKS) {
          const commits = gitTry(r.repo, ["log", "--format=%s", "refs/heads/trunk"])
            .stdout.split("\n")
            .filter((s) => s === `Work of ${id}`);
          if (commits.length !== 1) v.push(`trunk holds ${commits.length} commits of ${id}'s session, not 1`);
          if (existsSync(r.wt(id))) v.push(`the worktree of ${id} is still there`);
        }
        const left = worktreeList(r.repo)
          .map((w) => w.path)
          .filter((p) => p !== r.repo && p !== r.foreign);
        if (left.length) v.push(`worktrees left registered: ${left.join(", ")}`);
        return v;
      },
    },
    file,
    runs,
  );
}
