import { closeSync, constants, fstatSync, openSync, promises as fsp, readSync, type Stats } from "node:fs";
import { UnsafeFileError } from "../core/errors.js";

/**
 * The one way we read a file that a process we do not control may have written or replaced: the
 * feature's state folder (task sessions run commands, and their hooks and logs write there), a
 * worktree's `.claude-parallel/` files, Claude Code's transcripts. Opened without following a
 * final symbolic link and without blocking (a FIFO would block the reader forever, a link to
 * /dev/zero would never end), then checked to be a regular file, and read only up to a bound.
 * Missing is `undefined`; anything else that is not a regular file within its bound is an
 * UnsafeFileError naming the problem. Loads nothing but node:fs: the hooks use it.
 */

export { UnsafeFileError };

/** What a path is, for a message: "a named pipe (FIFO)", ... */
export function kindOf(s: Stats): string {
  if (s.isDirectory()) return "a folder";
  if (s.isFIFO()) return "a named pipe (FIFO)";
  if (s.isSocket()) return "a socket";
  if (s.isCharacterDevice()) return "a character device";
  if (s.isBlockDevice()) return "a block device";
  return "not a regular file";
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;
export const APPEND_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/** `1.5 MiB`, for a bound in a message. */
export const sizeText = (bytes: number): string => (bytes >= 1 << 20 ? `${+(bytes / (1 << 20)).toFixed(1)} MiB` : bytes >= 1024 ? `${+(bytes / 1024).toFixed(1)} KiB` : `${bytes} bytes`);

/** The error for a failed open: undefined when nothing is there (ENOENT). */
export function openError(path: string, error: unknown): UnsafeFileError | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return undefined;
  // ELOOP: O_NOFOLLOW met a link; ENXIO: a socket, or a FIFO opened for writing with no reader.
  if (code === "ELOOP") return new UnsafeFileError(path, "is a symbolic link, not a regular file");
  if (code === "ENXIO") return new UnsafeFileError(path, "is a socket or a named pipe, not a regular file");
  if (code === "EISDIR") return new UnsafeFileError(path, "is a folder, not a regular file");
  return new UnsafeFileError(path, `cannot be opened (${code ?? (error as Error).message})`);
}

function checkRegular(path: string, info: Stats, maxBytes: number | undefined): void {
  if (!info.isFile()) throw new UnsafeFileError(path, `is ${kindOf(info)}, not a regular file`);
  if (maxBytes !== undefined && info.size > maxBytes) throw new UnsafeFileError(path, `is ${sizeText(info.size)}, more than the ${sizeText(maxBytes)} it may be`);
}

/** An open regular file and its size when opened; undefined when missing. `maxBytes`: refuse a larger one. */
export async function openRegular(path: string, maxBytes?: number): Promise<{ handle: fsp.FileHandle; size: number } | undefined> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(path, READ_FLAGS);
  } catch (error) {
    const refused = openError(path, error);
    if (refused) throw refused;
    return undefined;
  }
  try {
    const info = await handle.stat();
    checkRegular(path, info, maxBytes);
    return { handle, size: info.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

function openRegularSync(path: string, maxBytes?: number): { fd: number; size: number } | undefined {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (error) {
    const refused = openError(path, error);
    if (refused) throw refused;
    return undefined;
  }
  try {
    const info = fstatSync(fd);
    checkRegular(path, info, maxBytes);
    return { fd, size: info.size };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** The whole file, when it is a regular file of at most `maxBytes`; undefined when missing. */
export async function readRegular(path: string, maxBytes: number): Promise<Buffer | undefined> {
  const opened = await openRegular(path, maxBytes);
  if (!opened) return undefined;
  try {
    // One byte more than allowed tells a file that grew past its bound since the stat.
    const buffer = Buffer.alloc(Math.min(opened.size, maxBytes) + 1);
    const { bytesRead } = await opened.handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > maxBytes) throw new UnsafeFileError(path, `is more than the ${sizeText(maxBytes)} it may be`);
    return buffer.subarray(0, bytesRead);
  } finally {
    await opened.handle.close();
  }
}

/** The same, for the hooks (synchronous). */
export function readRegularSync(path: string, maxBytes: number): Buffer | undefined {
  const opened = openRegularSync(path, maxBytes);
  if (!opened) return undefined;
  try {
    const buffer = Buffer.alloc(Math.min(opened.size, maxBytes) + 1);
    const bytesRead = readSync(opened.fd, buffer, 0, buffer.length, 0);
    if (bytesRead > maxBytes) throw new UnsafeFileError(path, `is more than the ${sizeText(maxBytes)} it may be`);
    return buffer.subarray(0, bytesRead);
  } finally {
    closeSync(opened.fd);
  }
}

/**
 * The start of a file that a session may have put there (its `.claude-parallel/requests.md`): at
 * most `maxBytes`, whatever its size; anything that is not a regular file reads as absent.
 */
export async function readRegularText(path: string, maxBytes: number): Promise<string | undefined> {
  const opened = await openRegular(path).catch(() => undefined);
  if (!opened) return undefined;
  try {
    const buffer = Buffer.alloc(Math.min(opened.size, maxBytes));
    const { bytesRead } = await opened.handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await opened.handle.close();
  }
}

/** The last `maxBytes` of a file (a log's tail), from the start of a line; undefined when missing. */
export async function readRegularTail(path: string, maxBytes: number): Promise<string | undefined> {
  const opened = await openRegular(path);
  if (!opened) return undefined;
  try {
    // One byte early: a newline there means the tail's first line is whole.
    const from = Math.max(0, opened.size - maxBytes - 1);
    const buffer = Buffer.alloc(opened.size - from);
    const { bytesRead } = await opened.handle.read(buffer, 0, buffer.length, from);
    const read = buffer.subarray(0, bytesRead);
    return (from > 0 ? read.subarray(read.indexOf(0x0a) + 1) : read).toString("utf8");
  } finally {
    await opened.handle.close();
  }
}

/**
 * One line of a file being read line by line. `bytes` is undefined for a line longer than the
 * reader's bound (its content was not kept), and is valid only during the call: copy what you keep.
 */
export interface Line {
  bytes: Buffer | undefined;
  /** The line's number in the file, when reading began at its start. */
  n?: number;
  /** Where the line starts in the file. */
  offset: number;
}

export interface LineReading {
  /** Where reading begins (a recorded offset); by default the start. */
  from?: number;
  /** Read only the last this many bytes (a log's tail), from the first line that starts within them. */
  last?: number;
  /** A longer line is handed over without its content; memory stays within this bound. */
  maxLine: number;
  /**
   * Only lines holding these bytes are handed over (and lines over the bound, which cannot be
   * told); the others are passed over without being cut out, which keeps a large file quick.
   */
  only?: Buffer;
  /**
   * The file is complete (its writer is gone): a last line without its newline counts. Otherwise
   * it is left for a later reading, as a line still being written.
   */
  complete?: boolean;
}

/** How to name a line in a message: `file:line` when read from the file's start, else by where it starts. */
export function lineName(path: string, line: Line): string {
  return line.n !== undefined ? `${path}:${line.n}` : `${path} (the line at byte ${line.offset})`;
}

/** Cuts chunks of a file into lines, keeping at most `maxLine` bytes of one. */
class LineCutter {
  private parts: Buffer[] = [];
  /** Bytes of the line being cut, seen so far; and how many of them are kept. */
  private length = 0;
  private kept = 0;
  private tooLong = false;
  private n = 0;
  private readonly numbered: boolean;
  /** Where the line being cut starts: after the last newline seen. */
  end: number;

  constructor(
    private readonly reading: LineReading,
    start: number,
    /** A tail read begins inside a line (a byte before its first whole line): that part is not a line. */
    private skipFirst: boolean,
    private readonly onLine: (line: Line) => void,
  ) {
    this.end = start;
    this.numbered = start === 0;
  }

  push(chunk: Buffer): void {
    const only = this.reading.only;
    let from = 0;
    // Where `only` next occurs in the chunk: a line wholly in the chunk and before it holds none.
    let next = only ? chunk.indexOf(only) : 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, from)) {
      if (this.length > 0) {
        // The end of a line begun in an earlier chunk.
        this.add(chunk.subarray(from, nl));
        this.line(1, only !== undefined);
      } else if (only && (next < 0 || next + only.length > nl)) this.hand(undefined, nl - from + 1, false);
      else this.hand(nl - from <= this.reading.maxLine ? chunk.subarray(from, nl) : undefined, nl - from + 1, true);
      from = nl + 1;
      if (only && next >= 0 && next < from) next = chunk.indexOf(only, from);
    }
    this.add(chunk.subarray(from));
    // The next read reuses the chunk's buffer: the unfinished line's part of it becomes a copy.
    if (this.parts.length) this.parts[this.parts.length - 1] = Buffer.from(this.parts[this.parts.length - 1]!);
  }

  private add(part: Buffer): void {
    this.length += part.length;
    if (this.tooLong || part.length === 0) return;
    if (this.kept + part.length > this.reading.maxLine) {
      this.tooLong = true;
      this.parts = [];
      return;
    }
    this.parts.push(part);
    this.kept += part.length;
  }

  /** The line cut from parts: handed over unless `check` finds it without `only` (it spanned chunks). */
  private line(newline: number, check: boolean): void {
    const bytes = this.tooLong ? undefined : this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.hand(bytes, this.length + newline, !check || !bytes || bytes.indexOf(this.reading.only!) >= 0);
    this.parts = [];
    this.length = this.kept = 0;
    this.tooLong = false;
  }

  /** Counts a line of `length` bytes (its newline included), and hands it over when `wanted`. */
  private hand(bytes: Buffer | undefined, length: number, wanted: boolean): void {
    if (this.skipFirst) this.skipFirst = false;
    else {
      const n = this.numbered ? ++this.n : undefined;
      if (wanted) this.onLine(n === undefined ? { bytes, offset: this.end } : { bytes, n, offset: this.end });
    }
    this.end += length;
  }

  /** The file ended: its unterminated last line counts when the file is complete. */
  finish(): void {
    if (this.reading.complete && this.length > 0) this.line(0, this.reading.only !== undefined);
  }
}

const CHUNK = 1 << 20;

/**
 * Reads a file line by line with bounded memory: at most `maxLine` bytes of a line, and one chunk.
 * Reads up to the size the file had when opened. Returns where the last complete line ends (the
 * `from` of a later reading of a growing file), or undefined when the file is missing.
 */
export async function forEachLine(path: string, reading: LineReading, onLine: (line: Line) => void): Promise<{ end: number } | undefined> {
  const opened = await openRegular(path);
  if (!opened) return undefined;
  try {
    const { handle, size } = opened;
    const from = reading.from ?? 0;
    // A tail begins one byte early: a newline there means its first line is whole.
    const tail = reading.last !== undefined && size - reading.last > from;
    let at = tail ? size - reading.last! - 1 : from;
    const cutter = new LineCutter(reading, at, tail, onLine);
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(0, size - at)));
    while (at < size) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - at), at);
      if (bytesRead === 0) break;
      cutter.push(buffer.subarray(0, bytesRead));
      at += bytesRead;
    }
    cutter.finish();
    return { end: cutter.end };
  } finally {
    await opened.handle.close();
  }
}

/** The same, for the hooks (synchronous), reading at most `maxBytes` of the file (a larger one is refused). */
export function forEachLineSync(path: string, reading: Omit<LineReading, "last"> & { maxBytes: number }, onLine: (line: Line) => void): { end: number } | undefined {
  const opened = openRegularSync(path, reading.maxBytes);
  if (!opened) return undefined;
  try {
    const { fd, size } = opened;
    let at = reading.from ?? 0;
    const cutter = new LineCutter(reading, at, false, onLine);
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(0, size - at)));
    while (at < size) {
      const bytesRead = readSync(fd, buffer, 0, Math.min(buffer.length, size - at), at);
      if (bytesRead === 0) break;
      cutter.push(buffer.subarray(0, bytesRead));
      at += bytesRead;
    }
    cutter.finish();
    return { end: cutter.end };
  } finally {
    closeSync(opened.fd);
  }
}
