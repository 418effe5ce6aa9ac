import { decided } from "../core/errors.js";
import type { FeatureContext } from "../state-ref/open-feature.js";
import type { FeatureState } from "../core/state/state-schema.js";
import { applyStart, type StartOutput } from "./apply-start.js";
import { decideStart, type StartChoices } from "../core/decide/decide-start.js";
import { gatherStart } from "./gather-start.js";

/**
 * Starts phase `phase` (default: the first not synced), or finishes its interrupted start: gather,
 * decide (a refusal is thrown: nothing changed), apply. The caller holds the feature's lock.
 * Returns the feature's state as the start left it.
 */
export async function startPhase(context: FeatureContext, phase: number | undefined, choices: StartChoices, out: StartOutput): Promise<FeatureState | undefined> {
  const actions = decided(decideStart(await gatherStart(context, phase, choices)));
  return applyStart(context, actions, out);
}
