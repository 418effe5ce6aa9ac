import { lstat, mkdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { gitOk } from "./run.js";

/**
 * Gives each ref named in `patterns` (full names, or folders ending in `/`) that git holds only in
 * `packed-refs` a loose file with the same object, and returns nothing. The sandbox write-protects
 * a ref through its file, and a packed-only ref has none: a session could shadow it with a loose
 * ref of its own (docs/sandbox.md). Git reads the loose file first, so no ref changes. A file is
 * only ever created where none is, inside the repository's refs (a folder that is a link would lead
 * elsewhere: skipped); with the reftable backend there are no ref files, and nothing is done.
 */
export async function unpackRefs(cwd: string, commonDir: string, patterns: readonly string[]): Promise<void> {
  if (patterns.length === 0 || (await exists(join(commonDir, "reftable")))) return;
  const out = await gitOk(["for-each-ref", "--format=%(refname)%00%(objectname)", "--", ...patterns], cwd);
  const refsDir = join(commonDir, "refs");
  if (
    !(await lstat(refsDir).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  )
    return;
  for (const line of out.split("\n")) {
    const [ref, oid] = line.split("\0");
    if (ref === undefined || oid === undefined || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(oid) || !ref.startsWith("refs/")) continue;
    const path = join(commonDir, ref);
    const rel = relative(refsDir, path);
    if (rel.startsWith("..") || (await exists(path)) || !(await realFolders(refsDir, dirname(rel)))) continue;
    // `wx`: a ref git wrote meanwhile is git's.
    await writeFile(path, `${oid}\n`, { flag: "wx" }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
    });
  }
}

/** Makes the folders of `rel` below `dir`, one by one: false when one is a link or a file. */
async function realFolders(dir: string, rel: string): Promise<boolean> {
  for (const name of rel === "." ? [] : rel.split(sep)) {
    dir = join(dir, name);
    await mkdir(dir).catch(() => undefined);
    if (
      !(await lstat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      ))
    )
      return false;
  }
  return true;
}

const exists = (path: string) =>
  lstat(path).then(
    () => true,
    () => false,
  );
