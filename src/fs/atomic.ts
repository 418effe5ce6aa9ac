import { lstat, mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { processAlive } from "../process-identity.js";
import { dirname, join, basename } from "node:path";

/**
 * Makes `path` appear whole: `make` fills a temporary file beside it, which is then renamed over
 * it, so readers see the old or the new content, never half of it (and a link at `path` is
 * replaced, never written through). `make` creates the temporary file exclusively (`wx`), so
 * nothing put in its place (a FIFO, a link) is ever opened: what is there under our temporary name
 * (left by a dead process with our PID, or put there) is removed, and `make` tries once more.
 */
export async function replaceFile(path: string, make: (temp: string) => Promise<void>): Promise<void> {
  const temp = join(dirname(path), `${tempPrefix(path)}${process.pid}.tmp`);
  await removeDeadTemps(path);
  try {
    await make(temp).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
      await rm(temp, { force: true });
      await make(temp);
    });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Writes a file atomically (see replaceFile), making its folder if needed. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await replaceFile(path, (temp) => writeFile(temp, content, { flag: "wx" }));
}

const tempPrefix = (path: string) => `.${basename(path)}.claude-parallel-`;

/**
 * The temporary files of `path` that a killed process of ours left beside it (named after its PID):
 * a re-run removes them, so none stays behind as an untracked file that makes a worktree dirty.
 * A living process's temporary file is its own.
 */
async function removeDeadTemps(path: string): Promise<void> {
  const prefix = tempPrefix(path);
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    const pid = name.startsWith(prefix) ? /^(\d+)\.tmp$/.exec(name.slice(prefix.length))?.[1] : undefined;
    if (pid === undefined || Number(pid) === process.pid || processAlive(Number(pid))) continue;
    const leftover = join(dirname(path), name);
    if ((await lstat(leftover).catch(() => undefined))?.isFile()) await rm(leftover, { force: true });
  }
}
