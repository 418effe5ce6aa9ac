import { InputError } from "../errors.js";

/** Plans are written by people and models; anything larger is a mistake, not a plan. */
export const MAX_PLAN_BYTES = 4 * 1024 * 1024;

export function planTooLarge(bytes: number, where: string): InputError {
  return new InputError({
    where,
    message: `the plan is ${(bytes / 1024 / 1024).toFixed(1)} MiB; a plan may be at most ${MAX_PLAN_BYTES / 1024 / 1024} MiB`,
    fix: "keep long instructions out of the plan: put them in files the tasks' prompts point to",
  });
}
