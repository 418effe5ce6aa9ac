import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, basename } from "node:path";

/**
 * Makes `path` appear whole: `make` fills a temporary file beside it, which is then renamed over
 * it, so readers see the old or the new content, never half of it (and a link at `path` is
 * replaced, never written through).
 */
export async function replaceFile(path: string, make: (temp: string) => Promise<void>): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.claude-parallel-${process.pid}.tmp`);
  try {
    await make(temp);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Writes a file atomically (see replaceFile), making its folder if needed. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await replaceFile(path, (temp) => writeFile(temp, content));
}
