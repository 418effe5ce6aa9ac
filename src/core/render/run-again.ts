import type { RunMode } from "../state/state-schema.js";
import { quote } from "../text/shell.js";

/**
 * The command that continues a run in the mode it was started in: a plain `run <slug>` after
 * `run --pr` or `--no-finish` would merge into base. Without a recorded mode (a state older than
 * it), the plain command. Pure.
 */
export function runAgainCommand(slug: string, mode: RunMode | undefined): string {
  const flags = [mode?.rolling && "--rolling", mode?.finish === "pr" && "--pr", mode?.finish === "pr" && mode.noWatch && "--no-watch", mode?.finish === "none" && "--no-finish"].filter(
    (f): f is string => typeof f === "string",
  );
  return [`claude-parallel run ${quote(slug)}`, ...flags].join(" ");
}
