import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Time to a ready 4-task phase: `claude-parallel start` (worktrees from the integration branch,
 * dependencies copied from the installed tree) beside plain `git worktree add` plus a clean
 * install in each worktree. The project is this repository's own package.json and lockfile.
 */
export function benchStart(root: string, helper: string, work: string): { ours: number; plain: number; packages: number } {
  const env = { ...process.env, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@x", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@x", npm_config_loglevel: "error", npm_config_audit: "false", npm_config_fund: "false" };
  const run = (cmd: string, args: string[], cwd: string) => {
    const r = spawnSync(cmd, args, { cwd, env, stdio: "ignore" });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd}`);
  };
  const time = (fn: () => void) => {
    // Flush what earlier steps wrote, so both methods start from the same disk state.
    spawnSync("sync");
    const t = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
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
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ours: number[] = [];
  const plain: number[] = [];
  let packages = 0;
  for (let round = 0; round < 3; round++) {
    const oursRepo = make(`ours${round}`);
    const plainRepo = make(`plain${round}`);
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
    rmSync(join(work, `ours${round}`), { recursive: true, force: true });
    rmSync(join(work, `plain${round}`), { recursive: true, force: true });
  }
  return { ours: median(ours), plain: median(plain), packages };
}
