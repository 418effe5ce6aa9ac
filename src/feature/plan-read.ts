import { constants, type Stats } from "node:fs";
import { open, stat } from "node:fs/promises";
import { InputError } from "../core/errors.js";
import { kindOf } from "../fs/read-regular.js";
import type { LoadedPlan } from "../core/plan/load.js";
import { parsePlanText } from "../core/plan/parse.js";
import { MAX_PLAN_BYTES, planTooLarge } from "../core/plan/size-limit.js";

const PLAN_FIX = "give the path of a plan.yaml file";

function notRegular(shownAs: string, s: Stats): InputError {
  const kind = kindOf(s);
  return new InputError({ where: shownAs, message: `is ${kind}${kind.startsWith("a ") ? ", not a plan file" : ""}`, fix: PLAN_FIX });
}

/**
 * Reads and validates a plan file. Refuses what is not a regular file before opening it (opening
 * a FIFO for reading waits for a writer, forever), and oversized files before reading them whole.
 */
export async function readPlanFile(path: string, shownAs = path): Promise<LoadedPlan> {
  const cannot = (error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    return new InputError({
      where: shownAs,
      message: code === "ENOENT" ? "no such plan file" : code === "EISDIR" ? "is a folder, not a plan file" : `cannot read the plan (${code})`,
      fix: code === "ENOENT" ? "check the path; plans live at .parallel/<slug>/plan.yaml" : PLAN_FIX,
    });
  };
  let before: Stats;
  try {
    before = await stat(path);
  } catch (error) {
    throw cannot(error);
  }
  if (!before.isFile()) throw notRegular(shownAs, before);
  let handle;
  try {
    // O_NONBLOCK as a belt: should the path become a FIFO after the stat, open still returns.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw cannot(error);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw notRegular(shownAs, info);
    if (info.size > MAX_PLAN_BYTES) throw planTooLarge(info.size, shownAs);
    const buffer = await handle.readFile();
    const text = new TextDecoder("utf-8", { fatal: false }).decode(buffer);
    if (buffer.includes(0)) {
      throw new InputError({ where: shownAs, message: "is a binary file (it contains NUL bytes), not YAML", fix: PLAN_FIX });
    }
    return await parsePlanText(text.replace(/^\uFEFF/, ""), shownAs);
  } finally {
    await handle.close();
  }
}
