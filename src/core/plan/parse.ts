import { InputError } from "../errors.js";
import { buildExecutionPlan, type ExecutionPlan, type RepoFacts } from "./build.js";
import { loadYamlFast } from "./fast-yaml.js";
import type { LoadedPlan } from "./load.js";
import { checkPlan } from "./check.js";
import { MAX_PLAN_BYTES, planTooLarge } from "./size-limit.js";

/**
 * Parses and validates plan text, like `parsePlan` (src/core/plan/load.ts) but fast for a plan that is
 * valid: js-yaml reads it and the schema's rules are checked without zod (src/core/plan/check.ts). A
 * plan js-yaml declines, or one the fast check does not pass, is read again by `parsePlan`, whose
 * errors name `file:line:col`. The plan returned has no source positions until `withPositions`
 * is called (see `buildPlan`).
 */
export async function parsePlanText(text: string, file: string): Promise<LoadedPlan> {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_PLAN_BYTES) throw planTooLarge(bytes, file);
  const data = loadYamlFast(text);
  if (data !== undefined) {
    const plan = checkPlan(data);
    if (plan !== undefined) return { plan, source: { file, locate: () => file }, withPositions: async () => (await import("./load.js")).parsePlan(text, file) };
  }
  return (await import("./load.js")).parsePlan(text, file);
}

/**
 * `buildExecutionPlan`, with source positions in its errors: building is pure, so a plan read
 * without positions that turns out to be wrong is read again with them and built again, which
 * throws the same problems, now with their `file:line:col`.
 */
export async function buildPlan(loaded: LoadedPlan, facts: RepoFacts): Promise<ExecutionPlan> {
  try {
    return buildExecutionPlan(loaded, facts);
  } catch (error) {
    if (!(error instanceof InputError) || loaded.withPositions === undefined) throw error;
    return buildExecutionPlan(await loaded.withPositions(), facts);
  }
}
