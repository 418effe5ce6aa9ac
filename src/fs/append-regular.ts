import { appendFileSync, closeSync, fstatSync, openSync, promises as fsp } from "node:fs";
import { APPEND_FLAGS, kindOf, openError, UnsafeFileError } from "./read-regular.js";

/**
 * Opens a log of ours in the feature's state folder for appending, creating it when missing: never
 * through a symbolic link, and never a FIFO (opening one for writing would wait for a reader,
 * forever). What is there and is not a regular file is an UnsafeFileError.
 */
export async function openAppend(path: string): Promise<fsp.FileHandle> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(path, APPEND_FLAGS, 0o644);
  } catch (error) {
    throw openError(path, error) ?? error;
  }
  const info = await handle.stat();
  if (info.isFile()) return handle;
  await handle.close();
  throw new UnsafeFileError(path, `is ${kindOf(info)}, not a regular file`);
}

/** The two logs a process writes to (its stdout and its stderr), open for appending; none stays open when one cannot be. */
export async function openOutputLogs(stdout: string, stderr: string): Promise<[fsp.FileHandle, fsp.FileHandle]> {
  const out = await openAppend(stdout);
  try {
    return [out, await openAppend(stderr)];
  } catch (error) {
    await out.close();
    throw error;
  }
}

/** Appends `text` to a log of ours (see openAppend). */
export async function appendRegular(path: string, text: string): Promise<void> {
  const handle = await openAppend(path);
  try {
    await handle.appendFile(text);
  } finally {
    await handle.close();
  }
}

/** The same, synchronous. */
export function appendRegularSync(path: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(path, APPEND_FLAGS, 0o644);
  } catch (error) {
    throw openError(path, error) ?? error;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new UnsafeFileError(path, `is ${kindOf(info)}, not a regular file`);
    appendFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
