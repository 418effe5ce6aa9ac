import { describe, expect, it } from "vitest";
import { ATTACK_SEED, describeRun, prng, runAsync } from "../helpers/attack.js";
import { reusableFolder } from "../helpers/fixture.js";
import { join } from "node:path";
import { attackRepo, PHASE1, startedViolations, type AttackRepo } from "./scenarios.js";

const MILESTONES: Array<{ label: string; path: (r: AttackRepo) => string }> = [
  { label: "the state file", path: (r) => join(r.repo, ".git/parallel/demo/state.json") },
  { label: "the integration branch", path: (r) => join(r.repo, ".git/refs/heads/feature/demo") },
  { label: "b's worktree folder", path: (r) => r.wt("b") },
  { label: "b's worktree admin folder", path: (r) => join(r.repo, ".git/worktrees", `${r.wt("b").split("/").pop()}`) },
  { label: "d's checked-out README.md", path: (r) => join(r.wt("d"), "README.md") },
  { label: "a's brief", path: (r) => join(r.wt("a"), ".claude-parallel/brief.md") },
  { label: "a's node_modules folder", path: (r) => join(r.wt("a"), "node_modules") },
  // Inside the copy: the tree is copied under this name, then renamed into place.
  { label: "b's node_modules copy half made", path: (r) => join(r.wt("b"), ".node_modules.claude-parallel-partial/pkg-3") },
  { label: "d's node_modules marker", path: (r) => join(r.wt("d"), "node_modules/.package-lock.json") },
];

/**
 * `start` killed (SIGKILL to its whole process group: the helper and the git and cp it runs) at
 * a seeded random moment: after a random delay within a reference run's duration, or once a
 * random number of output bytes appeared. One re-run must exit 0 and leave every worktree valid,
 * clean, on its branch, with complete dependencies, and the user's things untouched. The
 * repository is built once per file and restored by copy for each case (test/helpers/fixture.ts).
 */
export function killStartSuite(file: number, runs: number): void {
  const seed = ATTACK_SEED + 1000 * file;
  describe(`start killed at random moments (seed ${seed}, file ${file}; replay with ATTACK_SEED=${ATTACK_SEED})`, () => {
    let reference: { ms: number; bytes: number } | undefined;
    const fresh = reusableFolder((folder) => {
      const r = attackRepo(`ks${file}`, { parent: folder });
      return { r, before: { main: r.mainSnapshot(), foreign: r.foreignSnapshot() } };
    });
    const measure = async () => {
      if (reference) return reference;
      const { r, before } = fresh();
      const t0 = Date.now();
      const run = await runAsync(["start"], { cwd: r.repo, env: { TMPDIR: r.tmp } });
      const ms = Date.now() - t0;
      // The scenario itself is sound: an uninterrupted start satisfies every invariant.
      expect(run.code, describeRun(run)).toBe(0);
      expect(startedViolations(r, PHASE1, before)).toEqual([]);
      reference = { ms, bytes: run.stdout.length + run.stderr.length };
      return reference;
    };

    it("an uninterrupted start satisfies the invariants (reference run)", async () => {
      await measure();
    });

    for (let i = 0; i < runs; i++) {
      const rng = prng(seed + i);
      const pick = rng();
      const fraction = rng();
      // A state-based moment: the first sign of one of start's steps on disk.
      const milestone = MILESTONES[Math.floor(fraction * MILESTONES.length)]!;
      const mode = pick < 0.25 ? "bytes" : pick < 0.6 ? "milestone" : "delay";
      const how =
        mode === "bytes"
          ? `after a share of its output (${fraction.toFixed(3)})`
          : mode === "milestone"
            ? `as soon as ${milestone.label} appears`
            : `after a share of its run time (${fraction.toFixed(3)})`;
      it(`seed ${seed + i} (case ${i}): killed ${how}, then re-run`, async () => {
        const ref = await measure();
        const { r, before } = fresh();
        const kill = mode === "bytes" ? { afterBytes: Math.floor(fraction * ref.bytes) } : mode === "milestone" ? { whenExists: milestone.path(r) } : { afterMs: Math.floor(fraction * ref.ms * 1.1) };
        const killed = await runAsync(["start"], { cwd: r.repo, env: { TMPDIR: r.tmp }, kill });
        const rerun = await runAsync(["start"], { cwd: r.repo, env: { TMPDIR: r.tmp } });
        const context = `seed ${seed + i} case ${i}, kill ${JSON.stringify(kill)} (${killed.killed ? "killed" : "finished first"}: exit ${killed.code})\nre-run: ${describeRun(rerun)}`;
        expect(rerun.code, context).toBe(0);
        const violations = startedViolations(r, PHASE1, before);
        expect(violations, `${context}\nviolations:\n- ${violations.join("\n- ")}`).toEqual([]);
      });
    }
  });
}
