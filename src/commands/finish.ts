import { decided, ExitCode } from "../core/errors.js";
import { acquireFeatureLock } from "../feature/lock.js";
import { openFeature } from "../state-ref/open-feature.js";
import { decideFinish, describeFinishAction } from "../core/decide/decide-finish.js";
import { dryRunText } from "../core/render/dry-run.js";
import { quote } from "../core/text/shell.js";
import type { Io } from "../core/io.js";
import type { CommandSpec, Values } from "../core/command-spec.js";
import { applyFinish, gatherFinish, placeOf } from "../finish/finish-steps.js";

export const spec: CommandSpec = {
  name: "finish",
  synopsis: ["[slug] [--pr] [--dry-run]"],
  summary: ["After the last phase: merge the integration branch into base (or, with --pr, push it", "and open a pull request into base with gh)."],
  details: [
    "Refuses until every phase is synced. The merge is a real `git merge --no-ff` where base is checked out in a clean worktree (undone exactly if git fails), an in-memory merge published with a compare-and-swap where it is not checked out, never into a dirty checkout; conflicts are found before anything is touched.",
    "With --pr nothing is merged locally: the integration branch is pushed to base's upstream remote (or origin; exit 4 if there is neither), then, when gh is installed and logged in, `gh pr create` opens the pull request with a description of the phases, tasks and syncs, and its URL is printed; otherwise the push and gh commands are printed for you to run. Run again, it finds the branch's pull request in any state first: open, it pushes new commits to it; merged with the branch as it is, it says so and does nothing (exit 0); closed without being merged, it refuses (exit 4) and says how to reopen it or open a new one.",
  ],
  options: [
    { name: "pr", type: "boolean", text: "Push the integration branch and open a pull request into base instead of merging." },
    { name: "dry-run", type: "boolean", text: "Print what it would do and change nothing." },
  ],
  positionals: 1,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  return finishCommand({ slug: positionals[0], pr: values.pr === true, dryRun: values["dry-run"] === true }, io);
}

interface FinishOptions {
  slug?: string;
  pr: boolean;
  dryRun?: boolean;
}

/**
 * `claude-parallel finish [slug] [--pr] [--dry-run]`: merges the integration branch into base once
 * every phase is synced. A real `git merge --no-ff` where base is checked out in a clean worktree
 * (undone exactly if git fails), an in-memory merge published with a compare-and-swap where it is
 * not checked out, and never into a dirty checkout. Conflicts are found before anything is
 * touched. With --pr it pushes the integration branch and opens a pull request instead
 * (finish-pr.ts). Gathered, decided (src/core/decide/decide-finish.ts), then applied.
 */
async function finishCommand(options: FinishOptions, io: Io): Promise<ExitCode> {
  const say = (line: string) => io.stdout(line + "\n");
  const first = await openFeature(options.slug, io.cwd);
  if (options.dryRun) {
    const facts = await gatherFinish(first, { pr: options.pr, repaired: false, now: new Date().toISOString(), cwd: io.cwd });
    io.stdout(dryRunText(`finish ${first.feature.slug}${options.pr ? " --pr" : ""}`, decided(decideFinish(facts)), (a) => describeFinishAction(a, facts)));
    return ExitCode.ok;
  }
  const release = await acquireFeatureLock(first.repo.commonDir, first.feature.slug, "finish");
  try {
    // Read again under the lock; and once more after base's checkout was set back (the decider said so).
    for (let repaired = false; ; repaired = true) {
      const context = await openFeature(first.feature.slug, io.cwd, { repo: first.repo });
      const actions = decided(decideFinish(await gatherFinish(context, { pr: options.pr, repaired, now: new Date().toISOString(), cwd: io.cwd })));
      for await (const { said } of applyFinish(actions, placeOf(context))) if (said) say(said);
      if (actions.some((a) => a.kind === "set-back-checkout")) continue;
      const slug = quote(context.feature.slug);
      if (actions.some((a) => a.kind === "merge-in-checkout" || a.kind === "merge-in-memory"))
        say(`When you no longer need them: claude-parallel clean ${slug} removes the feature's worktrees, branches and state.`);
      if (actions.some((a) => a.kind === "open-pull-request" || a.kind === "print-pull-request-commands"))
        say(`When it is merged: claude-parallel clean ${slug} removes the feature's worktrees, branches and state.`);
      return ExitCode.ok;
    }
  } finally {
    await release();
  }
}
