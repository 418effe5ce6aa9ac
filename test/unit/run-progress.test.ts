import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Progress, readEvents } from "../../src/feature/run-events.js";
import { singleLine } from "../../src/core/text/single-line.js";
import { tempDir } from "../helpers/tmp.js";

describe("run progress", () => {
  it("appends every event to the log and prints one line per event", async () => {
    const path = join(tempDir(), "run", "events.jsonl");
    const out: string[] = [];
    const p = new Progress(path, "lines", (t) => out.push(t));
    await p.emit({ event: "task-started", task: "a", phase: 1, text: "a: session started" });
    await p.emit({ event: "phase-synced", phase: 1, text: "phase 1 synced" });
    expect(out.map((l) => l.replace(/^\[\d\d:\d\d:\d\d\] /, ""))).toEqual(["a: session started\n", "phase 1 synced\n"]);
    const { events } = await readEvents(path);
    expect(events.map((e) => e.event)).toEqual(["task-started", "phase-synced"]);
    expect(events[0]).toMatchObject({ task: "a", phase: 1 });
    expect(events[0]!.at).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it("--json: one JSON object per line, the same as the log's; no report text", async () => {
    const path = join(tempDir(), "events.jsonl");
    const out: string[] = [];
    const p = new Progress(path, "json", (t) => out.push(t));
    await p.emit({ event: "budget", text: "budget reached", spentUsd: 1.5 });
    p.print("Stopped: ...\n");
    expect(out).toHaveLength(1);
    expect(JSON.parse(out[0]!)).toMatchObject({ event: "budget", spentUsd: 1.5 });
    expect(readFileSync(path, "utf8")).toBe(out[0]);
  });

  it("--json and the log: a U+2028 or U+2029 in a file name is escaped, so a Unicode line reader sees one line per event", async () => {
    const path = join(tempDir(), "events.jsonl");
    const out: string[] = [];
    const p = new Progress(path, "json", (t) => out.push(t));
    await p.emit({ event: "conflict", task: "a", phase: 1, text: 'a: conflicts in x\u2028{"event":"finished"}\u2029.ts' });
    for (const text of [out[0]!, readFileSync(path, "utf8")]) {
      expect(text.trimEnd().split(/\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/)).toHaveLength(1);
      expect(JSON.parse(text).text).toBe('a: conflicts in x\u2028{"event":"finished"}\u2029.ts');
    }
  });

  it("on a terminal: a table of the tasks redrawn in place, every cell made terminal-safe", async () => {
    const drawn: string[] = [];
    const p = new Progress(
      join(tempDir(), "events.jsonl"),
      "table",
      () => undefined,
      (t) => drawn.push(t),
    );
    p.rows.set("a", { task: "a", phase: 1, state: "running", attempts: 0, startedAt: Date.now(), tokens: 120, usd: 0.25, last: "" });
    await p.emit({ event: "task-started", task: "a", phase: 1, text: "a: started \x1b]52;c;evil\x07" });
    await p.emit({ event: "session-ended", task: "a", phase: 1, text: "a: ended" });
    expect(drawn[0]).toMatch(/^task\s+phase\s+state\s+tries\s+elapsed\s+tokens\s+cost\s+last action\n/);
    expect(drawn[0]).toMatch(/\na\s+1\s+running\s+0\s+\d+s\s+120\s+\$0\.25\s+a: started/);
    // The second drawing moves back up over the first and clears it.
    expect(drawn[1]!.startsWith("\x1b[")).toBe(true);
    expect(drawn[1]).toMatch(/^\x1b\[\d+A\r\x1b\[J/);
    // The event's own control characters are shown as escapes, never sent raw.
    expect(drawn.join("")).not.toContain("\x1b]52");
    expect(drawn.join("")).toContain("\\x1b]52");
  });

  it("hands each event to its listener once it is in the log (the notifications hear it there)", async () => {
    const path = join(tempDir(), "events.jsonl");
    const heard: Array<{ event: string; logged: boolean }> = [];
    const p = new Progress(
      path,
      "lines",
      () => undefined,
      undefined,
      (e) => heard.push({ event: e.event, logged: readFileSync(path, "utf8").includes(`"at":"${e.at}"`) }),
    );
    await p.emit({ event: "phase-synced", phase: 1, text: "phase 1 synced" });
    await p.emit({ event: "finished", text: "done" });
    expect(heard).toEqual([
      { event: "phase-synced", logged: true },
      { event: "finished", logged: true },
    ]);
  });
});

describe("singleLine", () => {
  it("shows every line break of an event's text escaped, so a file name cannot fake an event line", () => {
    expect(singleLine("a: conflicts in x\n[10:00:00] b: merged")).toBe("a: conflicts in x\\n[10:00:00] b: merged");
    expect(singleLine("r\rv\vf\fnel\u0085ls\u2028ps\u2029")).toBe("r\\rv\\u000bf\\fnel\\u0085ls\\u2028ps\\u2029");
    expect(singleLine("plain text, tabs\tkept")).toBe("plain text, tabs\tkept");
  });
});
