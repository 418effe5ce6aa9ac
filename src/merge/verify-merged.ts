import { readdir, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { pathExists } from "../fs/exists.js";
import { mergedVerifyLogPath, verifyWorktreePath } from "../core/state/paths.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { failureExcerpt } from "../core/text/failure-excerpt.js";
import { WorktreeFiles } from "../fs/worktree-files.js";
import { git, gitOk } from "../git/run.js";
import { listWorktrees } from "../git/repo.js";
import { forgetRegistrations, registrationsOf } from "../git/worktree-registration.js";
import { runShell } from "../proc.js";
import { prepareDependencies } from "../worktree/deps.js";
import { copyIncludedFiles, includedFiles } from "../worktree/include.js";
import type { ChainLink } from "./merge-chain.js";

export interface VerifyOutcome {
  passed: boolean;
  /** When it failed: the links whose merge broke it (every one found), or "base" when the integration branch already failed. */
  culprits?: ChainLink[] | "base";
  /** Set when the search for more culprits stopped early (the rest no longer merge cleanly without them). */
  searchStopped?: string;
  exitCode?: number;
  /** When it failed: the part of the output that says why (src/core/text/failure-excerpt.ts). */
  outputTail?: string;
  /** When it failed: the file holding its whole output. */
  log?: string;
  runs: number;
  /** With `keepOnPass`: the verified worktree (its installed dependencies can serve the next phase); discard it with discardVerifyTree. */
  kept?: string;
}

/** The output of one verify run kept for its log and excerpt (the rest is cut). */
const MAX_OUTPUT = 4 * 1024 * 1024;

/**
 * Runs `command` on the merged result in a temporary worktree prepared like a session's
 * (.worktreeinclude files, dependencies). If it fails, bisects the merge chain (each link's
 * commit is the integration tip plus the branches merged so far) to name the branch that broke it.
 */
export async function verifyMerged(opts: {
  mainRoot: string;
  commonDir: string;
  slug: string;
  command: string;
  base: string;
  chain: ChainLink[];
  dependencySources: string[];
  /** The command is known to pass on `base` (the previous sync verified it there): not run again. */
  baseKnownGood: boolean;
  /** The chain merged again without some of its branches, to look for more culprits. */
  rechain: (without: ReadonlySet<string>) => Promise<ChainLink[] | undefined>;
  /** Keep the worktree when verify passes (the caller discards it). */
  keepOnPass?: boolean;
  /** Run the command (the merged code's tests) and any install confined to the verify worktree (src/proc.ts). */
  confined: boolean;
  log: (line: string) => void;
}): Promise<VerifyOutcome> {
  const dir = verifyWorktreePath(opts.commonDir, opts.slug);
  await discardVerifyTree(opts.mainRoot, opts.commonDir, dir);
  const last = opts.chain[opts.chain.length - 1]!;
  await gitOk(["worktree", "add", "--quiet", "--detach", "--", dir, last.commit], opts.mainRoot);
  let runs = 0;
  let keep = false;
  const runIn = async () => {
    runs++;
    const lines: string[] = [];
    let size = 0;
    const r = await runShell(opts.command, {
      cwd: dir,
      ...(opts.confined && { confine: { writable: [dir] } }),
      maxBuffer: 1024 * 1024,
      onLine: (line) => {
        if (size <= MAX_OUTPUT) lines.push(size + line.length > MAX_OUTPUT ? "(the rest of the output is cut)" : line);
        size += line.length + 1;
        opts.log(`  ${line}`);
      },
    });
    return { exitCode: r.exitCode, output: lines.join("\n") };
  };
  const at = async (commit: string) => {
    await gitOk(["checkout", "--quiet", "--force", "--detach", commit], dir);
    await gitOk(["clean", "-fdq"], dir);
    return runIn();
  };
  try {
    const worktree = await WorktreeFiles.at(dir);
    const included = await includedFiles(opts.mainRoot);
    if (included.length) await copyIncludedFiles(opts.mainRoot, worktree, included);
    await prepareDependencies(dir, opts.dependencySources, opts.log, undefined, opts.confined);
    const final = await runIn();
    if (final.exitCode === 0) {
      keep = opts.keepOnPass === true;
      return { passed: true, runs, ...(keep && { kept: dir }) };
    }
    const log = mergedVerifyLogPath(opts.commonDir, opts.slug);
    await writeFileAtomic(log, final.output + "\n");
    const failed = { passed: false, exitCode: final.exitCode, outputTail: failureExcerpt(final.output).text, log };
    opts.log(`verify failed on the merged result (exit ${final.exitCode}; its whole output: ${log}); finding the branches that break it`);
    if (!opts.baseKnownGood && (await at(opts.base)).exitCode !== 0) return { ...failed, culprits: "base", runs };
    // Each round: bisect to the first culprit, then merge again without every culprit found and
    // verify that; until it passes, or the rest no longer merges without them.
    const culprits: ChainLink[] = [];
    let chain = opts.chain;
    for (;;) {
      // Invariant: verify passes at chain[lo - 1] (or the base when lo = 0) and fails at chain[hi].
      let lo = 0;
      let hi = chain.length - 1;
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        if ((await at(chain[mid]!.commit)).exitCode === 0) lo = mid + 1;
        else hi = mid;
      }
      culprits.push(chain[hi]!);
      if (hi === chain.length - 1) break; // the last one: everything before it passes
      const rest = await opts.rechain(new Set(culprits.map((c) => c.task.id)));
      if (rest === undefined) return { ...failed, culprits, searchStopped: "the other branches do not merge cleanly without it", runs };
      if (rest.length === 0 || (await at(rest[rest.length - 1]!.commit)).exitCode === 0) break;
      chain = rest;
    }
    return { ...failed, culprits, runs };
  } finally {
    if (!keep) await discardVerifyTree(opts.mainRoot, opts.commonDir, dir);
  }
}

/** Whether our verify worktree is there: its folder, or a registration git named after the folder (usually neither). */
export async function verifyTreeLeft(commonDir: string, dir: string): Promise<boolean> {
  const registrations = await readdir(join(commonDir, "worktrees")).catch(() => [] as string[]);
  return (await pathExists(dir)) || registrations.some((name) => name.startsWith(basename(dir)));
}

/** Our verify worktree (exactly this path: detached, holding no commits of anyone's), if one is there. */
export async function discardVerifyTree(mainRoot: string, commonDir: string, dir: string): Promise<void> {
  if (!(await verifyTreeLeft(commonDir, dir))) return;
  const entry = (await listWorktrees(mainRoot)).find((w) => w.path === dir);
  if (entry && entry.branch === undefined) await git(["worktree", "remove", "--force", "--force", "--", dir], mainRoot);
  await rm(dir, { recursive: true, force: true });
  // Only this worktree's registration: a `git worktree prune` would also forget the user's (a
  // worktree on a disk not mounted) and what a killed removal left of a task worktree's.
  if (entry) await forgetRegistrations(await registrationsOf(commonDir, dir));
}
