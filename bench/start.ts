import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { median, run, time } from "./util.js";

/**
 * Time to a ready 4-task phase: `claude-parallel start` (worktrees from the integration branch,
 * dependencies copied from the installed tree) beside plain `git worktree add` plus a clean
 * install in each worktree. The project is this repository's own package.json and lockfile.
 */
export function benchStart(root: string, helper: string, work: string, rounds = 3): { ours: number; plain: number; copy: number; packages: number } {
  const make = (name: string) => {
    const repo = join(work, name, "app");
    mkdirSync(repo, { recursive: true });
    copyFileSync(join(root, "package.json"), join(repo, "package.json"));
    copyFileSync(join(root, "package-lock.json"), join(repo, "package-lock.json"));
    writeFileSync(join(repo, ".gitignore"), "node_modules/\n");
    mkdirSync(join(repo, ".parallel", "bench"), { recursive: true });
    writeFileSync(join(repo, ".parallel", "bench", "plan.yaml"), `version: 1\nfeature: Bench\ntasks:\n${[1, 2, 3, 4].map((i) => `  - {id: t${i}, title: T${i}, owns: [p${i}/]}`).join("\n")}\n`);
    run("git", ["init", "-q", "-b", "main"], repo);
    run("git", ["add", "-A"], repo);
    run("git", ["commit", "-q", "-m", "init"], repo);
    run("npm", ["ci", "--ignore-scripts"], repo); // the developer's installed tree
    return repo;
  };
  const ours: number[] = [];
  const plain: number[] = [];
  const copy: number[] = [];
  let packages = 0;
  for (let round = 0; round < rounds; round++) {
    const oursRepo = make(`ours${round}`);
    const plainRepo = make(`plain${round}`);
    const copyRepo = make(`copy${round}`);
    packages = Number(execFileSync("sh", ["-c", "ls node_modules | wc -l"], { cwd: oursRepo, encoding: "utf8" }).trim());
    ours.push(time(() => run(process.execPath, [helper, "start", "--launch", "print"], oursRepo)));
    plain.push(
      time(() => {
        for (let i = 1; i <= 4; i++) {
          const wt = join(plainRepo, "..", `wt${i}`);
          run("git", ["worktree", "add", "-q", "-b", `t${i}`, wt], plainRepo);
          run("npm", ["ci", "--ignore-scripts"], wt);
        }
      }),
    );
    // The least a start with working dependencies does: a worktree, and the installed tree copied.
    copy.push(
      time(() => {
        for (let i = 1; i <= 4; i++) {
          const wt = join(copyRepo, "..", `wt${i}`);
          run("git", ["worktree", "add", "-q", "-b", `t${i}`, wt], copyRepo);
          run("cp", ["-a", join(copyRepo, "node_modules"), join(wt, "node_modules")], copyRepo);
        }
      }),
    );
    rmSync(join(work, `copy${round}`), { recursive: true, force: true });
    rmSync(join(work, `ours${round}`), { recursive: true, force: true });
    rmSync(join(work, `plain${round}`), { recursive: true, force: true });
  }
  return { ours: median(ours), plain: median(plain), copy: median(copy), packages };
}
