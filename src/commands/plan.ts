import { realpath } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { ExitCode, InputError } from "../core/errors.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { locateRepoFast } from "../git/repo-from-files.js";
import { planFile, planFolder } from "../feature/plan-location.js";
import { buildPlan } from "../core/plan/parse.js";
import { readPlanFile } from "../feature/plan-read.js";
import { renderJson } from "../core/render/json.js";
import { sh } from "../core/text/shell.js";
import { findRoles, roleMap } from "../feature/roles.js";
import type { Io } from "../core/io.js";
import type { CommandSpec, Values } from "../core/command-spec.js";

export const spec: CommandSpec = {
  name: "plan",
  synopsis: ["<plan.yaml> [--json] [--no-write]"],
  summary: ["Validate a plan, group its tasks into phases and print the execution plan.", "Also writes it to .parallel/<slug>/PLAN.md (not with --no-write)."],
  details: [
    "Prints the Parallel Execution Plan as Markdown: the phases, one session per task with its worktree, branch, task and output, the commands that create the worktrees and start the sessions, the sync points between phases, and the decisions the planner made. Changes nothing in git.",
  ],
  options: [
    { name: "json", type: "boolean", text: "Print the execution plan as JSON instead of Markdown." },
    { name: "no-write", type: "boolean", text: "Do not write .parallel/<slug>/PLAN.md." },
  ],
  positionals: 1,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  if (!positionals[0]) throw planUsageError();
  return planCommand({ file: positionals[0], json: values.json === true, write: values["no-write"] !== true }, io);
}

interface PlanOptions {
  file: string;
  json: boolean;
  write: boolean;
}

/**
 * `claude-parallel plan`: validate, schedule, render; write PLAN.md beside a plan at
 * `.parallel/<slug>/plan.yaml` only once all of that worked. The plan goes to stdout, the rest
 * (what was written, the next step) to stderr.
 */
async function planCommand(options: PlanOptions, io: Io): Promise<ExitCode> {
  const path = resolve(io.cwd, options.file);
  const loaded = await readPlanFile(path, options.file);
  // The plan's own repository; for a plan kept elsewhere, the one we are working in.
  const repo = (await locateRepoFast(dirname(path))) ?? (await locateRepoFast(io.cwd));
  const root = repo?.root ?? io.cwd;
  const roles = repo ? roleMap(await findRoles(repo.root)) : new Map();
  // os.homedir() is $HOME when that is set (libuv's uv_os_homedir); node:os is loaded only without it.
  const homeFolder = process.env.HOME || (await import("node:os")).homedir();
  const plan = await buildPlan(loaded, { repoName: basename(root), currentBranch: repo?.branch, roles, planFolder: planFolder(root, path), root: repo?.root, home: homeFolder });
  // `start <slug>` finds a plan only at .parallel/<slug>/plan.yaml; one kept elsewhere is named by its path.
  const home = planFile(root, plan.slug);
  const atHome = (await realpath(path).catch(() => path)) === (await realpath(home).catch(() => home));
  const shown = (target: string) => relative(io.cwd, target) || target;
  const fromRoot = relative(root, path);
  const startTarget = fromRoot && !fromRoot.startsWith("..") && !isAbsolute(fromRoot) ? fromRoot : path;
  // The Markdown renderer is loaded only when the Markdown is wanted: `--json --no-write` skips it.
  const markdown = options.write || !options.json ? (await import("../core/render/markdown.js")).renderMarkdown(plan, atHome ? {} : { startTarget }) : "";
  if (options.write) {
    const target = join(dirname(home), "PLAN.md");
    if (atHome) {
      await writeFileAtomic(target, markdown);
      io.stderr(`Wrote ${shown(target)}\n`);
    } else {
      io.stderr(
        `Nothing written: PLAN.md is kept only beside a plan at ${shown(home)}, and this plan is ${shown(path)} ` +
          `(PLAN.md would have gone to ${shown(target)}). Move the plan there to keep its PLAN.md, or pass --no-write.\n`,
      );
    }
  }
  io.stdout(options.json ? renderJson(plan) + "\n" : markdown);
  // For people reading the plan: a program reading the JSON gets no advice on stderr.
  if (!options.json) io.stderr(`Next: ${sh`claude-parallel start ${atHome ? plan.slug : fromRoot.startsWith("..") || isAbsolute(fromRoot) ? path : shown(path)}`}\n`);
  return ExitCode.ok;
}

function planUsageError(): InputError {
  return new InputError({ where: "", message: "`plan` needs the plan file", fix: "run `claude-parallel plan .parallel/<slug>/plan.yaml`" });
}
