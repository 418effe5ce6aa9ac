import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { appendRegular, appendRegularSync } from "../../src/fs/append-regular.js";
import { forEachLine, forEachLineSync, readRegular, readRegularSync, readRegularTail, UnsafeFileError, type Line, type LineReading } from "../../src/fs/read-regular.js";
import { tempDir } from "../helpers/tmp.js";

/** Everything a session can put where a state file should be, but a regular file. */
function hostile(dir: string): Record<string, string> {
  const at = (name: string) => join(dir, name);
  execFileSync("mkfifo", [at("fifo")]);
  symlinkSync("/dev/zero", at("zero"));
  symlinkSync(at("fifo"), at("link-to-fifo"));
  mkdirSync(at("folder"));
  return { fifo: at("fifo"), zero: at("zero"), "link-to-fifo": at("link-to-fifo"), folder: at("folder") };
}

const problemOf = async (read: () => unknown): Promise<string> => {
  try {
    await read();
  } catch (error) {
    if (error instanceof UnsafeFileError) return error.problem;
    throw error;
  }
  return "read";
};

describe("reading a file someone else may have put there", () => {
  it("refuses a FIFO, a link (to /dev/zero, to a FIFO) and a folder without blocking; missing is undefined", async () => {
    const dir = tempDir();
    const paths = hostile(dir);
    const expected: Record<string, RegExp> = { fifo: /named pipe \(FIFO\)/, zero: /symbolic link/, "link-to-fifo": /symbolic link/, folder: /folder/ };
    for (const [name, path] of Object.entries(paths)) {
      expect(await problemOf(() => readRegular(path, 100)), name).toMatch(expected[name]!);
      expect(await problemOf(() => readRegularSync(path, 100)), name).toMatch(expected[name]!);
      expect(await problemOf(() => forEachLine(path, { maxLine: 10 }, () => undefined)), name).toMatch(expected[name]!);
      expect(await problemOf(() => forEachLineSync(path, { maxLine: 10, maxBytes: 100 }, () => undefined)), name).toMatch(expected[name]!);
      expect(await problemOf(() => readRegularTail(path, 100)), name).toMatch(expected[name]!);
    }
    expect(await readRegular(join(dir, "none"), 100)).toBeUndefined();
    expect(readRegularSync(join(dir, "none"), 100)).toBeUndefined();
    expect(await forEachLine(join(dir, "none"), { maxLine: 10 }, () => undefined)).toBeUndefined();
  });

  it("refuses a file over its bound from its size alone (a sparse 512 MiB file is not read)", async () => {
    const path = join(tempDir(), "big");
    writeFileSync(path, "");
    truncateSync(path, 512 * 1024 * 1024);
    expect(await problemOf(() => readRegular(path, 1 << 20))).toBe("is 512 MiB, more than the 1 MiB it may be");
    expect(await problemOf(() => readRegularSync(path, 1 << 20))).toBe("is 512 MiB, more than the 1 MiB it may be");
    writeFileSync(path, "12345");
    expect((await readRegular(path, 5))!.toString()).toBe("12345");
    expect(await problemOf(() => readRegular(path, 4))).toBe("is 5 bytes, more than the 4 bytes it may be");
  });

  it("appends only to a regular file: a FIFO (no reader), a link or a folder is refused without blocking", async () => {
    const dir = tempDir();
    for (const [name, path] of Object.entries(hostile(dir))) {
      expect(await problemOf(() => appendRegular(path, "x\n")), name).not.toBe("read");
      expect(await problemOf(() => appendRegularSync(path, "x\n")), name).not.toBe("read");
    }
    const log = join(dir, "log");
    await appendRegular(log, "a\n");
    appendRegularSync(log, "b\n");
    expect(readFileSync(log, "utf8")).toBe("a\nb\n");
  });
});

/** The lines of a file as forEachLine hands them over: text (or null when too long) and number or offset. */
async function lines(path: string, reading: LineReading): Promise<{ lines: Array<[string | null, number | string]>; end: number | undefined }> {
  const seen: Array<[string | null, number | string]> = [];
  const take = (l: Line) => void seen.push([l.bytes === undefined ? null : l.bytes.toString("utf8"), l.n ?? `@${l.offset}`]);
  const done = await forEachLine(path, reading, take);
  if (reading.last === undefined) {
    // The hooks' synchronous reader cuts the same lines.
    const sync: typeof seen = [];
    forEachLineSync(path, { ...reading, maxBytes: 1 << 30 }, (l) => void sync.push([l.bytes === undefined ? null : l.bytes.toString("utf8"), l.n ?? `@${l.offset}`]));
    expect(sync).toEqual(seen);
  }
  return { lines: seen, end: done?.end };
}

describe("reading a file line by line", () => {
  it("cuts lines across its chunks, hands a line over its bound without its content, and goes on", async () => {
    const path = join(tempDir(), "log");
    const long = "x".repeat(1_500_000);
    writeFileSync(path, `one\n${long}\ntwo\n${"y".repeat(900_000)}\nthree`);
    const whole = await lines(path, { maxLine: 2_000_000 });
    expect(whole.lines.map(([t, n]) => [t?.length, n])).toEqual([
      [3, 1],
      [1_500_000, 2],
      [3, 3],
      [900_000, 4],
    ]);
    expect(whole.lines[1]![0]).toBe(long);
    // The unterminated last line waits for its newline, unless the file is complete.
    expect(whole.end).toBe(4 + long.length + 1 + 4 + 900_001);
    const bounded = await lines(path, { maxLine: 1_000_000, complete: true });
    expect(bounded.lines).toEqual([
      ["one", 1],
      [null, 2],
      ["two", 3],
      ["y".repeat(900_000), 4],
      ["three", 5],
    ]);
    expect(bounded.end).toBe(readFileSync(path).length);
  });

  it("reads from a recorded offset, or the tail from its first whole line, naming lines by where they start", async () => {
    const path = join(tempDir(), "log");
    writeFileSync(path, "alpha\nbeta\ngamma\ndelta\n");
    expect((await lines(path, { maxLine: 100, from: 6 })).lines).toEqual([
      ["beta", "@6"],
      ["gamma", "@11"],
      ["delta", "@17"],
    ]);
    // The last 8 bytes start inside "gamma": it is left out.
    expect((await lines(path, { maxLine: 100, last: 8 })).lines).toEqual([["delta", "@17"]]);
    // The last 6 bytes start exactly at "delta": it is whole.
    expect((await lines(path, { maxLine: 100, last: 6 })).lines).toEqual([["delta", "@17"]]);
    // A tail longer than the file is the whole file, numbered.
    expect((await lines(path, { maxLine: 100, last: 1000 })).lines.map(([, n]) => n)).toEqual([1, 2, 3, 4]);
    expect(await readRegularTail(path, 6)).toBe("delta\n");
    expect(await readRegularTail(path, 8)).toBe("delta\n");
  });

  it("a growing file: each reading goes on from where the last complete line ended", async () => {
    const path = join(tempDir(), "log");
    writeFileSync(path, "a\nb");
    const first = await lines(path, { maxLine: 100 });
    expect(first).toEqual({ lines: [["a", 1]], end: 2 });
    appendFileSync(path, "c\nd\n");
    expect(await lines(path, { maxLine: 100, from: first.end })).toEqual({
      lines: [
        ["bc", "@2"],
        ["d", "@5"],
      ],
      end: 7,
    });
  });

  it("only: lines without the given bytes are passed over, and still counted, even where the bytes straddle two chunks", async () => {
    const path = join(tempDir(), "log");
    // The second line's MARK begins 2 bytes before the first 1 MiB chunk ends.
    const straddling = "y".repeat((1 << 20) - 2 - 2) + "MARK" + "z";
    writeFileSync(path, `x\n${straddling}\nMARK three\nnothing\nlast MARK`);
    const seen: Array<[string | undefined, number | undefined]> = [];
    const done = await forEachLine(path, { maxLine: 2 << 20, only: Buffer.from("MARK"), complete: true }, (l) => void seen.push([l.bytes?.toString().slice(-10), l.n]));
    expect(seen).toEqual([
      ["yyyyyyMARKz".slice(-10), 2],
      ["MARK three", 3],
      ["last MARK", 5],
    ]);
    expect(done!.end).toBe(readFileSync(path).length);
    const sync: typeof seen = [];
    forEachLineSync(path, { maxLine: 2 << 20, maxBytes: 4 << 20, only: Buffer.from("MARK"), complete: true }, (l) => void sync.push([l.bytes?.toString().slice(-10), l.n]));
    expect(sync).toEqual(seen);
  });

  it("invalid UTF-8 and NUL bytes are text like any other (what the line means is the caller's to check)", async () => {
    const path = join(tempDir(), "log");
    writeFileSync(path, Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a]), Buffer.from("ok\n")]));
    expect((await lines(path, { maxLine: 100 })).lines).toEqual([
      ["\ufffd\ufffd\u0000A", 1],
      ["ok", 2],
    ]);
  });
});
