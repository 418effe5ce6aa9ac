import { describe, expect, it } from "vitest";
import { ATTACK_SEED, describeRun, gitTry, prng, runAsync } from "../helpers/attack.js";
import { runHelper } from "../helpers/cli.js";
import { reusableFolder } from "../helpers/fixture.js";
import { basename, join } from "node:path";
import { git } from "../helpers/git.js";
import { attackRepo, type AttackRepo, commitPhase1, commitsOn, notesViolations, PHASE1, SLUG, syncedViolations } from "./scenarios.js";

const STEPS = ["after-preflight", "after-verify", "after-journal", "after-publish", "after-record", "after-backup", "during-remove", "after-remove"];
const MILESTONES: Array<{ label: string; path: (r: AttackRepo) => string }> = [
  { label: "the sync lock", path: (r) => join(r.repo, ".git/parallel/.locks/demo.lock") },
  { label: "the journal", path: (r) => join(r.repo, ".git/parallel/demo/sync-phase-1.json") },
  { label: "the backup ref of a", path: (r) => join(r.repo, ".git/refs/parallel/demo/phase-1/a") },
  { label: "c's worktree folder", path: (r) => r.wt("c") },
  { label: "c's node_modules folder", path: (r) => join(r.wt("c"), "node_modules") },
  { label: "c's node_modules copy half made", path: (r) => join(r.wt("c"), ".node_modules.claude-parallel-partial/pkg-3") },
  { label: "the index.lock of the user's checkout of the integration branch", path: (r) => join(r.repo, ".git/worktrees", `${basename(r.repo)}-integration`, "index.lock") },
  { label: "a's work in the user's checkout of the integration branch", path: (r) => join(integrationCheckout(r), "a/x.txt") },
];

/** A checkout of the integration branch the user made (clean): the sync moves it along with the branch. */
const integrationCheckout = (r: AttackRepo) => join(r.repo, "..", `${basename(r.repo)}-integration`);
const VERIFY = "test -f a/x.txt && test -f node_modules/.package-lock.json";

function ready(name: string, parent: string) {
  const r = attackRepo(name, { verify: VERIFY, parent });
  const started = runHelper(["start"], { cwd: r.repo, env: { TMPDIR: r.tmp } });
  if (started.code !== 0) throw new Error(`start failed: ${started.stderr}`);
  git(r.repo, "worktree", "add", "-q", integrationCheckout(r), `feature/${SLUG}`);
  const tips = commitPhase1(r);
  const everOnTasks = commitsOn(
    r.repo,
    PHASE1.map((id) => `feature/${SLUG}-${id}`),
  );
  return { r, tips, everOnTasks, before: { main: r.mainSnapshot(), foreign: r.foreignSnapshot() } };
}

/** The user's checkout of the integration branch is clean at the branch's tip: it moved along, nothing staged as deletions. */
function followedViolations(r: AttackRepo): string[] {
  const checkout = integrationCheckout(r);
  const status = gitTry(checkout, ["status", "--porcelain"]);
  const v = status.stdout ? [`the checkout of the integration branch is not clean: ${status.stdout.split("\n").slice(0, 5).join(" | ")}`] : [];
  if (gitTry(checkout, ["rev-parse", "HEAD"]).stdout !== gitTry(r.repo, ["rev-parse", `refs/heads/feature/${SLUG}`]).stdout) v.push("the checkout of the integration branch is not at its tip");
  return v;
}

/**
 * `sync` of phase 1 killed (SIGKILL to its whole process group, verify command and git included)
 * at a seeded moment: a random delay, a random number of output bytes, or one of the sync's own
 * crash points. Both runs name the phase (`sync --phase 1`): once phase 2 is recorded, a plain
 * `sync` targets phase 2, which has no commits yet (exit 4 by design). One re-run must exit 0 and: no commit ever on a task branch is lost, the
 * integration branch holds every task's tip with exactly one merge each, phase 2's worktree is
 * valid with complete dependencies, no worktree is left prunable, and the user's things (main
 * checkout, a foreign worktree) survive, an ignored file in a task worktree survives or is named
 * by the sync that deleted it, and a clean checkout
 * of the integration branch the user made follows the branch. The started and
 * committed phase 1 is built once per file (a real `start`) and restored by copy for each case
 * (test/helpers/fixture.ts): the kill hits the sync only, as before.
 */
export function killSyncSuite(file: number, runs: number): void {
  const seed = ATTACK_SEED + 5000 + 1000 * file;
  describe(`sync killed at random moments (seed ${seed}, file ${file}; replay with ATTACK_SEED=${ATTACK_SEED})`, () => {
    let reference: { ms: number; bytes: number } | undefined;
    const fresh = reusableFolder((folder) => ready(`ksy${file}`, folder));
    const measure = async () => {
      if (reference) return reference;
      const { r, tips, everOnTasks, before } = fresh();
      const t0 = Date.now();
      const run = await runAsync(["sync"], { cwd: r.repo, env: { TMPDIR: r.tmp } });
      const ms = Date.now() - t0;
      reference = { ms, bytes: run.stdout.length + run.stderr.length };
      return { ...reference, run, r, tips, everOnTasks, before };
    };

    it("an uninterrupted sync satisfies the invariants (reference run)", async () => {
      const m = await measure();
      if (!("run" in m)) return;
      const { run, r, tips, everOnTasks, before } = m as Awaited<ReturnType<typeof measure>> & { run: Awaited<ReturnType<typeof runAsync>> } & ReturnType<typeof ready>;
      expect(run.code, describeRun(run)).toBe(0);
      expect([...syncedViolations(r, tips, everOnTasks, before), ...followedViolations(r)]).toEqual([]);
      expect(notesViolations(r, run.stdout + run.stderr)).toEqual([]);
    });

    for (let i = 0; i < runs; i++) {
      const rng = prng(seed + i);
      const pick = rng();
      const fraction = rng();
      const mode = pick < 0.25 ? "step" : pick < 0.45 ? "bytes" : pick < 0.7 ? "milestone" : "delay";
      const step = STEPS[Math.floor(fraction * STEPS.length)]!;
      const milestone = MILESTONES[Math.floor(fraction * MILESTONES.length)]!;
      const how =
        mode === "step"
          ? `at its crash point ${step}`
          : mode === "milestone"
            ? `as soon as ${milestone.label} appears`
            : mode === "bytes"
              ? `after a share of its output (${fraction.toFixed(3)})`
              : `after a share of its run time (${fraction.toFixed(3)})`;
      it(`seed ${seed + i} (case ${i}): killed ${how}, then re-run`, async () => {
        const ref = await measure();
        const { r, tips, everOnTasks, before } = fresh();
        const env: NodeJS.ProcessEnv = { TMPDIR: r.tmp, ...(mode === "step" && { CLAUDE_PARALLEL_CRASH_AT: step }) };
        const kill =
          mode === "milestone"
            ? { whenExists: milestone.path(r) }
            : mode === "bytes"
              ? { afterBytes: Math.floor(fraction * ref.bytes) }
              : mode === "delay"
                ? { afterMs: Math.floor(fraction * ref.ms * 1.1) }
                : undefined;
        const killed = await runAsync(["sync", "--phase", "1"], { cwd: r.repo, env, kill });
        const rerun = await runAsync(["sync", "--phase", "1"], { cwd: r.repo, env: { TMPDIR: r.tmp } });
        const context = `seed ${seed + i} case ${i}, ${how} ${JSON.stringify(kill ?? {})} (${killed.killed ? "killed" : "finished first"}: exit ${killed.code})\nkilled run: ${describeRun(killed)}\nre-run: ${describeRun(rerun)}`;
        expect(rerun.code, context).toBe(0);
        const violations = [...syncedViolations(r, tips, everOnTasks, before), ...followedViolations(r)];
        expect(violations, `${context}\nviolations:\n- ${violations.join("\n- ")}`).toEqual([]);
        // Checked last, so a kill-specific failure shows first: the ignored file of a task worktree.
        const lost = notesViolations(r, killed.stdout + killed.stderr + rerun.stdout + rerun.stderr);
        expect(lost, `${context}\nviolations:\n- ${lost.join("\n- ")}`).toEqual([]);
      });
    }
  });
}
