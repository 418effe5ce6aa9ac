import { MAX_BYTES } from "../core/state/bounds.js";
import { forEachLine, lineName, sizeText, type LineReading } from "../fs/read-regular.js";
import { usageTokens, ZERO_TOKENS, type Tokens } from "./ledger.js";

/** A stream-json `result` event: what Claude Code reports at the end of each `claude -p`. Fields of another type are left out. */
export interface ResultEvent {
  subtype?: string;
  is_error?: boolean;
  session_id?: string;
  /** Never negative. */
  total_cost_usd?: number;
  /** A whole number, never negative. */
  num_turns?: number;
  /** Its `usage`, counted (anything odd counts 0). */
  tokens: Tokens;
  result?: string;
}

/** The result events found in (part of) a session's log; each line that may be one but is not readable, named. */
interface ResultsRead {
  events: ResultEvent[];
  skipped: string[];
  /** Where the last complete line ends: the `from` of a later reading. */
  end: number;
}

const RESULT = Buffer.from('"type":"result"');

/**
 * The result events of a session's stream-json log, read line by line with bounded memory
 * (src/fs/read-regular.ts): from `from`, or in its `last` bytes only. A session can write into its
 * log, so only lines that may be a result are parsed, and each field is checked. A missing log has
 * none; anything else in its place (a FIFO, a link) is an UnsafeFileError.
 */
export async function readResults(log: string, reading: Omit<LineReading, "maxLine" | "only">): Promise<ResultsRead> {
  const read: ResultsRead = { events: [], skipped: [], end: reading.from ?? 0 };
  const done = await forEachLine(log, { ...reading, maxLine: MAX_BYTES.sessionLogLine, only: RESULT }, (line) => {
    if (line.bytes === undefined) return void read.skipped.push(`${lineName(log, line)}: longer than the ${sizeText(MAX_BYTES.sessionLogLine)} a line may be`);
    let value: unknown;
    try {
      value = JSON.parse(line.bytes.toString("utf8"));
    } catch {
      return void read.skipped.push(`${lineName(log, line)}: not JSON`);
    }
    const event = resultOf(value);
    if (event) read.events.push(event);
  });
  read.end = done?.end ?? read.end;
  return read;
}

/** A result event's fields that have their type (a negative or infinite cost counts as none). Pure. */
export function resultOf(value: unknown): ResultEvent | undefined {
  if (typeof value !== "object" || value === null || (value as { type?: unknown }).type !== "result") return undefined;
  const v = value as Record<string, unknown>;
  return {
    ...(typeof v.subtype === "string" && { subtype: v.subtype }),
    ...(typeof v.is_error === "boolean" && { is_error: v.is_error }),
    ...(typeof v.session_id === "string" && { session_id: v.session_id }),
    ...(typeof v.total_cost_usd === "number" && Number.isFinite(v.total_cost_usd) && v.total_cost_usd >= 0 && { total_cost_usd: v.total_cost_usd }),
    ...(typeof v.num_turns === "number" && Number.isInteger(v.num_turns) && v.num_turns >= 0 && { num_turns: v.num_turns }),
    tokens: v.usage && typeof v.usage === "object" ? usageTokens(v.usage as Record<string, unknown>) : ZERO_TOKENS,
    ...(typeof v.result === "string" && { result: v.result }),
  };
}
