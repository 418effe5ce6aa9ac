import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { countingGit } from "./calls.js";

/**
 * Whole-process latency of each plugin hook (`_hook <event>` with a sample input on stdin), in a
 * task worktree made by `start` and in a plain repository (the do-nothing path every session
 * outside a feature takes), beside a bare Node start; and how many git processes each starts
 * (a logging `git` on the PATH). Stop is measured twice: while another task of the phase works
 * (the common case), and as the phase's last (every other task stopped, most of their worktrees
 * unchecked: it checks them).
 */
export interface HookBench {
  bare: number;
  rows: Array<{ event: string; where: string; ms: number; gitProcesses: number }>;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timed(args: string[], input: string, env: NodeJS.ProcessEnv = process.env): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { input, env, stdio: ["pipe", "ignore", "ignore"] });
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export function benchHooks(helper: string, work: string, runs = 30): HookBench {
  const env = { ...process.env, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@example.invalid", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@example.invalid" };
  const repo = join(work, "hooks-app");
  mkdirSync(join(repo, ".parallel/add-login"), { recursive: true });
  const git = (...args: string[]) => spawnSync("git", args, { cwd: repo, env, stdio: "ignore" });
  git("init", "-q", "-b", "main");
  git("commit", "-q", "--allow-empty", "-m", "init");
  // One phase of 8 tasks.
  const tasks = Array.from({ length: 8 }, (_, i) => `  - {id: t${i}, title: Part ${i}, owns: ["src/part${i}/", "docs/part${i}/**/*.md"]}`);
  writeFileSync(join(repo, ".parallel/add-login/plan.yaml"), `version: 1\nfeature: Add login\nmaxParallel: 8\ntasks:\n${tasks.join("\n")}\n`);
  const started = spawnSync(process.execPath, [helper, "start", "--deps", "none"], { cwd: repo, env, stdio: "ignore" });
  if (started.status !== 0) throw new Error("start failed");
  const wt = (i: number) => realpathSync(join(work, `hooks-app-add-login-t${i}`));
  // A transcript of 200 assistant messages for Stop to sum.
  const transcript = join(work, "transcript.jsonl");
  writeFileSync(
    transcript,
    Array.from({ length: 200 }, (_, i) =>
      JSON.stringify({
        type: "assistant",
        message: { id: `m${i}`, role: "assistant", content: [{ type: "text", text: `step ${i}` }], usage: { input_tokens: 100, output_tokens: 50, cache_read_input_tokens: 2000 } },
      }),
    ).join("\n") + "\n",
  );
  const plain = join(work, "hooks-plain");
  mkdirSync(plain);
  spawnSync("git", ["init", "-q", plain], { stdio: "ignore" });
  // A linked worktree of the user's own: the hook follows its .git link, finds no task rules there.
  const own = join(work, "hooks-own");
  git("worktree", "add", "-q", "-b", "own", own);
  const input = (event: string, cwd: string, extra: Record<string, unknown> = {}) => JSON.stringify({ session_id: "bench", cwd, hook_event_name: event, ...extra });
  const hook = (event: string, i: number) => timed([helper, "_hook", event], input(event, wt(i)));
  // t2..t7 stopped while t0 worked: their worktrees are unchecked.
  hook("SessionStart", 0);
  for (let i = 2; i < 8; i++) hook("Stop", i);
  const stop = { transcript_path: transcript, last_assistant_message: "done" };
  // Each row: what runs before it (untimed), then the timed event.
  const rows: Array<{ event: string; where: string; before?: () => void; event_: string; cwd: string; extra: Record<string, unknown> }> = [
    { event: "SessionStart", where: "task worktree", event_: "SessionStart", cwd: wt(0), extra: { source: "startup" } },
    { event: "PreToolUse", where: "task worktree", event_: "PreToolUse", cwd: wt(0), extra: { tool_name: "Write", tool_input: { file_path: "src/part1/x.ts", content: "x" } } },
    { event: "Stop", where: "task worktree, another task at work", before: () => hook("UserPromptSubmit", 1), event_: "Stop", cwd: wt(0), extra: stop },
    { event: "Stop", where: "task worktree, the phase's last", before: () => hook("Stop", 1), event_: "Stop", cwd: wt(0), extra: stop },
    { event: "SessionEnd", where: "task worktree", event_: "SessionEnd", cwd: wt(0), extra: { transcript_path: transcript, reason: "other" } },
    { event: "PreToolUse", where: "plain repository", event_: "PreToolUse", cwd: plain, extra: { tool_name: "Write", tool_input: { file_path: "src/part1/x.ts", content: "x" } } },
    { event: "PreToolUse", where: "linked worktree of no feature", event_: "PreToolUse", cwd: own, extra: { tool_name: "Write", tool_input: { file_path: "src/part1/x.ts", content: "x" } } },
  ];
  const bare: number[] = [];
  const samples = rows.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    bare.push(timed(["-e", "0"], ""));
    rows.forEach((row, k) => {
      row.before?.();
      samples[k]!.push(timed([helper, "_hook", row.event_], input(row.event_, row.cwd, row.extra)));
    });
  }
  const log = join(work, "hook-git-calls.log");
  const counting = countingGit(work, log);
  const gitProcesses = rows.map((row) => {
    row.before?.();
    rmSync(log, { force: true });
    timed([helper, "_hook", row.event_], input(row.event_, row.cwd, row.extra), counting);
    try {
      return readFileSync(log, "utf8").split("\n").filter(Boolean).length;
    } catch {
      return 0;
    }
  });
  return { bare: median(bare), rows: rows.map((row, k) => ({ event: row.event, where: row.where, ms: median(samples[k]!), gitProcesses: gitProcesses[k]! })) };
}
