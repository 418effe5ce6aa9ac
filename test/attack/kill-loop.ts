import { describe, expect, it } from "vitest";
import { ATTACK_SEED, describeRun, prng, runAsync, type AsyncResult, type KillPlan } from "../helpers/attack.js";
import { reusableFolder } from "../helpers/fixture.js";

/** A command the kill loop kills, and how to tell that one re-run brought it to the right end. */
export interface KillTarget<T extends { repo: string; tmp: string }> {
  /** The command line, run in `repo` (killed, then once again whole). */
  args: string[];
  /** Seeds of this target: ATTACK_SEED + offset + 1000 x file, so no two targets' seeds meet. */
  seedOffset: number;
  /** The repository in the state the command starts from, built inside `folder` once per file and restored by copy for each case. */
  build: (folder: string) => T;
  /** Extra variables for both runs (a fake claude on PATH, say). */
  env?: (fixture: T) => NodeJS.ProcessEnv;
  /** The command's named crash points (CLAUDE_PARALLEL_CRASH_AT). */
  steps: string[];
  /** Moments seen on disk: a path that appears (or, `gone`, disappears) as the command works. */
  milestones: Array<{ label: string; path: (fixture: T) => string; gone?: boolean }>;
  /** What is wrong after the runs (none for a run that reached the right end); `output`: the runs' output. */
  violations: (fixture: T, output: string) => string[];
  /** Whether a run's output says it reached the end: then it must have, before any re-run (nothing reported done that is not). */
  claimsDone?: (output: string) => boolean;
}

/**
 * `claude-parallel <args>` killed (SIGKILL to its whole process group: the helper and the git,
 * cp and verify processes it runs) at a seeded random moment: one of its crash points, a random
 * number of output bytes, a milestone on disk, or a random delay within a reference run's
 * duration. One re-run must exit 0 and leave what an uninterrupted run leaves (`violations`).
 * The reference run is checked the same way. Seeds are printed; ATTACK_SEED replays them.
 */
export function killLoop<T extends { repo: string; tmp: string }>(target: KillTarget<T>, file: number, runs: number): void {
  const seed = ATTACK_SEED + target.seedOffset + 1000 * file;
  const name = target.args.join(" ");
  describe(`${name} killed at random moments (seed ${seed}, file ${file}; replay with ATTACK_SEED=${ATTACK_SEED})`, () => {
    const fresh = reusableFolder(target.build);
    let reference: { ms: number; bytes: number } | undefined;
    const run = (f: T, kill?: KillPlan, step?: string) =>
      runAsync(target.args, { cwd: f.repo, env: { TMPDIR: f.tmp, ...target.env?.(f), ...(step !== undefined && { CLAUDE_PARALLEL_CRASH_AT: step }) }, kill });
    const check = (f: T, last: AsyncResult, context: string, output: string) => {
      expect(last.code, context).toBe(0);
      const found = target.violations(f, output);
      expect(found, `${context}\nviolations:\n- ${found.join("\n- ")}`).toEqual([]);
    };
    const measure = async () => {
      if (reference) return reference;
      const f = fresh();
      const t0 = Date.now();
      const whole = await run(f);
      reference = { ms: Date.now() - t0, bytes: whole.stdout.length + whole.stderr.length };
      // The scenario itself is sound: an uninterrupted run reaches the end the invariants describe.
      check(f, whole, `reference run: ${describeRun(whole)}`, whole.stdout + whole.stderr);
      return reference;
    };

    it(`an uninterrupted ${name} satisfies the invariants (reference run)`, async () => {
      await measure();
    });

    for (let i = 0; i < runs; i++) {
      const rng = prng(seed + i);
      const pick = rng();
      const fraction = rng();
      const mode = pick < 0.25 ? "step" : pick < 0.45 ? "bytes" : pick < 0.7 ? "milestone" : "delay";
      const step = target.steps[Math.floor(fraction * target.steps.length)]!;
      const milestone = target.milestones[Math.floor(fraction * target.milestones.length)]!;
      const how =
        mode === "step"
          ? `at its crash point ${step}`
          : mode === "milestone"
            ? `as soon as ${milestone.label} ${milestone.gone ? "is gone" : "appears"}`
            : `after a share of its ${mode === "bytes" ? "output" : "run time"} (${fraction.toFixed(3)})`;
      it(`seed ${seed + i} (case ${i}): killed ${how}, then re-run`, async () => {
        const ref = await measure();
        const f = fresh();
        const kill: KillPlan | undefined =
          mode === "milestone"
            ? milestone.gone
              ? { whenGone: milestone.path(f) }
              : { whenExists: milestone.path(f) }
            : mode === "bytes"
              ? { afterBytes: Math.floor(fraction * ref.bytes) }
              : mode === "delay"
                ? { afterMs: Math.floor(fraction * ref.ms * 1.1) }
                : undefined;
        const killed = await run(f, kill, mode === "step" ? step : undefined);
        if (target.claimsDone?.(killed.stdout)) check(f, { ...killed, code: 0 }, `seed ${seed + i} case ${i}: the killed run said it was done: ${describeRun(killed)}`, killed.stdout + killed.stderr);
        const rerun = await run(f);
        const context = `seed ${seed + i} case ${i}, ${how} ${JSON.stringify(kill ?? {})} (${killed.killed ? "killed" : "finished first"}: exit ${killed.code})\nkilled run: ${describeRun(killed)}\nre-run: ${describeRun(rerun)}`;
        check(f, rerun, context, killed.stdout + killed.stderr + rerun.stdout + rerun.stderr);
      });
    }
  });
}
