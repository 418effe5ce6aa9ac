import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { MAX_BYTES } from "../core/state/bounds.js";
import { appendRegular } from "../fs/append-regular.js";
import { forEachLine, lineName, sizeText, type LineReading } from "../fs/read-regular.js";
import { jsonLine, singleLine } from "../core/text/single-line.js";
import { terminalSafe } from "../core/text/terminal.js";
import { usd } from "../core/budget.js";

/** What `run` reports: one JSON object per line in `<state>/run/events.jsonl`, and on `--json`. */
export type RunEvent = { at: string; event: string; task?: string; phase?: number; text: string } & Record<string, unknown>;

type RunEventInput = { event: string; task?: string; phase?: number; text: string } & Record<string, unknown>;

/** One row of the live table. */
interface TaskRow {
  task: string;
  phase: number;
  state: string;
  attempts: number;
  startedAt?: number;
  endedAt?: number;
  tokens: number;
  usd: number;
  last: string;
}

export type ProgressMode = "table" | "lines" | "json";

/**
 * Appends each event to the log and shows it: one line per event, one JSON object per event, or,
 * on a terminal, a table of the tasks redrawn in place with the latest events under it.
 */
export class Progress {
  readonly rows = new Map<string, TaskRow>();
  private recent: string[] = [];
  private drawn = 0;

  constructor(
    private readonly eventsPath: string,
    private readonly mode: ProgressMode,
    private readonly out: (text: string) => void,
    /** Raw terminal output for the table (cursor movement); every cell is made terminal-safe first. */
    private readonly tty?: (text: string) => void,
    /** Hears each event once it is in the log (the notifications); it must return at once. */
    private readonly listener?: (event: RunEvent) => void,
  ) {}

  async emit(input: RunEventInput): Promise<void> {
    const event = { at: new Date().toISOString(), ...input } as RunEvent;
    await mkdir(dirname(this.eventsPath), { recursive: true });
    await appendRegular(this.eventsPath, jsonLine(event) + "\n");
    this.listener?.(event);
    const text = singleLine(input.text);
    if (input.task) {
      const row = this.rows.get(input.task);
      if (row) row.last = text;
    }
    if (this.mode === "json") this.out(jsonLine(event) + "\n");
    else if (this.mode === "lines" || !this.tty) this.out(`[${event.at.slice(11, 19)}] ${text}\n`);
    else {
      this.recent.push(`[${event.at.slice(11, 19)}] ${text}`);
      this.recent = this.recent.slice(-6);
      this.redraw();
    }
  }

  /** A final line, outside the table (the report). */
  print(text: string): void {
    if (this.mode === "json") return;
    this.out(text);
  }

  redraw(): void {
    if (this.mode !== "table" || !this.tty) return;
    const now = Date.now();
    const header = ["task", "phase", "state", "tries", "elapsed", "tokens", "cost", "last action"];
    const rows = [...this.rows.values()].map((r) => [
      r.task,
      String(r.phase),
      r.state,
      String(r.attempts),
      r.startedAt ? `${Math.round(((r.endedAt ?? now) - r.startedAt) / 1000)}s` : "",
      r.tokens ? String(r.tokens) : "",
      r.usd ? usd(r.usd) : "",
      r.last,
    ]);
    const widths = header.map((h, i) => Math.min(i === 7 ? 60 : 24, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
    const line = (cells: string[]) =>
      cells
        .map((c, i) => terminalSafe(c.length > widths[i]! ? c.slice(0, widths[i]! - 1) + "…" : c).padEnd(widths[i]!))
        .join("  ")
        .trimEnd();
    const lines = [line(header), ...rows.map(line), "", ...this.recent.map((l) => terminalSafe(l.slice(0, 120)))];
    // Up to the table's first line, clear to the end of the screen, draw again.
    this.tty((this.drawn ? `\x1b[${this.drawn}A\r\x1b[J` : "") + lines.join("\n") + "\n");
    this.drawn = lines.length;
  }
}

/** Events read from the log, oldest first; each line that is not one is named (`file:line: why`) and skipped. */
interface EventsRead {
  events: RunEvent[];
  skipped: string[];
  /** Where the last complete line ends: the `from` of a later reading. */
  end: number;
}

/**
 * The events of a run's log, from `from` (an offset a reading returned) or, with `last`, in its
 * last bytes only. Read line by line (src/fs/read-regular.ts): a line that is not an event, or is
 * longer than an event may be, is skipped and named; `keep` chooses the events worth keeping.
 * A missing log has none. Anything else in the log's place (a FIFO, a link) is an UnsafeFileError.
 */
export async function readEvents(path: string, reading: Pick<LineReading, "from" | "last"> = {}, keep: (e: RunEvent) => boolean = () => true): Promise<EventsRead> {
  const read: EventsRead = { events: [], skipped: [], end: 0 };
  const done = await forEachLine(path, { ...reading, maxLine: MAX_BYTES.eventLine }, (line) => {
    const skip = (why: string) => void read.skipped.push(`${lineName(path, line)}: ${why}`);
    if (line.bytes === undefined) return skip(`longer than the ${sizeText(MAX_BYTES.eventLine)} an event may be`);
    if (line.bytes.length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(line.bytes.toString("utf8"));
    } catch {
      return skip("not JSON");
    }
    if (!isEvent(value)) return skip("not an event (at, event and text are strings; task a string, phase a number, when there)");
    if (keep(value)) read.events.push(value);
  });
  read.end = done?.end ?? 0;
  return read;
}

function isEvent(v: unknown): v is RunEvent {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const e = v as Record<string, unknown>;
  return (
    typeof e.at === "string" &&
    typeof e.event === "string" &&
    typeof e.text === "string" &&
    (e.task === undefined || typeof e.task === "string") &&
    (e.phase === undefined || typeof e.phase === "number")
  );
}
