import { constants, lstat, open } from "node:fs/promises";

/**
 * The start of a file that someone else's process may have put there (a session's
 * `.claude-parallel/requests.md`): read only when it is a regular file, never through a link, at
 * most `maxBytes`. A FIFO would block the reader forever and a link to /dev/zero would never end;
 * both read as absent.
 */
export async function readRegularText(path: string, maxBytes: number): Promise<string | undefined> {
  const before = await lstat(path).catch(() => undefined);
  if (!before?.isFile()) return undefined;
  // O_NONBLOCK and O_NOFOLLOW as a belt: should the path change after the lstat, open still returns.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW).catch(() => undefined);
  if (!handle) return undefined;
  try {
    if (!(await handle.stat()).isFile()) return undefined;
    const buffer = Buffer.alloc(maxBytes);
    const { bytesRead } = await handle.read(buffer, 0, maxBytes, 0);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
}
