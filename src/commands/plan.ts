import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { ExitCode, InputError } from "../errors.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { locateRepo } from "../git/run.js";
import { buildExecutionPlan } from "../plan/build.js";
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
  const plan = buildExecutionPlan(loaded, { repoName: basename(root), currentBranch: repo?.branch, roles, planFolder: planFolder(root, path) });
  const markdown = options.write || !options.json ? renderMarkdown(plan) : "";
  if (options.write) {
    const target = join(root, ".parallel", plan.slug, "PLAN.md");
    await writeFileAtomic(target, markdown);
    io.stderr(`Wrote ${relative(io.cwd, target) || target}\n`);
  }
  io.stdout(options.json ? renderJson(plan) + "\n" : markdown);
  return ExitCode.ok;
}

/** `<folder>` when `path` is `<root>/.parallel/<folder>/<file>`. */
export function planFolder(root: string, path: string): string | undefined {
  const parts = relative(root, path).split(sep);
  return parts.length === 3 && parts[0] === ".parallel" ? parts[1] : undefined;
}

export function planUsageError(): InputError {
  return new InputError({ where: "", message: "`plan` needs the plan file", fix: "run `claude-parallel plan .parallel/<slug>/plan.yaml`" });
}
