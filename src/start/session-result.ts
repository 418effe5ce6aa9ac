import { open } from "node:fs/promises";
import { addTokens, usageTokens, ZERO_TOKENS, type Tokens } from "../hooks/ledger.js";

/**
 * What Claude Code reported at the end of each headless run of a session: its `result` events
 * in the session's stream-json log (one per `claude -p`, so a resumed session's log holds several).
 */
export interface SessionResults {
  /** Results seen: launches plus resumes that finished. */
  runs: number;
  /** Summed `total_cost_usd`, as Claude Code computed it. */
  costUsd: number;
  /** Summed `num_turns`. */
  turns: number;
  /** Summed `usage` of the results. */
  tokens: Tokens;
  /** Whether the last result is an error (`is_error`, or a subtype other than success). */
  lastIsError: boolean;
  /** The last result's text, when it has one. */
  lastResult?: string;
}

/** Logs past this size are read from their end only: result events are single lines at the end of each run. */
const MAX_READ = 16 * 1024 * 1024;

/** The result events of a stream-json log; undefined when the log is missing or holds none. Never throws. */
export async function readSessionResults(log: string): Promise<SessionResults | undefined> {
  let text: string;
  try {
    const file = await open(log, "r");
    try {
      const { size } = await file.stat();
      const length = Math.min(size, MAX_READ);
      const buffer = Buffer.alloc(length);
      await file.read(buffer, 0, length, size - length);
      text = buffer.toString("utf8");
    } finally {
      await file.close();
    }
  } catch {
    return undefined;
  }
  return parseSessionResults(text);
}

/** The result events in stream-json text. Pure. */
export function parseSessionResults(text: string): SessionResults | undefined {
  let summary: SessionResults | undefined;
  for (const line of text.split("\n")) {
    if (!line.includes('"result"')) continue;
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line);
    } catch {
      continue;
    }
    if (!event || event.type !== "result") continue;
    const cost = typeof event.total_cost_usd === "number" && Number.isFinite(event.total_cost_usd) && event.total_cost_usd > 0 ? event.total_cost_usd : 0;
    const turns = typeof event.num_turns === "number" && Number.isInteger(event.num_turns) && event.num_turns > 0 ? event.num_turns : 0;
    const usage = (event.usage && typeof event.usage === "object" ? event.usage : {}) as Record<string, unknown>;
    const before = summary?.tokens ?? ZERO_TOKENS;
    summary = {
      runs: (summary?.runs ?? 0) + 1,
      costUsd: (summary?.costUsd ?? 0) + cost,
      turns: (summary?.turns ?? 0) + turns,
      tokens: addTokens(before, usageTokens(usage)),
      lastIsError: event.is_error === true || (typeof event.subtype === "string" && event.subtype !== "success"),
      ...(typeof event.result === "string" && { lastResult: event.result }),
    };
  }
  return summary;
}
