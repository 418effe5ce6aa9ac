import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { jsonLine, singleLine } from "../text/single-line.js";
import { terminalSafe } from "../text/terminal.js";

/** What `run` reports: one JSON object per line in `<state>/run/events.jsonl`, and on `--json`. */
export type RunEvent = { at: string; event: string; task?: string; phase?: number; text: string } & Record<string, unknown>;

export type RunEventInput = { event: string; task?: string; phase?: number; text: string } & Record<string, unknown>;

/** One row of the live table. */
export interface TaskRow {
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
  ) {}

  async emit(input: RunEventInput): Promise<void> {
    const event = { at: new Date().toISOString(), ...input } as RunEvent;
    await mkdir(dirname(this.eventsPath), { recursive: true });
    await appendFile(this.eventsPath, jsonLine(event) + "\n");
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
      r.usd ? `$${r.usd.toFixed(2)}` : "",
      r.last,
    ]);
    const widths = header.map((h, i) => Math.min(i === 7 ? 60 : 24, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
    const line = (cells: string[]) => cells.map((c, i) => terminalSafe(c.length > widths[i]! ? c.slice(0, widths[i]! - 1) + "…" : c).padEnd(widths[i]!)).join("  ").trimEnd();
    const lines = [line(header), ...rows.map(line), "", ...this.recent.map((l) => terminalSafe(l.slice(0, 120)))];
    // Up to the table's first line, clear to the end of the screen, draw again.
    this.tty((this.drawn ? `\x1b[${this.drawn}A\r\x1b[J` : "") + lines.join("\n") + "\n");
    this.drawn = lines.length;
  }
}

/** The events of a run, oldest first (a damaged line is skipped). */
export async function readEvents(path: string): Promise<RunEvent[]> {
  const text = await readFile(path, "utf8").catch(() => "");
  const events: RunEvent[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      events.push(JSON.parse(line) as RunEvent);
    } catch {}
  }
  return events;
}
