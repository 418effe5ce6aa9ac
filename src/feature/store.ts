import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import * as z from "zod/mini";
import { StateError } from "../errors.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { quote } from "../render/shell.js";
import { FeatureStateSchema, type FeatureState } from "./state-schema.js";
import { statePath } from "./paths.js";

/** Why a file of the state folder could not be used: missing (undefined), or a StateError. */
export async function readJsonFile<T>(path: string, schema: z.ZodMiniType<T>, fix: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    throw new StateError(path, `cannot be read (${code ?? (error as Error).message})`, fix);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new StateError(path, "is not valid JSON (damaged or edited by hand)", fix);
  }
  const parsed = z.safeParse(schema, data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new StateError(path, `does not have the expected shape (${issue.path.join(".") || "top level"}: ${issue.message})`, fix);
  }
  return parsed.data;
}

export const repairStateFix = (slug: string) =>
  `restore the file from a backup, or forget the feature with ${`claude-parallel clean ${quote(slug)} --force`} (it keeps and lists the worktrees and branches it cannot vouch for)`;

export async function readState(commonDir: string, slug: string): Promise<FeatureState | undefined> {
  return readJsonFile(statePath(commonDir, slug), FeatureStateSchema, repairStateFix(slug));
}

export async function writeState(commonDir: string, state: FeatureState): Promise<void> {
  await writeFileAtomic(statePath(commonDir, state.slug), JSON.stringify(state, null, 2) + "\n");
}

/** Slugs of the features that have state (a folder holding state.json). */
export async function startedFeatures(commonDir: string): Promise<string[]> {
  const names = await readdir(join(commonDir, "parallel"), { withFileTypes: true }).catch(() => []);
  const slugs: string[] = [];
  for (const d of names) {
    if (!d.isDirectory() || d.name.startsWith(".")) continue;
    if (await readFile(statePath(commonDir, d.name)).then(() => true, (e: NodeJS.ErrnoException) => e.code !== "ENOENT")) slugs.push(d.name);
  }
  return slugs.sort();
}
