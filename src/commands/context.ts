import type { CommandSpec, Values } from "../core/command-spec.js";
import { renderContext } from "../context/context.js";
import { ExitCode } from "../core/errors.js";
import type { Io } from "../core/io.js";
import { helperPath } from "../self.js";

export const spec: CommandSpec = {
  name: "context",
  synopsis: [],
  summary: ["Print what /parallel needs to know about this repository."],
  inline: true,
  details: ["The repository, its branch and worktrees, existing plans, the roles it defines, the plan format and this helper's path. It never fails: a problem is reported in its output."],
  options: [],
  positionals: 0,
  ignoresArguments: true,
  exits: [ExitCode.ok],
};

export async function run(_values: Values, _positionals: string[], io: Io): Promise<ExitCode> {
  // Never fails: its output is spliced into /parallel by a `!` line.
  io.stdout(await renderContext({ cwd: io.cwd, helperPath: helperPath(), nodeVersion: process.version }));
  return ExitCode.ok;
}
