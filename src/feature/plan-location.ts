import { readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { isFile } from "../fs/exists.js";

/** Plans live at `<repository root>/.parallel/<slug>/plan.yaml`. */
export const PLANS_DIR = ".parallel";

export function planFile(root: string, slug: string): string {
  return join(root, PLANS_DIR, slug, "plan.yaml");
}

/** `<folder>` when `path` is `<root>/.parallel/<folder>/<file>`: the feature's slug by default. */
export function planFolder(root: string, path: string): string | undefined {
  const parts = relative(root, path).split(sep);
  return parts.length === 3 && parts[0] === PLANS_DIR ? parts[1] : undefined;
}

/** The folders under `.parallel/` that hold a plan.yaml, sorted. */
export async function plansIn(root: string): Promise<string[]> {
  const names = await readdir(join(root, PLANS_DIR)).catch(() => [] as string[]);
  const found: string[] = [];
  for (const name of names.sort()) if (await isFile(planFile(root, name))) found.push(name);
  return found;
}
