import { InputError } from "./errors.js";
import { didYouMean } from "./text/suggest.js";
import type { Values } from "./command-spec.js";

// The checks a command's handler runs on its option values: each bad value is a usage error (exit 2).

export const str = (v: Values[string]) => (typeof v === "string" ? v : undefined);
/** A repeatable option's values (none when absent). */
export const strs = (v: Values[string]): string[] => (Array.isArray(v) ? v : typeof v === "string" ? [v] : []);

export function usageError(message: string, fix = "run `claude-parallel --help` for usage"): InputError {
  return new InputError({ where: "", message, fix });
}

export function oneOf<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw usageError(`${option} must be one of ${allowed.join(", ")}, not \`${value}\`${didYouMean(value, allowed)}`);
}

export function count(option: string, value: string): number {
  if (!/^[1-9][0-9]{0,3}$/.test(value)) throw usageError(`${option} takes a whole number (1, 2, ...), not \`${value}\``);
  return Number(value);
}

export function dollars(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value) || Number(value) <= 0) throw usageError(`${option} takes an amount in dollars (0.5, 10), not \`${value}\``);
  return Number(value);
}

/** The feature's task named on the command line; an unknown name is an input error naming the tasks there are. */
export function namedTask<T extends { id: string }>(slug: string, tasks: readonly T[], id: string): T {
  const task = tasks.find((t) => t.id === id);
  if (task) return task;
  const ids = tasks.map((t) => t.id);
  throw new InputError({ where: id, message: `${slug} has no task \`${id}\`${didYouMean(id, ids)}`, fix: `name one of: ${ids.join(", ")}` });
}

/** `--phase N`, when given. */
export function phaseOption(values: Values): number | undefined {
  return values.phase === undefined ? undefined : phaseNumber(str(values.phase)!);
}

export function phaseNumber(value: string): number {
  if (!/^[1-9][0-9]{0,3}$/.test(value)) throw usageError(`--phase takes a phase number (1, 2, ...), not \`${value}\``);
  return Number(value);
}
