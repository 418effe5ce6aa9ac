import { createHash } from "node:crypto";
import * as z from "zod/mini";
import { predictionCachePath } from "../core/state/paths.js";
import { MAX_BYTES } from "../core/state/bounds.js";
import { readRegular } from "../fs/read-regular.js";
import { writeFile } from "node:fs/promises";
import { replaceFile } from "../fs/atomic.js";
import type { ConflictReport as Conflict } from "../core/render/conflict-report.js";

const SourceSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.enum(["task", "merged", "integration"]), tasks: z.array(z.string()) }),
  z.object({ kind: z.literal("start"), commit: z.string() }),
  z.object({ kind: z.literal("shared"), commit: z.string(), subject: z.string() }),
  z.object({ kind: z.literal("self"), task: z.string() }),
]);
const SideSchema = z.object({ change: z.enum(["added", "deleted", "changed", "kept", "absent"]), source: z.optional(SourceSchema), via: z.optional(z.array(z.string())) });
const ConflictSchema = z.object({
  task: z.string(),
  branch: z.string(),
  files: z.array(z.string()),
  paths: z.array(z.object({ path: z.string(), ours: SideSchema, theirs: SideSchema })),
  fix: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("merge"), branches: z.array(z.string()), options: z.array(z.string()), held: z.array(z.string()) }),
    z.object({ kind: z.literal("decide") }),
  ]),
  with: z.array(z.string()),
});
const CacheSchema = z.record(z.string(), z.object({ key: z.string(), conflicts: z.array(ConflictSchema) }));

/**
 * The conflicts `status` predicts for a phase depend only on commits and the plan: the integration
 * branch's tip and each branch's tip, start and merge settings, in merge order. The merge chain
 * (two git processes per branch, one after another) runs again only when one of them moved;
 * `status --watch` and every `/parallel-status` in between read the answer. The file is a cache:
 * a damaged or missing one (or one of an older shape) is computed again.
 */
export async function cachedPrediction(
  commonDir: string,
  slug: string,
  phase: number,
  commits: { integration: string; branches: ReadonlyArray<readonly unknown[]> },
  predict: () => Promise<Conflict[]>,
): Promise<Conflict[]> {
  const key = createHash("sha256").update(JSON.stringify(commits)).digest("hex");
  const path = predictionCachePath(commonDir, slug);
  const cache = await readCache(path);
  const hit = cache?.[String(phase)];
  if (hit?.key === key) return hit.conflicts;
  const conflicts = await predict();
  // Racing status calls each write a whole, valid file: at worst one's answer is computed again.
  // Never makes the state folder: a status racing `clean` must not leave one behind.
  const text = JSON.stringify({ ...cache, [String(phase)]: { key, conflicts } }) + "\n";
  await replaceFile(path, (temp) => writeFile(temp, text, { flag: "wx" })).catch(() => undefined);
  return conflicts;
}

/** Cached answers are small; anything larger, or not a regular file (a FIFO would block), is none. */
async function readCache(path: string): Promise<z.infer<typeof CacheSchema> | undefined> {
  const bytes = await readRegular(path, MAX_BYTES.predictionCache).catch(() => undefined);
  if (bytes === undefined) return undefined;
  try {
    const parsed = z.safeParse(CacheSchema, JSON.parse(bytes.toString("utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
