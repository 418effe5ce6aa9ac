import { singleLine } from "../text/single-line.js";

/**
 * What `--dry-run` of every writing command prints: the actions its decider chose, in order, one
 * line each (`describe` says what an action does). A line break in a name is shown escaped, so
 * one action stays one line; terminal controls are escaped where all output leaves (src/cli.ts).
 * Pure.
 */
export function dryRunText<Action>(command: string, actions: readonly Action[], describe: (action: Action) => string): string {
  const lines = [`Dry run of claude-parallel ${singleLine(command)}: nothing is changed. It would:`, ...actions.map((a) => `  ${singleLine(describe(a))}`)];
  return lines.join("\n") + "\n";
}
