import { createHash, randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { StateError } from "../core/errors.js";
import { openOutputLogs } from "../fs/append-regular.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { readRegular } from "../fs/read-regular.js";
import { MAX_BYTES } from "../core/state/bounds.js";
import { quote } from "../core/text/shell.js";
import type { Repo } from "../git/repo.js";
import { helperPath } from "../self.js";
import { sessionsDir } from "../core/state/paths.js";
import { readJsonFile } from "../feature/store.js";
import { SessionRecordSchema, type SessionRecord } from "../core/state/state-schema.js";
import { processAlive } from "../process-identity.js";
import { runToFiles, spawnDetached } from "../proc.js";
import { claudeBinary, type Session } from "./launch.js";

/** What the supervisor runs for one phase: written by `start`, read by `_supervise`. */
interface HeadlessJob {
  claude: string;
  maxParallel: number;
  sessions: Array<{ taskId: string; worktree: string; args: string[]; sessionId: string }>;
}

/**
 * A headless session's record: undefined when there is none. A damaged one (a session can write
 * there) is a StateError: then nothing is known of the session, which may still be running, so
 * each caller does what is safe when a session may be running.
 */
export async function readSessionRecord(commonDir: string, slug: string, taskId: string): Promise<SessionRecord | undefined> {
  const path = join(sessionsDir(commonDir, slug), `${taskId}.json`);
  return readJsonFile(path, SessionRecordSchema, `once no claude session runs in the task's worktree, remove ${quote(path)}`, MAX_BYTES.sessionRecord);
}

interface HeadlessLaunch {
  repo: Repo;
  slug: string;
  phase: number;
  maxParallel: number;
  sessions: Session[];
  permissionMode?: string;
  model?: string;
}

/**
 * Starts a detached supervisor that runs `claude -p` per task (at most maxParallel at once) and
 * records each one's PID, log and exit code. Sessions already running or done are not restarted.
 */
export async function launchHeadless(l: HeadlessLaunch, say: (line: string) => void): Promise<void> {
  const claude = await claudeBinary("use --launch print");
  const dir = sessionsDir(l.repo.commonDir, l.slug);
  await mkdir(dir, { recursive: true });
  const todo: HeadlessJob["sessions"] = [];
  for (const s of l.sessions) {
    let record;
    try {
      record = await readSessionRecord(l.repo.commonDir, l.slug, s.taskId);
    } catch (error) {
      if (!(error instanceof StateError)) throw error;
      // Its session may be running: a second one in the same worktree is never started.
      say(`  ${s.taskId}: not launched: ${error.file} ${error.problem}, so whether its session still runs is unknown; ${error.fix}, then run this again`);
      continue;
    }
    if (record && (processAlive(record.pid) || record.exitCode === 0)) {
      say(`  ${s.taskId}: ${record.exitCode === 0 ? "already finished" : `already running (pid ${record.pid})`}`);
      continue;
    }
    // A session id chosen here and recorded, so the session can be resumed (claude --resume <id>).
    const sessionId = randomUUID();
    const args = ["-p", s.firstPrompt, "--output-format", "stream-json", "--verbose", "--session-id", sessionId, ...s.claudeArgs];
    if (l.permissionMode) args.push("--permission-mode", l.permissionMode);
    if (l.model) args.push("--model", l.model);
    todo.push({ taskId: s.taskId, worktree: s.worktree, args, sessionId });
    await writeFileAtomic(join(dir, `${s.taskId}.json`), JSON.stringify({ log: join(dir, `${s.taskId}.jsonl`), sessionId } satisfies SessionRecord) + "\n");
  }
  if (todo.length === 0) return;
  const jobFile = join(dir, `phase-${l.phase}.job.json`);
  const job = JSON.stringify({ claude, maxParallel: l.maxParallel, sessions: todo } satisfies HeadlessJob);
  await writeFileAtomic(jobFile, job);
  // The job's digest goes along: a job file changed meanwhile (a session can write there) is not run.
  const supervisor = spawnDetached(process.execPath, [helperPath(), "_supervise", jobFile, digestOf(job)], l.repo.root);
  say(`Headless: ${todo.length} ${todo.length === 1 ? "session" : "sessions"} started in the background (at most ${l.maxParallel} at once; supervisor pid ${supervisor}).`);
  say(`Logs: ${dir}/<task>.jsonl. Follow them with: claude-parallel status ${l.slug}`);
}

const digestOf = (job: string | Buffer) => createHash("sha256").update(job).digest("hex");

/** The detached supervisor: runs the job's sessions with bounded concurrency, recording each. */
export async function supervise(jobFile: string, digest: string | undefined): Promise<void> {
  const text = await readRegular(jobFile, MAX_BYTES.headlessJob);
  if (text === undefined || digestOf(text) !== digest) throw new StateError(jobFile, "is not the job `start` wrote (missing, or changed since)", "run start again");
  const job = JSON.parse(text.toString("utf8")) as HeadlessJob;
  const dir = join(jobFile, "..");
  const queue = [...job.sessions];
  const runOne = async (s: HeadlessJob["sessions"][number]) => {
    const logPath = join(dir, `${s.taskId}.jsonl`);
    const [out, err] = await openOutputLogs(logPath, join(dir, `${s.taskId}.stderr`));
    let pid: number | undefined;
    const exited = runToFiles(job.claude, s.args, s.worktree, out.fd, err.fd, (p) => (pid = p));
    const record: SessionRecord = { pid, startedAt: new Date().toISOString(), log: logPath, sessionId: s.sessionId };
    await writeFileAtomic(join(dir, `${s.taskId}.json`), JSON.stringify(record) + "\n");
    const exitCode = await exited;
    await Promise.all([out.close(), err.close()]);
    await writeFileAtomic(join(dir, `${s.taskId}.json`), JSON.stringify({ ...record, endedAt: new Date().toISOString(), exitCode }) + "\n");
  };
  const workers = Array.from({ length: Math.max(1, job.maxParallel) }, async () => {
    // A session whose log cannot be opened (something not ours in its place) is not run; the others are.
    for (let s = queue.shift(); s; s = queue.shift()) await runOne(s).catch(() => undefined);
  });
  await Promise.all(workers);
}
