import { existsSync } from "node:fs";
import { EnvironmentError } from "../core/errors.js";
import { readRegular } from "../fs/read-regular.js";
import { git, gitIsRecentEnough, gitOk, gitVersion, locateRepo, MIN_GIT } from "./run.js";

/** A repository we may work in: it exists, has a commit, and its git is recent enough. */
export interface Repo {
  /** Root of the worktree the command runs in (the user's checkout). */
  root: string;
  /** The git directory shared by all worktrees: where the feature state lives. */
  commonDir: string;
  branch?: string;
}

export async function openRepo(cwd: string): Promise<Repo> {
  if (!existsSync(cwd)) throw new EnvironmentError(`the folder this command runs in (${cwd}) no longer exists`, "cd into the repository's main checkout and run the command again");
  // Side by side: git's version, and where the repository is (one process each).
  const [version, where] = await Promise.all([gitVersion(cwd), locateRepo(cwd).catch(() => undefined)]);
  if (!version) throw new EnvironmentError("git is not installed or cannot be run", "install git 2.38 or newer");
  if (!gitIsRecentEnough(version)) {
    throw new EnvironmentError(`git ${version.text} is too old`, `install git ${MIN_GIT.join(".")} or newer (claude-parallel uses \`git merge-tree --write-tree\`)`);
  }
  if (!where) throw new EnvironmentError(`${cwd} is not inside a git repository`, "run claude-parallel inside your project's repository");
  if (!where.hasCommit) throw new EnvironmentError("the repository has no commit yet", "make a first commit: worktrees start from a commit");
  return { root: where.root, commonDir: where.commonDir, branch: where.branch };
}

/** The text of git's MERGE_HEAD in `worktree` (a merge under way there), as it is: git writes it in place, so a merge killed while writing it leaves it empty or cut short. */
export async function mergeHeadText(worktree: string): Promise<string | undefined> {
  const path = await gitOk(["rev-parse", "--path-format=absolute", "--git-path", "MERGE_HEAD"], worktree);
  return (await readRegular(path, 4096).catch(() => undefined))?.toString("utf8");
}

/** The commit a ref points at, or undefined when it does not exist. */
export async function commitOf(ref: string, cwd: string): Promise<string | undefined> {
  const r = await git(["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`], cwd);
  return r.exitCode === 0 ? r.stdout : undefined;
}

export async function isAncestor(ancestor: string, descendant: string, cwd: string): Promise<boolean> {
  return (await git(["merge-base", "--is-ancestor", ancestor, descendant], cwd)).exitCode === 0;
}

export interface WorktreeEntry {
  path: string;
  head?: string;
  /** Short branch name, when a branch is checked out. */
  branch?: string;
  bare: boolean;
  /** Its folder is gone: git would prune the entry. */
  prunable: boolean;
}

export async function listWorktrees(cwd: string): Promise<WorktreeEntry[]> {
  const out = await gitOk(["worktree", "list", "--porcelain", "-z"], cwd);
  const entries: WorktreeEntry[] = [];
  for (const field of out.split("\0")) {
    if (field.startsWith("worktree ")) entries.push({ path: field.slice(9), bare: false, prunable: false });
    const current = entries[entries.length - 1];
    if (!current) continue;
    if (field.startsWith("HEAD ")) current.head = field.slice(5);
    else if (field.startsWith("branch refs/heads/")) current.branch = field.slice("branch refs/heads/".length);
    else if (field === "bare") current.bare = true;
    else if (field === "prunable" || field.startsWith("prunable ")) current.prunable = true;
  }
  return entries;
}

/** Commands that create commits (merges) need a committer identity; say how to set one. */
export async function requireIdentity(cwd: string): Promise<void> {
  const who = await git(["var", "GIT_COMMITTER_IDENT"], cwd);
  if (who.exitCode !== 0) {
    throw new EnvironmentError(
      "git does not know who you are, and merging creates commits",
      'set your identity: git config --global user.name "Your Name" && git config --global user.email you@example.com',
    );
  }
}

/**
 * Every branch and tag by full name, and the commit each one that points at a commit points at,
 * in one `for-each-ref` (not one `rev-parse` per ref).
 */
export async function refsAndCommits(cwd: string): Promise<{ refs: string[]; commits: Map<string, string> }> {
  const out = await gitOk(["for-each-ref", "--format=%(refname)%00%(objecttype)%00%(objectname)", "refs/heads/", "refs/tags/"], cwd);
  const refs: string[] = [];
  const commits = new Map<string, string>();
  for (const line of out.split("\n")) {
    const [ref, type, object] = line.split("\0");
    if (!ref) continue;
    refs.push(ref);
    if (type === "commit" && object) commits.set(ref, object);
  }
  return { refs, commits };
}

/** A branch's tip commit, with what `status` shows of it. */
export interface BranchTip {
  commit: string;
  /** The commit as `git log --format=%h%x00%s%x00%cr` shows it. */
  short: string;
  subject: string;
  when: string;
}

/**
 * The tips of several branches (short names), and the commit of every ref under the folders
 * `under` (full names: a feature's refs/parallel/<slug>/), in one `for-each-ref`, not one process
 * per ref; a branch that does not exist, or does not point at a commit, is absent from `tips`.
 */
export async function refTips(cwd: string, branches: readonly string[], under: readonly string[] = []): Promise<{ tips: Map<string, BranchTip>; under: Map<string, string> }> {
  const tips = new Map<string, BranchTip>();
  const found = new Map<string, string>();
  if (branches.length === 0 && under.length === 0) return { tips, under: found };
  const wanted = new Set(branches.map((b) => `refs/heads/${b}`));
  // A pattern also matches the refs below it as a folder: only exact names are kept.
  const out = await gitOk(
    ["for-each-ref", "--format=%(refname)%00%(objecttype)%00%(objectname)%00%(objectname:short)%00%(contents:subject)%00%(committerdate:relative)", "--", ...wanted, ...under],
    cwd,
  );
  for (const line of out.split("\n")) {
    const [ref, type, commit, short, subject, when] = line.split("\0");
    if (ref === undefined || commit === undefined) continue;
    if (under.some((folder) => ref.startsWith(folder))) found.set(ref, commit);
    if (!wanted.has(ref) || type !== "commit") continue;
    tips.set(ref.slice("refs/heads/".length), { commit, short: short!, subject: subject!, when: when! });
  }
  return { tips, under: found };
}
