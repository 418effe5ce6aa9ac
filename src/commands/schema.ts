import type { CommandSpec, Values } from "../core/command-spec.js";
import { ExitCode } from "../core/errors.js";
import type { Io } from "../core/io.js";
import { planJsonSchema } from "../core/plan/schema.js";

export const spec: CommandSpec = {
  name: "schema",
  synopsis: [],
  summary: ["Print the JSON Schema of plan files."],
  inline: true,
  details: ["For editors (`# yaml-language-server: $schema=...`) and for checking plans with other tools."],
  options: [],
  positionals: 0,
  exits: [ExitCode.ok, ExitCode.invalidInput],
};

export async function run(_values: Values, _positionals: string[], io: Io): Promise<ExitCode> {
  io.stdout(JSON.stringify(planJsonSchema(), null, 2) + "\n");
  return ExitCode.ok;
}
