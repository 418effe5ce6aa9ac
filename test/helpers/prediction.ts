import { execFileSync, spawnSync } from "node:child_process";
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
 *
 * The scenarios' branches are set-up, not what is checked: each file writes all of them at once
 * with one `git fast-import` (the same commits a checkout, edit and `git commit` per branch would
 * make). What is checked runs per scenario: the prediction, and the real `git merge` of each
 * branch in turn in the one checkout.
 */
export const SCENARIOS = 200;
export const SCENARIOS_PER_FILE = 50;

const SHARED = ["shared/a.txt", "shared/b.txt", "shared/c.txt"];
const lines = (name: string) => Array.from({ length: 12 }, (_, i) => `${name} line ${i}`).join("\n") + "\n";

/** A small deterministic PRNG, so a failing scenario can be replayed. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s ^ (s >>> 15), 2246822507) + 0x9e3779b9) >>> 0) / 2 ** 32;
}

/** One task branch of a scenario: the files it writes (whole content) and deletes, from the base. */
interface Branch {
  id: string;
  write: Record<string, string>;
  remove: string[];
}

/** Scenario `scenario` (from seed scenario + 1): 2 to 6 branches, each editing a few lines of shared files, sometimes deleting or adding whole files. */
export function scenarioBranches(scenario: number): Branch[] {
  const rand = prng(scenario + 1);
  const n = 2 + Math.floor(rand() * 5);
  return Array.from({ length: n }, (_, k) => {
    const id = `t${k}`;
    const branch: Branch = { id, write: {}, remove: [] };
    for (const file of SHARED) {
      if (rand() < 0.65) continue;
      const content = lines(file).split("\n");
      const edits = 1 + Math.floor(rand() * 2);
      for (let e = 0; e < edits; e++) content[Math.floor(rand() * 12)] = `${id} edit ${Math.floor(rand() * 3)}`;
      if (rand() < 0.1) branch.remove.push(file);
      else branch.write[file] = content.join("\n");
    }
    branch.write[`own-${id}.txt`] = `${id}\n`;
    if (rand() < 0.2) branch.write["added.txt"] = `${id} ${Math.floor(rand() * 2)}\n`;
    return branch;
  });
}

const taskBranch = (scenario: number, id: string) => `feature/s${scenario}-${id}`;

/** A `git fast-import` stream: each scenario's task branches as one commit on `base`, and its integration branch at `base`. */
function importStream(scenarios: number[], base: string): string {
  const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const out: string[] = [];
  for (const scenario of scenarios) {
    for (const b of scenarioBranches(scenario)) {
      out.push(`commit refs/heads/${taskBranch(scenario, b.id)}\n`, "committer Test <test@example.invalid> 1700000000 +0000\n", data(b.id), `from ${base}\n`);
      for (const file of b.remove) out.push(`D ${file}\n`);
      for (const [file, text] of Object.entries(b.write)) out.push(`M 100644 inline ${file}\n`, data(text));
      out.push("\n");
    }
    out.push(`reset refs/heads/feature/s${scenario}\nfrom ${base}\n\n`);
  }
  return out.join("");
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
      execFileSync("git", ["fast-import", "--quiet"], { cwd: repo, env: gitEnv, input: importStream(numbers, base), stdio: ["pipe", "ignore", "pipe"] });
      // Merges run on a detached HEAD, so a `reset --hard` per scenario puts it back on the base.
      git(repo, "switch", "-q", "--detach", base);
    });

    it.each(numbers)("scenario %i (seed = number + 1)", async (scenario) => {
      // Also clears a merge or edits a scenario that failed half-way may have left behind.
      git(repo, "reset", "-q", "--hard", base);
      const ids = scenarioBranches(scenario).map((b) => b.id);

      // What we predict.
      const plan = executionPlan({ integrationBranch: `feature/s${scenario}`, maxParallel: 6, tasks: ids.map((id) => ({ id, title: id })) }, { repoName: "predict" });
      const phase = plan.phases[0]!;
      expect(phase.tasks.map((t) => t.id)).toEqual(ids);
      expect(phase.tasks.map((t) => t.branch)).toEqual(ids.map((id) => taskBranch(scenario, id)));
      const predicted = await preflight({ root: repo, commonDir: join(repo, ".git") }, plan, phase, {
        slug: `s${scenario}`,
        startCommit: base,
        worktrees: {},
        allowOutsideOwns: true,
      });

      // What git does: merge each branch in turn; a conflicting one is aborted and skipped.
      const real: Array<{ task: string; files: string[] }> = [];
      for (const id of ids) {
        const r = spawnSync("git", ["merge", "--no-ff", "-q", "-m", id, taskBranch(scenario, id)], { cwd: repo, env: gitEnv, encoding: "utf8" });
        if (r.status !== 0) {
          const files = git(repo, "diff", "--name-only", "--diff-filter=U").split("\n").filter(Boolean);
          real.push({ task: id, files: files.sort() });
          git(repo, "merge", "--abort");
        }
      }
      const label = `scenario ${scenario} (${ids.length} branches)`;
      expect(
        predicted.conflicts.map((c) => ({ task: c.task, files: [...c.files].sort() })),
        label,
      ).toEqual(real);
      expect(predicted.problems, label).toEqual([]);
      const predictedTip = predicted.chain.length ? predicted.chain[predicted.chain.length - 1]!.commit : base;
      const [predictedTree, realTree] = git(repo, "rev-parse", `${predictedTip}^{tree}`, "HEAD^{tree}").split("\n");
      expect(predictedTree, label).toBe(realTree);
      if (real.length) conflicted++;
      ran++;
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
