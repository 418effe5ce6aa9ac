import { homedir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { ExitCode, InputError } from "../errors.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { locateRepo } from "../git/run.js";
import { buildExecutionPlan } from "../plan/build.js";
import { PLANS_DIR, planFolder } from "../plan/location.js";
import { readPlanFile } from "../plan/read.js";
import { renderJson } from "../render/json.js";
import { renderMarkdown } from "../render/markdown.js";
import { findRoles, roleMap } from "../roles.js";
import type { Io } from "../cli.js";

export interface PlanOptions {
  file: string;
  json: boolean;
  write: boolean;
}

/** `claude-parallel plan`: validate, schedule, render; write PLAN.md only once all of that worked. */
export async function planCommand(options: PlanOptions, io: Io): Promise<ExitCode> {
  const path = resolve(io.cwd, options.file);
  const loaded = await readPlanFile(path, options.file);
  // The plan's own repository; for a plan kept elsewhere, the one we are working in.
  const repo = (await locateRepo(dirname(path))) ?? (await locateRepo(io.cwd));
  const root = repo?.root ?? io.cwd;
  const roles = repo ? roleMap(await findRoles(repo.root)) : new Map();
  const plan = buildExecutionPlan(loaded, { repoName: basename(root), currentBranch: repo?.branch, roles, planFolder: planFolder(root, path), root: repo?.root, home: homedir() });
  const markdown = options.write || !options.json ? renderMarkdown(plan) : "";
  if (options.write) {
    const target = join(root, PLANS_DIR, plan.slug, "PLAN.md");
    await writeFileAtomic(target, markdown);
    io.stderr(`Wrote ${relative(io.cwd, target) || target}\n`);
  }
  io.stdout(options.json ? renderJson(plan) + "\n" : markdown);
  return ExitCode.ok;
}

export function planUsageError(): InputError {
  return new InputError({ where: "", message: "`plan` needs the plan file", fix: "run `claude-parallel plan .parallel/<slug>/plan.yaml`" });
}
