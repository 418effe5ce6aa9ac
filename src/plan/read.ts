import { open } from "node:fs/promises";
import { InputError } from "../errors.js";
import { MAX_PLAN_BYTES, parsePlan, type LoadedPlan } from "./load.js";

/** Reads and validates a plan file; refuses oversized files before reading them whole. */
export async function readPlanFile(path: string, shownAs = path): Promise<LoadedPlan> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError({
      where: shownAs,
      message: code === "ENOENT" ? "no such plan file" : code === "EISDIR" ? "is a folder, not a plan file" : `cannot read the plan (${code})`,
      fix: code === "ENOENT" ? "check the path; plans live at .parallel/<slug>/plan.yaml" : "give the path of a plan.yaml file",
    });
  }
  try {
    const { size, isFile } = await handle.stat().then((s) => ({ size: s.size, isFile: s.isFile() }));
    if (!isFile) throw new InputError({ where: shownAs, message: "is not a regular file", fix: "give the path of a plan.yaml file" });
    if (size > MAX_PLAN_BYTES) {
      throw new InputError({
        where: shownAs,
        message: `the plan is ${(size / 1024 / 1024).toFixed(1)} MiB; a plan may be at most ${MAX_PLAN_BYTES / 1024 / 1024} MiB`,
        fix: "keep long instructions out of the plan: put them in files the tasks' prompts point to",
      });
    }
    const buffer = await handle.readFile();
    const text = new TextDecoder("utf-8", { fatal: false }).decode(buffer);
    if (buffer.includes(0)) {
      throw new InputError({ where: shownAs, message: "is a binary file (it contains NUL bytes), not YAML", fix: "give the path of a plan.yaml file" });
    }
    return parsePlan(text.replace(/^\uFEFF/, ""), shownAs);
  } finally {
    await handle.close();
  }
}
