import { applyFinish, gatherFinish, placeOf } from "../finish/finish-steps.js";
import { decided } from "../core/errors.js";
import { openFeature, type FeatureContext } from "../state-ref/open-feature.js";
import { decideFinish } from "../core/decide/decide-finish.js";

/**
 * The final merge into base as `finish` makes it: gatherFinish, decideFinish (a refusal is thrown:
 * nothing changed), applyFinish; decided again, from the feature read again, after base's
 * checkout was set back (the decider said so). Returns the feature as the finish left it.
 */
export async function finishForRun(context: FeatureContext, cwd: string, say: (line: string) => void): Promise<FeatureContext> {
  for (let repaired = false; ; repaired = true) {
    const actions = decided(decideFinish(await gatherFinish(context, { pr: false, repaired, now: new Date().toISOString(), cwd })));
    for await (const { said } of applyFinish(actions, placeOf(context))) if (said) say(said);
    // The finish is recorded in the feature's state as applyFinish holds it (placeOf).
    if (!actions.some((a) => a.kind === "set-back-checkout")) return context;
    context = await openFeature(context.feature.slug, cwd, { repo: context.repo });
  }
}

/**
 * `finish --pr` for run: the integration branch pushed and its pull request opened with gh, or,
 * when gh is not ready, the commands that do printed. Returns whether the pull request is open.
 */
export async function pullRequestForRun(context: FeatureContext, cwd: string, say: (line: string) => void): Promise<boolean> {
  const actions = decided(decideFinish(await gatherFinish(context, { pr: true, repaired: false, now: new Date().toISOString(), cwd })));
  for await (const { said } of applyFinish(actions, placeOf(context))) if (said) say(said);
  return !actions.some((a) => a.kind === "print-pull-request-commands");
}
