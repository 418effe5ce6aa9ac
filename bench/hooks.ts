import { spawnSync } from "node:child_process";
import { mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Whole-process latency of each plugin hook (`_hook <event>` with a sample input on stdin), in a
 * task worktree made by `start` and in a plain repository (the do-nothing path every session
 * outside a feature takes), beside a bare Node start.
 */
export interface HookBench {
  bare: number;
  rows: Array<{ event: string; where: string; ms: number }>;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timed(args: string[], input: string): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { input, stdio: ["pipe", "ignore", "ignore"] });
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
  const tasks = Array.from({ length: 8 }, (_, i) => `  - {id: t${i}, title: Part ${i}, owns: ["src/part${i}/", "src/**/*.part${i}"]}`);
  writeFileSync(join(repo, ".parallel/add-login/plan.yaml"), `version: 1\nfeature: Add login\nmaxParallel: 8\ntasks:\n${tasks.join("\n")}\n`);
  const started = spawnSync(process.execPath, [helper, "start", "--deps", "none"], { cwd: repo, env, stdio: "ignore" });
  if (started.status !== 0) throw new Error("start failed");
  const wt = realpathSync(join(work, "hooks-app-add-login-t0"));
  // A transcript of 200 assistant messages for Stop to sum.
  const transcript = join(work, "transcript.jsonl");
  writeFileSync(
    transcript,
    Array.from({ length: 200 }, (_, i) =>
      JSON.stringify({ type: "assistant", message: { id: `m${i}`, role: "assistant", content: [{ type: "text", text: `step ${i}` }], usage: { input_tokens: 100, output_tokens: 50, cache_read_input_tokens: 2000 } } }),
    ).join("\n") + "\n",
  );
  const plain = join(work, "hooks-plain");
  mkdirSync(plain);
  spawnSync("git", ["init", "-q", plain], { stdio: "ignore" });
  const inputs: Array<[string, Record<string, unknown>]> = [
    ["SessionStart", { source: "startup" }],
    ["PreToolUse", { tool_name: "Write", tool_input: { file_path: "src/part1/x.ts", content: "x" } }],
    ["Stop", { transcript_path: transcript, last_assistant_message: "done" }],
    ["SessionEnd", { transcript_path: transcript, reason: "other" }],
  ];
  const bare: number[] = [];
  const samples = new Map<string, number[]>();
  for (let i = 0; i < runs; i++) {
    bare.push(timed(["-e", "0"], ""));
    for (const [where, cwd] of [["task worktree", wt], ["plain repository", plain]] as const) {
      for (const [event, extra] of inputs) {
        if (where === "plain repository" && event !== "PreToolUse") continue;
        const key = `${event}\0${where}`;
        const input = JSON.stringify({ session_id: "bench", cwd, hook_event_name: event, ...extra });
        samples.set(key, [...(samples.get(key) ?? []), timed([helper, "_hook", event], input)]);
      }
    }
  }
  return {
    bare: median(bare),
    rows: [...samples].map(([key, xs]) => {
      const [event, where] = key.split("\0") as [string, string];
      return { event, where, ms: median(xs) };
    }),
  };
}
