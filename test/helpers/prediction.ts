import { spawnSync } from "node:child_process";
import { writeFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { preflight } from "../../src/sync/preflight.js";
import { git, gitEnv, makeRepo } from "./git.js";
import { executionPlan } from "./plans.js";

/**
 * Conflict prediction checked against a real sequential `git merge` on 200 generated scenarios,
 * split into files of SCENARIOS_PER_FILE (test/integration/prediction-*.test.ts) so that no file
 * runs long on a slow machine; vitest runs the files in parallel. Scenario `n` is generated from
 * seed `n + 1` whatever file runs it: replay one with `npx vitest run prediction -t "scenario n "`.
 */
export const SCENARIOS = 200;
export const SCENARIOS_PER_FILE = 50;

const SHARED = ["shared/a.txt", "shared/b.txt", "shared/c.txt"];
const lines = (name: string) => Array.from({ length: 12 }, (_, i) => `${name} line ${i}`).join("\n") + "\n";

/** A small deterministic PRNG, so a failing scenario can be replayed. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 2246822507) + 0x9e3779b9) >>> 0) / 2 ** 32);
}

/** Scenarios `part * SCENARIOS_PER_FILE` to the next part's first, each a test of its own, in one repository. */
export function predictionScenarios(part: number): void {
  const first = part * SCENARIOS_PER_FILE;
  const numbers = Array.from({ length: SCENARIOS_PER_FILE }, (_, k) => first + k);
  describe(`conflict prediction matches a real sequential git merge: scenarios ${first}-${first + SCENARIOS_PER_FILE - 1} of ${SCENARIOS}`, () => {
    let repo = "";
    let base = "";
    let conflicted = 0;
    let ran = 0;
    beforeAll(() => {
      repo = makeRepo({ name: "predict", files: Object.fromEntries([...SHARED, "README.md"].map((f) => [f, lines(f)])) });
      base = git(repo, "rev-parse", "HEAD");
    });

    it.each(numbers)("scenario %i (seed = number + 1)", async (scenario) => {
      // A scenario that failed half-way may have left a merge or a branch behind.
      git(repo, "reset", "-q", "--hard");
      git(repo, "switch", "-q", "--detach", base);
      const rand = prng(scenario + 1);
      const n = 2 + Math.floor(rand() * 5);
      const ids = Array.from({ length: n }, (_, k) => `t${k}`);
      // Each branch: edit a few lines of shared files, sometimes delete or add whole files.
      for (const id of ids) {
        git(repo, "switch", "-q", "-C", `feature/s${scenario}-${id}`, base);
        for (const file of SHARED) {
          if (rand() < 0.65) continue;
          const content = lines(file).split("\n");
          const edits = 1 + Math.floor(rand() * 2);
          for (let e = 0; e < edits; e++) content[Math.floor(rand() * 12)] = `${id} edit ${Math.floor(rand() * 3)}`;
          if (rand() < 0.1) unlinkSync(join(repo, file));
          else writeFileSync(join(repo, file), content.join("\n"));
        }
        writeFileSync(join(repo, `own-${id}.txt`), `${id}\n`);
        if (rand() < 0.2) writeFileSync(join(repo, "added.txt"), `${id} ${Math.floor(rand() * 2)}\n`);
        git(repo, "add", "-A");
        git(repo, "commit", "-q", "-m", id);
      }
      git(repo, "switch", "-q", "-C", `feature/s${scenario}`, base);

      // What we predict.
      const plan = executionPlan(
        { integrationBranch: `feature/s${scenario}`, maxParallel: 6, tasks: ids.map((id) => ({ id, title: id })) },
        { repoName: "predict" },
      );
      const phase = plan.phases[0]!;
      expect(phase.tasks.map((t) => t.id)).toEqual(ids);
      const predicted = await preflight({ root: repo, commonDir: join(repo, ".git") }, plan, phase, {
        slug: `s${scenario}`,
        startCommit: base,
        worktrees: {},
        allowOutsideOwns: true,
        runVerify: false,
      });

      // What git does: merge each branch in turn; a conflicting one is aborted and skipped.
      const real: Array<{ task: string; files: string[] }> = [];
      for (const id of ids) {
        const r = spawnSync("git", ["merge", "--no-ff", "-q", "-m", id, `feature/s${scenario}-${id}`], { cwd: repo, env: gitEnv, encoding: "utf8" });
        if (r.status !== 0) {
          const files = git(repo, "diff", "--name-only", "--diff-filter=U").split("\n").filter(Boolean);
          real.push({ task: id, files: files.sort() });
          git(repo, "merge", "--abort");
        }
      }
      const label = `scenario ${scenario} (${n} branches)`;
      expect(predicted.conflicts.map((c) => ({ task: c.task, files: [...c.files].sort() })), label).toEqual(real);
      expect(predicted.problems, label).toEqual([]);
      const predictedTree = git(repo, "rev-parse", `${predicted.chain.length ? predicted.chain[predicted.chain.length - 1]!.commit : base}^{tree}`);
      expect(predictedTree, label).toBe(git(repo, "rev-parse", "HEAD^{tree}"));
      if (real.length) conflicted++;
      ran++;
      git(repo, "switch", "-q", "--detach", base);
    });

    // The generator makes both kinds of scenario in every part (checked once all of the part ran).
    afterAll(() => {
      if (ran < SCENARIOS_PER_FILE) return;
      console.log(`conflict prediction: ${conflicted} of scenarios ${first}-${first + SCENARIOS_PER_FILE - 1} had conflicts`);
      expect(conflicted).toBeGreaterThan(SCENARIOS_PER_FILE / 5);
      expect(conflicted).toBeLessThan((SCENARIOS_PER_FILE * 9) / 10);
    });
  });
}
