import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { benchEnv, median, run } from "./util.js";

/**
 * Whole-process latency of the helper calls a chat turn runs (`status`, `context`) in a repository
 * with 8 live task worktrees, beside a bare Node start measured in the same rounds, and how many
 * git processes each call starts (counted by a `git` on the PATH that logs and runs the real one):
 * the count does not depend on the machine's load.
 */
export interface CallBench {
  bare: number;
  rows: Array<{ call: string; ms: number; gitProcesses: number }>;
}

export function timedNode(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd, env, stdio: "ignore" });
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** A PATH on which `git` logs each call to `log` and runs the real git. */
export function countingGit(work: string, log: string): NodeJS.ProcessEnv {
  const real = spawnSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).stdout.trim();
  const dir = join(work, "counting-git");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "git"), `#!/bin/sh\necho x >> "${log}"\nexec "${real}" "$@"\n`);
  chmodSync(join(dir, "git"), 0o755);
  return { ...process.env, PATH: `${dir}:${process.env.PATH}` };
}

export function gitProcesses(args: string[], cwd: string, work: string): number {
  const log = join(work, "git-calls.log");
  rmSync(log, { force: true });
  const r = spawnSync(process.execPath, args, { cwd, env: countingGit(work, log), stdio: "ignore" });
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}`);
  try {
    return readFileSync(log, "utf8").split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
}

export function benchCalls(helper: string, work: string, runs: number): CallBench {
  const repo = join(work, "calls", "app");
  mkdirSync(join(repo, ".parallel", "eight"), { recursive: true });
  for (let i = 0; i < 8; i++) {
    mkdirSync(join(repo, `src/part${i}`), { recursive: true });
    writeFileSync(join(repo, `src/part${i}/a.txt`), "base\n");
  }
  const tasks = Array.from({ length: 8 }, (_, i) => `  - {id: t${i}, title: Part ${i}, owns: [src/part${i}/]}`);
  writeFileSync(join(repo, ".parallel/eight/plan.yaml"), `version: 1\nfeature: Eight\nmaxParallel: 8\ntasks:\n${tasks.join("\n")}\n`);
  run("git", ["init", "-q", "-b", "main"], repo);
  run("git", ["add", "-A"], repo);
  run("git", ["commit", "-q", "-m", "init"], repo);
  run(process.execPath, [helper, "start", "--deps", "none"], repo);
  for (let i = 0; i < 8; i++) {
    const wt = join(repo, "..", `app-eight-t${i}`);
    writeFileSync(join(wt, `src/part${i}/a.txt`), `changed by t${i}\n`);
    run("git", ["commit", "-q", "-am", `t${i}`], wt);
  }
  // `status` keeps its conflict prediction by commits: measured as it is between two commits, and
  // as the first call after a branch moved (the kept prediction removed before each run).
  const kept = join(repo, ".git", "parallel", "eight", "status-prediction.json");
  const forget = () => rmSync(kept, { force: true });
  const calls: Array<[string, string[], (() => void)?]> = [
    ["`status`", [helper, "status"]],
    ["`status`, first call after a branch moved", [helper, "status"], forget],
    ["`context`", [helper, "context"]],
  ];
  const bare: number[] = [];
  const samples = calls.map(() => [] as number[]);
  for (const [, args] of calls) timedNode(args, repo, benchEnv); // warm the file cache
  for (let i = 0; i < runs; i++) {
    bare.push(timedNode(["-e", "0"], repo));
    calls.forEach(([, args, before], k) => {
      before?.();
      samples[k]!.push(timedNode(args, repo, benchEnv));
    });
  }
  const rows = calls.map(([call, args, before], k) => {
    before?.();
    return { call, ms: median(samples[k]!), gitProcesses: gitProcesses(args, repo, work) };
  });
  rmSync(join(work, "calls"), { recursive: true, force: true });
  return { bare: median(bare), rows };
}
