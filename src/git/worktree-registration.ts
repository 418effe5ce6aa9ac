import { readdir, realpath, rm } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { GIT_FILE_MAX } from "./repo-from-files.js";
import { readRegular } from "../fs/read-regular.js";

/** One of git's registrations of a worktree: its entry under `<common>/worktrees/`. */
interface Registration {
  dir: string;
  /** What `git worktree lock` (or a `git worktree add` still at work, or killed: "initializing") wrote, if locked. */
  locked?: string;
  /** Whether git can use it: its `commondir` is written. */
  complete: boolean;
}

/**
 * A file of a registration, trimmed: undefined when missing, "" when it is not a regular file
 * within its bound. A session can write its own registration (its `locked`, say): a FIFO or a
 * link to /dev/zero there must not hang us.
 */
const registrationFile = (path: string): Promise<string | undefined> =>
  readRegular(path, GIT_FILE_MAX).then(
    (b) => b?.toString("utf8").trim(),
    () => "",
  );

/**
 * git's registrations of the worktree at `path`: the entries under `<common>/worktrees/` whose
 * `gitdir` names exactly that path (as given, or with links resolved). Never another worktree's
 * (the user's on a removable disk, say): what `git worktree prune` would consider, for this path only.
 */
export async function registrationsOf(commonDir: string, path: string): Promise<Registration[]> {
  const admin = join(commonDir, "worktrees");
  const targets = new Set([join(resolve(path), ".git"), join(await realpath(path).catch(() => resolve(path)), ".git")]);
  const found: Registration[] = [];
  for (const name of await readdir(admin).catch(() => [] as string[])) {
    const dir = join(admin, name);
    const gitdir = (await registrationFile(join(dir, "gitdir"))) ?? "";
    if (!targets.has(gitdir)) continue;
    // Whatever is there locks it for git: what cannot be read is a lock without a reason.
    const locked = await registrationFile(join(dir, "locked"));
    const complete = ((await registrationFile(join(dir, "commondir"))) ?? "") !== "";
    found.push({ dir, ...(locked !== undefined && { locked }), complete });
  }
  return found;
}

/** Forgets the given registrations (their folders under `<common>/worktrees/`). */
export async function forgetRegistrations(registrations: readonly Registration[]): Promise<void> {
  for (const r of registrations) await rm(r.dir, { recursive: true, force: true });
}

/**
 * A `git worktree add` killed before it wrote `commondir` (or while: an empty file) leaves an entry under
 * `<common>/worktrees/` that makes every `git worktree list` fail ("failed to read
 * .../commondir"). Removes such entries when they are one of `recorded` (the worktree paths our
 * features recorded before making them): still locked "initializing" by git, and naming that path
 * in their `gitdir` (or, killed before even that, named after its folder). Says whether it removed any.
 */
export async function forgetHalfAddedWorktrees(commonDir: string, recorded: readonly string[]): Promise<boolean> {
  const entries = await halfAddedWorktrees(commonDir, recorded);
  for (const entry of entries) await rm(entry, { recursive: true, force: true });
  return entries.length > 0;
}

/** The entries forgetHalfAddedWorktrees would remove (changes nothing). */
export async function halfAddedWorktrees(commonDir: string, recorded: readonly string[]): Promise<string[]> {
  const admin = join(commonDir, "worktrees");
  const byGitdir = new Set(recorded.map((p) => join(resolve(p), ".git")));
  const byName = new Set(recorded.map((p) => basename(p)));
  const found: string[] = [];
  for (const name of await readdir(admin).catch(() => [] as string[])) {
    const entry = join(admin, name);
    // Missing, or empty: killed between creating the file and writing it.
    if (((await registrationFile(join(entry, "commondir"))) ?? "") !== "") continue;
    if ((await registrationFile(join(entry, "locked"))) !== "initializing") continue;
    const gitdir = (await registrationFile(join(entry, "gitdir"))) ?? "";
    if (gitdir ? !byGitdir.has(gitdir) : !byName.has(name)) continue;
    found.push(entry);
  }
  return found;
}
