import { decided, ExitCode, RefusedError } from "../core/errors.js";
import { withLockedFeature, type FeatureContext } from "../state-ref/open-feature.js";
import { dryRunText } from "../core/render/dry-run.js";
import { applySync, verifyFailedLines, type PhaseStarter } from "../sync/apply-sync.js";
import { decideSync, describeSyncAction, reviewRefusals, type SyncChoices } from "../core/decide/decide-sync.js";
import { gatherSync } from "../sync/gather-sync.js";
import { startPhase } from "../start/start-phase.js";
import type { Io } from "../core/io.js";
import { phaseOption, str } from "../core/command-args.js";
import type { CommandSpec, Values } from "../core/command-spec.js";

export const spec: CommandSpec = {
  name: "sync",
  synopsis: ["[slug] [--phase N] [--dry-run] [--no-verify] [--verify CMD]", "[--keep-worktrees] [--no-next] [--allow-outside-owns] [--no-review]"],
  summary: ["Check the phase's branches, predict conflicts, merge them in order into the", "integration branch, verify the result, publish it, and start the next phase."],
  details: [
    "The preflight changes nothing: clean worktrees, a commit on every branch, only owned files changed, each task's verify passing, and the merges done in memory to find conflicts. Then the plan's verify runs on the merged result (exit 5 and nothing published if it fails), the result is published with a compare-and-swap, the branches are backed up under refs/parallel/, and the phase's worktrees are removed when clean and merged. Safe to run again after an interruption.",
  ],
  options: [
    { name: "phase", type: "string", value: "N", text: "Sync phase N (default: the phase in progress)." },
    { name: "dry-run", type: "boolean", text: "Run the preflight only and change nothing." },
    { name: "no-verify", type: "boolean", text: "Skip the verify commands (the tasks' and the merged result's)." },
    { name: "verify", type: "string", value: "CMD", text: "Verify the merged result with CMD instead of the plan's verify." },
    { name: "keep-worktrees", type: "boolean", text: "Keep the phase's worktrees after the merge." },
    { name: "no-next", type: "boolean", text: "Do not start the next phase." },
    { name: "allow-outside-owns", type: "boolean", text: "Merge branches that changed files outside their task's owned paths." },
    { name: "no-review", type: "boolean", text: "Publish without the reviewer the plan's `review:` asks for (docs/review.md)." },
  ],
  positionals: 1,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused, ExitCode.verifyFailed],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  return syncCommand(
    {
      slug: positionals[0],
      phase: phaseOption(values),
      dryRun: values["dry-run"] === true,
      verify: values["no-verify"] !== true,
      verifyCommand: str(values.verify),
      keepWorktrees: values["keep-worktrees"] === true,
      next: values["no-next"] !== true,
      allowOutsideOwns: values["allow-outside-owns"] === true,
      noReview: values["no-review"] === true,
    },
    io,
  );
}

interface SyncOptions extends SyncChoices {
  slug?: string;
  phase?: number;
  dryRun: boolean;
}

/**
 * `claude-parallel sync`: gathers the facts (src/sync/gather-sync.ts), decides (decideSync), and
 * applies the actions under the feature's lock; a dry run prints them. Refusals go to stderr
 * (exit 4, nothing changed); a merged result failing verify publishes nothing (exit 5).
 */
export async function syncCommand(options: SyncOptions, io: Io): Promise<ExitCode> {
  const { slug, phase, dryRun, ...choices } = options;
  return withLockedFeature(
    slug,
    io.cwd,
    "sync",
    async (context) => {
      const facts = await gatherSync(context, phase, choices, (note) => io.stderr(`claude-parallel: ${note}\n`));
      const actions = decided(decideSync(facts));
      if (dryRun) {
        io.stdout(dryRunText("sync", actions, describeSyncAction));
        return ExitCode.ok;
      }
      const say = (line = "") => io.stdout(line + "\n");
      const outcome = await applySync(context, actions, { cwd: io.cwd, say, log: (line) => io.stderr(line + "\n"), startPhase: phaseStarter(context, io) });
      if (outcome.kind === "done") return ExitCode.ok;
      if (outcome.kind === "not-approved") throw new RefusedError(reviewRefusals(outcome.decision, context.feature.slug));
      for (const line of verifyFailedLines(outcome, context.feature.plan.integrationBranch)) say(line);
      return ExitCode.verifyFailed;
    },
    { dryRun },
  );
}

/** Starts a phase (or finishes its interrupted start) as `start` does, with the launch settings the synced phase recorded. */
function phaseStarter(context: FeatureContext, io: Io): PhaseStarter {
  return async (a, state, dependencySources) => {
    const out = { say: (line = "") => io.stdout(line + "\n"), log: (line: string) => io.stderr(line + "\n") };
    return (await startPhase({ ...context, feature: { ...context.feature, state } }, a.phase, { ...a.settings, deps: "auto", dependencySources }, out))!;
  };
}
