import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { git } from "../git/run.js";
import { gitOk, listWorktrees } from "../git/repo.js";
import { prepareDependencies } from "../start/deps.js";
import { copyIncludedFiles, includedFiles } from "../start/include.js";
import type { ChainLink } from "./preflight.js";

export interface VerifyOutcome {
  passed: boolean;
  /** When it failed: the link whose merge broke it, or "base" when the integration branch already failed. */
  culprit?: ChainLink | "base";
  exitCode?: number;
  outputTail?: string;
  runs: number;
}

async function runIn(dir: string, command: string): Promise<{ exitCode: number; tail: string }> {
  const { execa } = await import("execa");
  const r = await execa(command, { shell: true, cwd: dir, all: true, reject: false });
  return { exitCode: r.exitCode ?? 1, tail: String(r.all ?? "").split("\n").slice(-20).join("\n") };
}

/**
 * Runs `command` on the merged result in a temporary worktree prepared like a session's
 * (.worktreeinclude files, dependencies). If it fails, bisects the merge chain (each link's
 * commit is the integration tip plus the branches merged so far) to name the branch that broke it.
 */
export async function verifyMerged(opts: {
  mainRoot: string;
  slug: string;
  command: string;
  base: string;
  chain: ChainLink[];
  dependencySources: string[];
  log: (line: string) => void;
}): Promise<VerifyOutcome> {
  const dir = join(tmpdir(), `claude-parallel-verify-${opts.slug}-${process.pid}`);
  await discardStaleVerifyTrees(opts.mainRoot, opts.slug);
  const last = opts.chain[opts.chain.length - 1]!;
  await gitOk(["worktree", "add", "--quiet", "--detach", "--", dir, last.commit], opts.mainRoot);
  let runs = 0;
  const at = async (commit: string) => {
    await gitOk(["checkout", "--quiet", "--force", "--detach", commit], dir);
    await git(["clean", "-fdq"], dir);
    runs++;
    return runIn(dir, opts.command);
  };
  try {
    const included = await includedFiles(opts.mainRoot);
    if (included.length) await copyIncludedFiles(opts.mainRoot, dir, included);
    await prepareDependencies(dir, opts.dependencySources, opts.log);
    runs++;
    const final = await runIn(dir, opts.command);
    if (final.exitCode === 0) return { passed: true, runs };
    opts.log(`verify failed on the merged result (exit ${final.exitCode}); finding the branch that broke it`);
    if ((await at(opts.base)).exitCode !== 0) return { passed: false, culprit: "base", exitCode: final.exitCode, outputTail: final.tail, runs };
    // Invariant: verify passes at chain[lo - 1] (or the base when lo = 0) and fails at chain[hi].
    let lo = 0;
    let hi = opts.chain.length - 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if ((await at(opts.chain[mid]!.commit)).exitCode === 0) lo = mid + 1;
      else hi = mid;
    }
    return { passed: false, culprit: opts.chain[hi]!, exitCode: final.exitCode, outputTail: final.tail, runs };
  } finally {
    await git(["worktree", "remove", "--force", "--", dir], opts.mainRoot);
    await rm(dir, { recursive: true, force: true });
  }
}

/** A verify worktree left by a sync that was killed: ours, detached, holding no commits. */
async function discardStaleVerifyTrees(mainRoot: string, slug: string): Promise<void> {
  const prefix = join(tmpdir(), `claude-parallel-verify-${slug}-`);
  for (const w of await listWorktrees(mainRoot)) {
    if (w.path.startsWith(prefix) && w.branch === undefined) await git(["worktree", "remove", "--force", "--", w.path], mainRoot);
  }
  await git(["worktree", "prune"], mainRoot);
}
