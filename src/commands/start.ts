import { decided, ExitCode } from "../core/errors.js";
import { withLockedFeature } from "../state-ref/open-feature.js";
import { dryRunText } from "../core/render/dry-run.js";
import { applyStart } from "../start/apply-start.js";
import { decideStart, describeStartAction, type StartChoices } from "../core/decide/decide-start.js";
import { gatherStart } from "../start/gather-start.js";
import type { Io } from "../core/io.js";
import { oneOf, phaseOption, str } from "../core/command-args.js";
import type { CommandSpec, Values } from "../core/command-spec.js";

export const spec: CommandSpec = {
  name: "start",
  synopsis: ["[plan-or-slug] [--phase N] [--launch print|tmux|headless]", "[--deps auto|none] [--dry-run] [--permission-mode M] [--model M]"],
  summary: ["Create the phase's branches and worktrees from the integration branch, write each", "session's brief, copy .worktreeinclude files, prepare dependencies, start the sessions."],
  details: [
    "Without an argument it takes the feature that has started, or the only plan under .parallel/; the phase defaults to the first one not synced yet. The first start freezes the plan and creates the integration branch from base. Running it again finishes what is missing; it refuses (exit 4, nothing changed) when a path or branch stands in the way.",
  ],
  options: [
    { name: "phase", type: "string", value: "N", text: "Start phase N (default: the first phase not synced yet)." },
    { name: "launch", type: "string", value: "MODE", text: "print (default): print each session's command; tmux: one tmux window per session; headless: background `claude -p` sessions." },
    { name: "deps", type: "string", value: "auto|none", text: "auto (default): give each worktree installed dependencies (a copy or npm/pnpm/yarn install); none: leave them out." },
    { name: "dry-run", type: "boolean", text: "Say what it would do and change nothing." },
    { name: "permission-mode", type: "string", value: "M", text: "Passed to headless sessions (claude --permission-mode)." },
    { name: "model", type: "string", value: "M", text: "Passed to headless sessions (claude --model)." },
  ],
  positionals: 1,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  const launch = oneOf("--launch", str(values.launch) ?? "print", ["print", "tmux", "headless"] as const);
  const deps = oneOf("--deps", str(values.deps) ?? "auto", ["auto", "none"] as const);
  return startCommand(
    {
      target: positionals[0],
      phase: phaseOption(values),
      launch,
      deps,
      dryRun: values["dry-run"] === true,
      permissionMode: str(values["permission-mode"]),
      model: str(values.model),
    },
    io,
  );
}

interface StartOptions extends StartChoices {
  target?: string;
  phase?: number;
  dryRun: boolean;
}

/**
 * `claude-parallel start`: gathers the facts (src/start/gather-start.ts), decides (decideStart),
 * and applies the actions under the feature's lock; a dry run prints them.
 */
export async function startCommand(options: StartOptions, io: Io): Promise<ExitCode> {
  const { target, phase, dryRun, ...choices } = options;
  return withLockedFeature(
    target,
    io.cwd,
    "start",
    async (context) => {
      const actions = decided(decideStart(await gatherStart(context, phase, choices)));
      if (dryRun) io.stdout(dryRunText("start", actions, describeStartAction));
      else await applyStart(context, actions, { say: (line = "") => io.stdout(line + "\n"), log: (line) => io.stderr(line + "\n") });
      return ExitCode.ok;
    },
    { dryRun },
  );
}
