import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { forEachLineSync, readRegularSync, UnsafeFileError } from "../fs/read-regular.js";
import { boolean, int, literal, object, oneOf, optional, parseAs, record, string, type Infer } from "./shape.js";

/**
 * The session ledger: what the hooks of a task's session last saw, in
 * `<state folder>/sessions/<task>.hook.json`. Each session writes only its own task's record,
 * atomically (temporary file, then rename), so readers never see half of one. Checked on read
 * against its shape (./shape.ts: not zod, to keep the hooks fast).
 */

/** `paused: budget`: its task reached a budget; its tool calls are refused until the user approves more (src/budget/). */
export const SESSION_STATES = ["working", "waiting for input", "stopped", "failed", "ended", "paused: budget"] as const;
export type SessionHookState = (typeof SESSION_STATES)[number];

const count = int(0);
const TokensShape = object({ input: count, output: count, cacheRead: count, cacheWrite: count });
export type Tokens = Infer<typeof TokensShape>;

const HookRecordShape = object({
  version: literal(1),
  task: string(),
  state: oneOf(SESSION_STATES),
  /** When the session entered `state`. */
  since: string(),
  /** The last hook event seen, and when. */
  event: string(),
  at: string(),
  sessionId: optional(string()),
  /** Why it failed (StopFailure), or what it waits for (Notification). */
  detail: optional(string()),
  /** First line of the last assistant message. */
  lastMessage: optional(string()),
  /** Token usage per Claude Code session of this task (one per launch, resume or /clear). */
  sessions: record(TokensShape),
  /** Sessions started or resumed for the task (SessionStart from startup or resume): its attempts. */
  starts: optional(count),
  /**
   * The worktree when the session last stopped, checked only when no other task of the phase was
   * still at work (phase-done.ts): no uncommitted change, commits beyond the integration branch.
   */
  worktree: optional(object({ clean: boolean(), committed: boolean() })),
  /** The task worktree the session runs in: where the phase's last Stop checks it. */
  root: optional(string()),
});
export type HookRecord = Infer<typeof HookRecordShape>;
export type WorktreeFacts = NonNullable<HookRecord["worktree"]>;

const hookRecordPath = (stateDir: string, task: string) => join(stateDir, "sessions", `${task}.hook.json`);

export const ZERO_TOKENS: Tokens = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };

export function addTokens(a: Tokens, b: Tokens): Tokens {
  return { input: a.input + b.input, output: a.output + b.output, cacheRead: a.cacheRead + b.cacheRead, cacheWrite: a.cacheWrite + b.cacheWrite };
}

export function totalTokens(record: HookRecord): Tokens {
  return Object.values(record.sessions).reduce(addTokens, ZERO_TOKENS);
}

/** The tokens of a Messages API `usage` object (a transcript's, or a headless result's); anything odd counts 0. */
export function usageTokens(usage: Record<string, unknown>): Tokens {
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);
  return { input: num(usage.input_tokens), output: num(usage.output_tokens), cacheRead: num(usage.cache_read_input_tokens), cacheWrite: num(usage.cache_creation_input_tokens) };
}

export function parseHookRecord(text: string): HookRecord | undefined {
  return parseAs(HookRecordShape, text);
}

/** A record is small: at most 50 sessions' tokens and a few one-line texts. */
const MAX_RECORD = 1024 * 1024;

/**
 * A task's record, read as untrusted (any session can write in the state folder): a regular file of
 * at most MAX_RECORD, of the record's shape. Missing or not, undefined; `damaged` hears what is wrong.
 */
export function readHookRecord(stateDir: string, task: string, damaged?: (problem: string) => void): HookRecord | undefined {
  const path = hookRecordPath(stateDir, task);
  let bytes: Buffer | undefined;
  try {
    bytes = readRegularSync(path, MAX_RECORD);
  } catch (error) {
    damaged?.(error instanceof UnsafeFileError ? error.message : `${path} cannot be read (${(error as Error).message})`);
    return undefined;
  }
  if (bytes === undefined) return undefined;
  const record = parseHookRecord(bytes.toString("utf8"));
  if (!record) damaged?.(`${path} is not a session record (not JSON, or not of the record's shape)`);
  return record;
}

export function writeHookRecord(stateDir: string, record: HookRecord): void {
  const path = hookRecordPath(stateDir, record.task);
  mkdirSync(join(stateDir, "sessions"), { recursive: true });
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    // Exclusively: nothing put at that name beforehand (a FIFO would block the hook) is opened.
    writeFileSync(temp, JSON.stringify(record, null, 2) + "\n", { flag: "wx" });
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** What a transcript tells: its token usage and the last assistant message's text. */
interface TranscriptSummary {
  tokens: Tokens;
  lastMessage?: string;
}

/** Transcripts past this size are not read (the record keeps what it had): the hook must stay quick. */
const MAX_TRANSCRIPT = 64 * 1024 * 1024;
const ASSISTANT = Buffer.from('"assistant"');

/**
 * Reads a Claude Code transcript (JSONL) defensively, line by line (src/fs/read-regular.ts): not a
 * regular file, oversized, or a damaged line, and it or the line is skipped. An assistant message
 * is written as several lines (one per content block) that repeat its usage, so usage counts once
 * per message id.
 */
export function readTranscript(path: string): TranscriptSummary | undefined {
  const usage = new Map<string, Record<string, unknown>>();
  let lastMessage: string | undefined;
  let n = 0;
  const onLine = (bytes: Buffer | undefined) => {
    if (bytes === undefined) return;
    let entry: { type?: unknown; message?: { id?: unknown; role?: unknown; usage?: unknown; content?: unknown }; uuid?: unknown } | undefined;
    try {
      entry = JSON.parse(bytes.toString("utf8"));
    } catch {
      return;
    }
    const message = entry?.message;
    if (entry?.type !== "assistant" || !message || typeof message !== "object") return;
    if (message.usage && typeof message.usage === "object") {
      const id = typeof message.id === "string" ? message.id : typeof entry.uuid === "string" ? entry.uuid : `#${n++}`;
      usage.set(id, message.usage as Record<string, unknown>);
    }
    if (Array.isArray(message.content)) {
      const texts = message.content.filter((b: { type?: unknown; text?: unknown }) => b?.type === "text" && typeof b.text === "string" && b.text.trim() !== "");
      if (texts.length) lastMessage = texts.map((b: { text: string }) => b.text).join("\n");
    }
  };
  try {
    if (!forEachLineSync(path, { maxBytes: MAX_TRANSCRIPT, maxLine: MAX_TRANSCRIPT, complete: true, only: ASSISTANT }, (line) => onLine(line.bytes))) return undefined;
  } catch {
    return undefined;
  }
  const tokens = [...usage.values()].map(usageTokens).reduce(addTokens, ZERO_TOKENS);
  return { tokens, ...(lastMessage !== undefined && { lastMessage }) };
}

/** The first non-empty line of a message, at most 200 characters. */
export function firstLine(text: string | undefined): string | undefined {
  const line = text
    ?.split("\n")
    .map((l) => l.trim())
    .find((l) => l !== "");
  if (line === undefined) return undefined;
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** The record after an event: `since` moves only when the state changes. Pure. */
export function nextRecord(
  previous: HookRecord | undefined,
  event: {
    task: string;
    name: string;
    at: string;
    state?: SessionHookState;
    sessionId?: string;
    detail?: string;
    lastMessage?: string;
    tokens?: Tokens;
    /** A new attempt: a session started or resumed. */
    start?: boolean;
    /** The worktree as just checked; null: not checked now (what was recorded before no longer holds). */
    worktree?: WorktreeFacts | null;
    /** The task worktree. */
    root?: string;
  },
): HookRecord {
  // A session paused by its budget that then stops or ends (its Stop, its SessionEnd) stays paused, with its reason, until it works again.
  const keepPause = previous?.state === "paused: budget" && (event.name === "Stop" || event.name === "SessionEnd");
  const state = keepPause ? previous.state : (event.state ?? previous?.state ?? "working");
  const sessions = { ...(previous?.sessions ?? {}) };
  if (event.sessionId !== undefined) sessions[event.sessionId] = event.tokens ?? sessions[event.sessionId] ?? { ...ZERO_TOKENS };
  // Keep the record small: the most recent sessions only.
  const ids = Object.keys(sessions);
  for (const id of ids.slice(0, Math.max(0, ids.length - 50))) delete sessions[id];
  const detail = event.state === undefined || keepPause ? previous?.detail : event.detail;
  const lastMessage = event.lastMessage ?? previous?.lastMessage;
  const starts = (previous?.starts ?? 0) + (event.start ? 1 : 0);
  // What the worktree looked like when the session stopped holds until the session works again.
  const worktree = event.worktree === null ? undefined : (event.worktree ?? (state === "stopped" || state === "ended" ? previous?.worktree : undefined));
  const root = event.root ?? previous?.root;
  return {
    version: 1,
    task: event.task,
    state,
    since: previous && previous.state === state ? previous.since : event.at,
    event: event.name,
    at: event.at,
    ...((event.sessionId ?? previous?.sessionId) !== undefined && { sessionId: event.sessionId ?? previous?.sessionId }),
    ...(detail !== undefined && { detail }),
    ...(lastMessage !== undefined && { lastMessage }),
    sessions,
    ...(starts > 0 && { starts }),
    ...(worktree !== undefined && { worktree }),
    ...(root !== undefined && { root }),
  };
}

/** Whether a session is at rest: it stopped or ended (not working, waiting for input, or failed). */
export const atRest = (r: HookRecord | undefined): r is HookRecord => r !== undefined && (r.state === "stopped" || r.state === "ended");

/**
 * Whether a phase is done as far as its sessions' records tell: every task's session stopped (or
 * ended) with a clean worktree and commits of its own. Pure.
 */
export function phaseDone(records: ReadonlyArray<HookRecord | undefined>): boolean {
  return records.length > 0 && records.every((r) => atRest(r) && r.worktree?.clean === true && r.worktree.committed);
}
