import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { median, run, time } from "./util.js";

/**
 * Syncing 8 branches in a repository of 20,000 files: `claude-parallel sync` (checks, in-memory
 * merges, compare-and-swap publish) beside checking out the integration branch in a worktree and
 * running `git merge` for each branch.
 */
export function benchSync(helper: string, work: string): { ours: number; plain: number; files: number } {
  const rounds = [0, 1, 2].map(() => syncRound(helper, work));
  return { ours: median(rounds.map((r) => r.ours)), plain: median(rounds.map((r) => r.plain)), files: rounds[0]!.files };
}

function syncRound(helper: string, work: string): { ours: number; plain: number; files: number } {
  const files = 20_000;
  const repo = join(work, "big", "app");
  mkdirSync(repo, { recursive: true });
  for (let d = 0; d < 100; d++) {
    mkdirSync(join(repo, `pkg${d}`));
    for (let f = 0; f < files / 100; f++) writeFileSync(join(repo, `pkg${d}`, `f${f}.txt`), `file ${d}/${f}\n`);
  }
  const tasks = Array.from({ length: 8 }, (_, i) => `  - {id: t${i}, title: T${i}, owns: [pkg${i}/]}`);
  mkdirSync(join(repo, ".parallel", "big"), { recursive: true });
  writeFileSync(join(repo, ".parallel", "big", "plan.yaml"), `version: 1\nfeature: Big\nmaxParallel: 8\ntasks:\n${tasks.join("\n")}\n`);
  run("git", ["init", "-q", "-b", "main"], repo);
  run("git", ["add", "-A"], repo);
  run("git", ["commit", "-q", "-m", "init"], repo);
  run(process.execPath, [helper, "start", "--deps", "none"], repo);
  for (let i = 0; i < 8; i++) {
    const wt = join(repo, "..", `app-big-t${i}`);
    for (let f = 0; f < 5; f++) writeFileSync(join(wt, `pkg${i}`, `f${f}.txt`), `changed by t${i}\n`);
    run("git", ["commit", "-q", "-am", `t${i}`], wt);
  }
  const branches = Array.from({ length: 8 }, (_, i) => `feature/big-t${i}`);

  const plainTree = join(work, "big", "plain");
  const plain = time(() => {
    run("git", ["worktree", "add", "-q", "-b", "plain-integration", plainTree, "feature/big"], repo);
    for (const b of branches) run("git", ["merge", "--no-ff", "-q", "-m", `Merge ${b}`, b], plainTree);
  });
  const ours = time(() => run(process.execPath, [helper, "sync", "--no-next", "--keep-worktrees", "--no-verify"], repo));
  rmSync(join(work, "big"), { recursive: true, force: true });
  return { ours, plain, files };
}
