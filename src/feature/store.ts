import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import * as z from "zod/mini";
import { StateError } from "../core/errors.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { readRegular, UnsafeFileError } from "../fs/read-regular.js";
import { MAX_BYTES } from "../core/state/bounds.js";
import { quote } from "../core/text/shell.js";
import { FeatureStateSchema, type FeatureState } from "../core/state/state-schema.js";
import { statePath } from "../core/state/paths.js";

/**
 * A JSON file of the state folder, checked against its shape: undefined when missing; a StateError
 * when it is not a regular file of at most `maxBytes` (src/fs/read-regular.ts), not JSON, or not of
 * the shape.
 */
export async function readJsonFile<T>(path: string, schema: z.ZodMiniType<T>, fix: string, maxBytes: number): Promise<T | undefined> {
  let bytes: Buffer | undefined;
  try {
    bytes = await readRegular(path, maxBytes);
  } catch (error) {
    if (error instanceof UnsafeFileError) throw new StateError(path, error.problem, fix);
    throw new StateError(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, fix);
  }
  if (bytes === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString("utf8"));
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

/** What is wrong with a file of the state, for a report that goes on without it; an error of another kind is thrown again. */
export function damageOf(error: unknown): string {
  if (error instanceof StateError) return `${error.file} ${error.problem}`;
  if (error instanceof UnsafeFileError) return error.message;
  throw error;
}

export const repairStateFix = (slug: string) =>
  `restore the file from a backup, or forget the feature with ${`claude-parallel clean ${quote(slug)} --force`} (it keeps and lists the worktrees and branches it cannot vouch for)`;

export async function readState(commonDir: string, slug: string): Promise<FeatureState | undefined> {
  return readJsonFile(statePath(commonDir, slug), FeatureStateSchema, repairStateFix(slug), MAX_BYTES.featureState);
}

export async function writeState(commonDir: string, state: FeatureState): Promise<void> {
  await writeFileAtomic(statePath(commonDir, state.slug), JSON.stringify(state, null, 2) + "\n");
}

/** Slugs of the features that have state (a folder holding state.json, or something in its place: reading it says what). */
export async function startedFeatures(commonDir: string): Promise<string[]> {
  const names = await readdir(join(commonDir, "parallel"), { withFileTypes: true }).catch(() => []);
  const slugs: string[] = [];
  for (const d of names) {
    if (!d.isDirectory() || d.name.startsWith(".")) continue;
    if (
      await lstat(statePath(commonDir, d.name)).then(
        () => true,
        (e: NodeJS.ErrnoException) => e.code !== "ENOENT",
      )
    )
      slugs.push(d.name);
  }
  return slugs.sort();
}
