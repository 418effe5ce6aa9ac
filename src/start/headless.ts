import { spawn } from "node:child_process";
import { mkdir, open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { EnvironmentError } from "../errors.js";
import { writeFileAtomic } from "../fs/atomic.js";
import type { Repo } from "../git/repo.js";
import { helperPath } from "../self.js";
import { featureDir } from "../state/store.js";
import { which, type Session } from "./launch.js";

/** What the supervisor runs for one phase: written by `start`, read by `_supervise`. */
interface HeadlessJob {
  claude: string;
  maxParallel: number;
  sessions: Array<{ taskId: string; worktree: string; args: string[] }>;
}

/** A headless session's record, in `<state>/sessions/<task>.json`. */
export interface SessionRecord {
  pid?: number;
  startedAt?: string;
  endedAt?: string;
  exitCode?: number | null;
  log: string;
}

export function sessionsDir(commonDir: string, slug: string): string {
  return join(featureDir(commonDir, slug), "sessions");
}

export async function readSessionRecord(commonDir: string, slug: string, taskId: string): Promise<SessionRecord | undefined> {
  try {
    return JSON.parse(await readFile(join(sessionsDir(commonDir, slug), `${taskId}.json`), "utf8")) as SessionRecord;
  } catch {
    return undefined;
  }
}

export function processAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface HeadlessLaunch {
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
  const claude = await which("claude");
  if (!claude) throw new EnvironmentError("the `claude` command is not on PATH", "install Claude Code (npm install -g @anthropic-ai/claude-code), or use --launch print");
  const dir = sessionsDir(l.repo.commonDir, l.slug);
  await mkdir(dir, { recursive: true });
  const todo: HeadlessJob["sessions"] = [];
  for (const s of l.sessions) {
    const record = await readSessionRecord(l.repo.commonDir, l.slug, s.taskId);
    if (record && (processAlive(record.pid) || record.exitCode === 0)) {
      say(`  ${s.taskId}: ${record.exitCode === 0 ? "already finished" : `already running (pid ${record.pid})`}`);
      continue;
    }
    const args = ["-p", s.firstPrompt, "--output-format", "stream-json", "--verbose", ...s.claudeArgs];
    if (l.permissionMode) args.push("--permission-mode", l.permissionMode);
    if (l.model) args.push("--model", l.model);
    todo.push({ taskId: s.taskId, worktree: s.worktree, args });
    await writeFileAtomic(join(dir, `${s.taskId}.json`), JSON.stringify({ log: join(dir, `${s.taskId}.jsonl`) } satisfies SessionRecord) + "\n");
  }
  if (todo.length === 0) return;
  const jobFile = join(dir, `phase-${l.phase}.job.json`);
  await writeFileAtomic(jobFile, JSON.stringify({ claude, maxParallel: l.maxParallel, sessions: todo } satisfies HeadlessJob));
  const supervisor = spawn(process.execPath, [helperPath(), "_supervise", jobFile], { detached: true, stdio: "ignore", cwd: l.repo.root });
  supervisor.unref();
  say(`Headless: ${todo.length} ${todo.length === 1 ? "session" : "sessions"} started in the background (at most ${l.maxParallel} at once; supervisor pid ${supervisor.pid}).`);
  say(`Logs: ${dir}/<task>.jsonl. Follow them with: claude-parallel status ${l.slug}`);
}

/** The detached supervisor: runs the job's sessions with bounded concurrency, recording each. */
export async function supervise(jobFile: string): Promise<void> {
  const job = JSON.parse(await readFile(jobFile, "utf8")) as HeadlessJob;
  const dir = join(jobFile, "..");
  const queue = [...job.sessions];
  const runOne = async (s: HeadlessJob["sessions"][number]) => {
    const logPath = join(dir, `${s.taskId}.jsonl`);
    const out = await open(logPath, "a");
    const err = await open(join(dir, `${s.taskId}.stderr`), "a");
    const child = spawn(job.claude, s.args, { cwd: s.worktree, stdio: ["ignore", out.fd, err.fd] });
    // Listen before any await, or a quick session's exit goes unseen.
    const exited = new Promise<number | null>((resolve) => {
      child.once("error", () => resolve(127));
      child.once("exit", (code) => resolve(code));
    });
    const record: SessionRecord = { pid: child.pid, startedAt: new Date().toISOString(), log: logPath };
    await writeFileAtomic(join(dir, `${s.taskId}.json`), JSON.stringify(record) + "\n");
    const exitCode = await exited;
    await Promise.all([out.close(), err.close()]);
    await writeFileAtomic(join(dir, `${s.taskId}.json`), JSON.stringify({ ...record, endedAt: new Date().toISOString(), exitCode }) + "\n");
  };
  const workers = Array.from({ length: Math.max(1, job.maxParallel) }, async () => {
    for (let s = queue.shift(); s; s = queue.shift()) await runOne(s);
  });
  await Promise.all(workers);
}
