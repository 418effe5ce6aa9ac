import { spawn, spawnSync } from "node:child_process";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { gitEnv } from "./git.js";
import { HELPER } from "./paths.js";

/**
 * Helpers of the black-box attack suite (test/attack/): seeded randomness, the helper run
 * asynchronously in its own process group (so it can be killed with everything it spawned),
 * and invariant checks that return a list of violations instead of throwing at the first one.
 */

/** Mulberry32: a tiny seeded PRNG, so every random choice can be replayed from the seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The suite's seed: ATTACK_SEED in the environment replays a failure, else the fixed default. */
export const ATTACK_SEED = Number(process.env.ATTACK_SEED ?? 20261124);

export interface AsyncResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Whether we killed it (the process group) before it ended on its own. */
  killed: boolean;
}

export interface KillPlan {
  /** Kill the process group this many ms after the spawn. */
  afterMs?: number;
  /** Kill the process group as soon as this many bytes of stdout + stderr have appeared. */
  afterBytes?: number;
  /** Kill the process group as soon as this path exists (polled every few ms): a state-based moment. */
  whenExists?: string;
  /** Kill the process group as soon as this path no longer exists (polled every few ms). */
  whenGone?: string;
}

/**
 * Runs the committed bundle asynchronously, detached in its own process group, optionally
 * killing the whole group (the helper, and the git, cp, npm and verify processes it runs) with
 * SIGKILL at a chosen moment. `env` replaces nothing of gitEnv unless it names the variable.
 */
export function runAsync(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; kill?: KillPlan; baseEnv?: NodeJS.ProcessEnv }): Promise<AsyncResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HELPER, ...args], {
      cwd: options.cwd,
      env: { ...(options.baseEnv ?? gitEnv), ...options.env },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let bytes = 0;
    let killed = false;
    let exited = false;
    const killGroup = () => {
      if (exited || killed) return;
      killed = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const seen = (chunk: Buffer) => {
      bytes += chunk.length;
      if (options.kill?.afterBytes !== undefined && bytes >= options.kill.afterBytes) killGroup();
    };
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString("utf8");
      seen(d);
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString("utf8");
      seen(d);
    });
    if (options.kill?.afterBytes === 0) killGroup();
    const timer = options.kill?.afterMs !== undefined ? setTimeout(killGroup, options.kill.afterMs) : undefined;
    const { whenExists, whenGone } = options.kill ?? {};
    const poll =
      whenExists !== undefined || whenGone !== undefined
        ? setInterval(() => ((whenExists !== undefined && existsSync(whenExists)) || (whenGone !== undefined && !existsSync(whenGone))) && killGroup(), 3)
        : undefined;
    // A safety net, not an assertion: a hung helper is killed so the suite stays bounded.
    const guard = setTimeout(killGroup, 120_000);
    child.once("error", reject);
    child.once("exit", () => {
      exited = true;
    });
    child.once("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      if (poll) clearInterval(poll);
      clearTimeout(guard);
      // Reap anything of the group that outlived the leader (a killed group is all gone already).
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // nothing left
      }
      resolve({ code, signal, stdout, stderr, killed: killed || signal === "SIGKILL" });
    });
  });
}

/** git without throwing: exit code and output, with the tests' identity and no user config. */
export function gitTry(cwd: string, args: string[], env: NodeJS.ProcessEnv = gitEnv): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync("git", args, { cwd, env, encoding: "utf8" });
  return { code: r.status, stdout: (r.stdout ?? "").trimEnd(), stderr: (r.stderr ?? "").trimEnd() };
}

/** Every commit reachable from some ref under refs/ (branches, tags, backups, stash; worktrees' HEADs excluded). */
export function reachableFromRefs(repo: string): Set<string> {
  // Refs only (--glob), not worktrees' HEADs: a broken HEAD of a half-made worktree would make
  // `rev-list --all` fail, and every commit would look lost.
  const r = gitTry(repo, ["rev-list", "--glob=refs/*"]);
  if (r.code !== 0) throw new Error(`git rev-list --glob=refs/* failed in ${repo}: ${r.stderr}`);
  return new Set(r.stdout.split("\n").filter(Boolean));
}

/** Every commit on the given branches (what "ever on a task branch" means at the moment of the call). */
export function commitsOn(repo: string, branches: string[]): string[] {
  const out: string[] = [];
  for (const b of branches) {
    const r = gitTry(repo, ["rev-list", `refs/heads/${b}`]);
    if (r.code === 0) out.push(...r.stdout.split("\n").filter(Boolean));
  }
  return [...new Set(out)];
}

export interface WorktreeInfo {
  path: string;
  head?: string;
  branch?: string;
  prunable?: string;
  locked?: string;
  detached: boolean;
  bare: boolean;
}

export function worktreeList(repo: string): WorktreeInfo[] {
  const r = gitTry(repo, ["worktree", "list", "--porcelain", "-z"]);
  const list: WorktreeInfo[] = [];
  for (const field of r.stdout.split("\0")) {
    if (field.startsWith("worktree ")) list.push({ path: field.slice(9), detached: false, bare: false });
    const cur = list[list.length - 1];
    if (!cur) continue;
    if (field.startsWith("HEAD ")) cur.head = field.slice(5);
    else if (field.startsWith("branch refs/heads/")) cur.branch = field.slice(18);
    else if (field.startsWith("prunable")) cur.prunable = field.slice(9) || "prunable";
    else if (field.startsWith("locked")) cur.locked = field.slice(7) || "locked";
    else if (field === "detached") cur.detached = true;
    else if (field === "bare") cur.bare = true;
  }
  return list;
}

/** Violations of "the worktree at `path` is a valid, registered worktree of `branch`". */
export function worktreeViolations(repo: string, path: string, branch: string, options: { clean?: boolean } = {}): string[] {
  const v: string[] = [];
  if (!existsSync(path)) return [`worktree ${path} of ${branch} is missing`];
  const head = gitTry(path, ["rev-parse", "HEAD"]);
  if (head.code !== 0) v.push(`git -C ${path} rev-parse HEAD fails: ${head.stderr}`);
  const sym = gitTry(path, ["symbolic-ref", "--short", "HEAD"]);
  if (sym.stdout !== branch) v.push(`worktree ${path} is on ${sym.stdout || "(detached)"}, not ${branch}`);
  const entry = worktreeList(repo).find((w) => w.path === path);
  if (!entry) v.push(`worktree ${path} is not registered in git worktree list`);
  else if (entry.prunable) v.push(`worktree ${path} is prunable: ${entry.prunable}`);
  if (options.clean) {
    const st = gitTry(path, ["status", "--porcelain"]);
    if (st.code !== 0) v.push(`git status fails in ${path}: ${st.stderr}`);
    else if (st.stdout) v.push(`fresh worktree ${path} is not clean (half checked out?): ${st.stdout.split("\n").slice(0, 5).join(" | ")}`);
    if (existsSync(join(gitTry(path, ["rev-parse", "--absolute-git-dir"]).stdout, "index.lock"))) v.push(`worktree ${path} has a stale index.lock`);
  }
  return v;
}

/** Prunable worktree entries whose path lies under one of `prefixes` (ours), or any at all. */
export function prunableEntries(repo: string): string[] {
  return worktreeList(repo)
    .filter((w) => w.prunable)
    .map((w) => `${w.path} (${w.prunable})`);
}

/** All files (and symlinks) below `root`, relative, sorted; folders are implied. */
export function fileList(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(relative(root, full));
    }
  };
  if (existsSync(root)) walk(root);
  return out.sort();
}

/** A snapshot of a checkout that must stay untouched: HEAD, branch, status, and chosen files' bytes. */
export interface CheckoutSnapshot {
  head: string;
  branch: string;
  status: string;
  files: Record<string, string | null>;
}

export function snapshotCheckout(path: string, files: string[], env: NodeJS.ProcessEnv = gitEnv): CheckoutSnapshot {
  const read = (f: string) => {
    try {
      return readFileSync(join(path, f), "utf8");
    } catch {
      return null;
    }
  };
  return {
    head: gitTry(path, ["rev-parse", "HEAD"], env).stdout,
    branch: gitTry(path, ["symbolic-ref", "--quiet", "HEAD"], env).stdout,
    status: gitTry(path, ["status", "--porcelain", "--ignored"], env).stdout,
    files: Object.fromEntries(files.map((f) => [f, read(f)])),
  };
}

export function snapshotViolations(label: string, before: CheckoutSnapshot, after: CheckoutSnapshot): string[] {
  const v: string[] = [];
  if (before.head !== after.head) v.push(`${label}: HEAD moved ${before.head} -> ${after.head}`);
  if (before.branch !== after.branch) v.push(`${label}: branch changed ${before.branch} -> ${after.branch}`);
  if (before.status !== after.status) v.push(`${label}: git status changed:\n--- before\n${before.status}\n--- after\n${after.status}`);
  for (const [f, content] of Object.entries(before.files)) {
    if (after.files[f] !== content) v.push(`${label}: ${f} changed: ${JSON.stringify(content)} -> ${JSON.stringify(after.files[f])}`);
  }
  return v;
}

/** Whether the path is a symlink (lstat), without following it. */
export function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Absolute paths named in a command's output (for "the output says where the file went"). */
export function pathsIn(text: string): string[] {
  return [...text.matchAll(/(\/[^\s'"`:,()]+)/g)].map((m) => m[1]!.replace(/[.)]+$/, ""));
}

/** The number of merge commits on `branch` whose subject names `[phase N]`. */
export function phaseMerges(repo: string, branch: string, phase: number): string[] {
  return gitTry(repo, ["log", "--merges", "--format=%s", `refs/heads/${branch}`])
    .stdout.split("\n")
    .filter((s) => s.includes(`[phase ${phase}]`));
}

/** Exit codes the README allows for an outside failure or refusal (never 1, never a signal). */
export const describeRun = (r: { code: number | null; stdout: string; stderr: string }) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
