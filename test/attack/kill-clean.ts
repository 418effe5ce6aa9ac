import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { runHelper } from "../helpers/cli.js";
import { worktreeList } from "../helpers/attack.js";
import { killLoop } from "./kill-loop.js";
import { featureRefs, PHASE1, SLUG, syncedAttackRepo, untouchedViolations, type AttackRepo } from "./scenarios.js";

const TASKS = [...PHASE1, "c"];

/** What is left of the feature: its worktrees' folders and registrations, its refs, its state. */
function leftOfFeature(r: AttackRepo): string[] {
  const v: string[] = [];
  for (const id of TASKS) if (existsSync(r.wt(id))) v.push(`the worktree folder of ${id} is still there`);
  const registered = worktreeList(r.repo)
    .map((w) => w.path)
    .filter((p) => p !== r.repo && p !== r.foreign);
  if (registered.length) v.push(`worktrees still registered: ${registered.join(", ")}`);
  const refs = featureRefs(r.repo);
  if (refs.length) v.push(`refs of the feature still there: ${refs.join(", ")}`);
  const parallel = join(r.repo, ".git/parallel");
  const state = readdirSync(parallel).filter((n) => n === SLUG || n.includes(`.${SLUG}.`));
  if (state.length) v.push(`its state is still there: ${state.join(", ")}`);
  if (!existsSync(join(parallel, ".finished", `${SLUG}.json`))) v.push("the mark that it was finished and cleaned is missing");
  return v;
}

/**
 * `clean` of a finished feature whose four task worktrees (with their dependencies), five
 * branches, backup refs and state remain, killed at random moments. One re-run must leave
 * nothing of the feature, the user's things untouched and every commit reachable; and a run that
 * says "Cleaned" must be right when it says it (checked before the re-run too).
 */
export function killCleanSuite(file: number, runs: number): void {
  killLoop(
    {
      args: ["clean"],
      seedOffset: 30_000,
      build: (folder) => {
        const r = syncedAttackRepo(`kcl${file}`, folder);
        const finished = runHelper(["finish"], { cwd: r.repo, env: { TMPDIR: r.tmp } });
        if (finished.code !== 0) throw new Error(`finish failed: ${finished.stdout}${finished.stderr}`);
        return r;
      },
      steps: ["clean-after-worktrees", "clean-after-refs", "clean-before-forget"],
      milestones: [
        { label: "the clean lock", path: (r) => join(r.repo, ".git/parallel/.locks/demo.lock") },
        { label: "a's .git file", path: (r) => join(r.wt("a"), ".git"), gone: true },
        { label: "b's node_modules/pkg-7", path: (r) => join(r.wt("b"), "node_modules/pkg-7"), gone: true },
        { label: "d's worktree", path: (r) => r.wt("d"), gone: true },
        { label: "the state file", path: (r) => join(r.repo, ".git/parallel/demo/state.json"), gone: true },
        { label: "the finished mark", path: (r) => join(r.repo, ".git/parallel/.finished/demo.json") },
      ],
      claimsDone: (output) => output.includes(`Cleaned ${SLUG}.`),
      violations: (r, output) => {
        const v = [...leftOfFeature(r), ...untouchedViolations(r, r.everOnTasks, r.before)];
        if (!output.includes(`Cleaned ${SLUG}.`) && !output.includes("is already cleaned up")) v.push("no run said the feature is cleaned");
        return v;
      },
    },
    file,
    runs,
  );
}
