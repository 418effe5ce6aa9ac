import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { benchEnv, median, run, time } from "./util.js";

/**
 * `claude-parallel sync --no-verify` (checks, in-memory merges, one ref transaction) beside the
 * least any sync must do: the raw script of `git merge-tree --write-tree` + `git commit-tree` per
 * branch and one `git update-ref`, and beside checking the integration branch out in a worktree
 * and running `git merge` per branch. Each branch changes 5 files of its own folder.
 */
export interface SyncRow {
  branches: number;
  files: number;
  ours: number;
  raw: number;
  merge: number;
}

const out = (cmd: string, args: string[], cwd: string, input?: string) => execFileSync(cmd, args, { cwd, env: benchEnv, input, encoding: "utf8" }).trim();

/** One repository of `files` files and a started phase of `branches` tasks with one commit each. */
function prepare(helper: string, dir: string, branches: number, files: number): string {
  const repo = join(dir, "app");
  const folders = Math.max(branches, 100);
  mkdirSync(repo, { recursive: true });
  for (let d = 0; d < folders; d++) {
    mkdirSync(join(repo, `pkg${d}`));
    for (let f = 0; f < files / folders; f++) writeFileSync(join(repo, `pkg${d}`, `f${f}.txt`), `file ${d}/${f}\n`);
  }
  const tasks = Array.from({ length: branches }, (_, i) => `  - {id: t${i}, title: T${i}, owns: [pkg${i}/]}`);
  mkdirSync(join(repo, ".parallel", "big"), { recursive: true });
  writeFileSync(join(repo, ".parallel", "big", "plan.yaml"), `version: 1\nfeature: Big\nmaxParallel: 64\ntasks:\n${tasks.join("\n")}\n`);
  run("git", ["init", "-q", "-b", "main"], repo);
  run("git", ["add", "-A"], repo);
  run("git", ["commit", "-q", "-m", "init"], repo);
  run(process.execPath, [helper, "start", "--deps", "none"], repo);
  for (let i = 0; i < branches; i++) {
    const wt = join(repo, "..", `app-big-t${i}`);
    for (let f = 0; f < 5; f++) writeFileSync(join(wt, `pkg${i}`, `f${f}.txt`), `changed by t${i}\n`);
    run("git", ["commit", "-q", "-am", `t${i}`], wt);
  }
  return repo;
}

/**
 * Median of `rounds` runs of each method on one prepared repository: between runs the integration
 * branch, the backup refs and the feature's state file are put back as they were.
 */
export function benchSyncCase(helper: string, work: string, branches: number, files: number, rounds: number): SyncRow {
  const dir = join(work, `sync-${branches}-${files}`);
  const repo = prepare(helper, dir, branches, files);
  const tasks = Array.from({ length: branches }, (_, i) => `refs/heads/feature/big-t${i}`);
  const start = out("git", ["rev-parse", "refs/heads/feature/big"], repo);
  const stateFile = join(repo, ".git", "parallel", "big", "state.json");
  const state = readFileSync(stateFile, "utf8");
  const reset = () => {
    run("git", ["update-ref", "refs/heads/feature/big", start], repo);
    const backups = out("git", ["for-each-ref", "--format=%(refname)", "refs/parallel/"], repo).split("\n").filter(Boolean);
    if (backups.length) out("git", ["update-ref", "--stdin"], repo, backups.map((r) => `delete ${r}\n`).join(""));
    writeFileSync(stateFile, state);
  };
  const ours: number[] = [];
  const raw: number[] = [];
  const merge: number[] = [];
  for (let round = 0; round < rounds; round++) {
    raw.push(
      time(() => {
        let base = start;
        for (const tip of tasks) {
          const tree = out("git", ["merge-tree", "--write-tree", base, tip], repo);
          base = out("git", ["commit-tree", tree, "-p", base, "-p", tip, "-m", `Merge ${tip}`], repo);
        }
        run("git", ["update-ref", "refs/heads/raw-integration", base], repo);
      }),
    );
    ours.push(time(() => run(process.execPath, [helper, "sync", "--no-next", "--keep-worktrees", "--no-verify"], repo)));
    reset();
    const plainTree = join(dir, "plain");
    merge.push(
      time(() => {
        run("git", ["worktree", "add", "-q", "-b", "plain-integration", plainTree, start], repo);
        for (const b of tasks) run("git", ["merge", "--no-ff", "-q", "-m", `Merge ${b}`, b], plainTree);
      }),
    );
    run("git", ["worktree", "remove", "--force", plainTree], repo);
    run("git", ["branch", "-q", "-D", "plain-integration"], repo);
  }
  rmSync(dir, { recursive: true, force: true });
  return { branches, files, ours: median(ours), raw: median(raw), merge: median(merge) };
}
