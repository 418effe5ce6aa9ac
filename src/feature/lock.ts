import { randomBytes, createHash } from "node:crypto";
import { link, mkdir, readdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { RefusedError } from "../core/errors.js";
import { removeStaleRefLocks } from "../git/stale-ref-locks.js";
import { gitProcessesInGroup, gitProcessesUnder, processAlive, processGroup, processStartTime } from "../process-identity.js";
import { quote } from "../core/text/shell.js";
import { readRegular, UnsafeFileError } from "../fs/read-regular.js";
import { MAX_BYTES } from "../core/state/bounds.js";
import { locksDir } from "../core/state/paths.js";

interface Holder {
  pid: number;
  /** The process's start time (Linux: clock ticks since boot), so a reused PID is not the holder. */
  started: string;
  /** Its process group: git processes it started may outlive it there. */
  group?: number;
  host: string;
  command: string;
  since: string;
  nonce: string;
}

/** Locks this process holds, by path: a command that runs another (sync starting the next phase) keeps its lock. */
const held = new Map<string, number>();

/**
 * Runs `body` holding the feature's lock: one writing command per feature at a time. Reentrant: a
 * command this process runs while it holds the lock (sync starting the next phase) keeps it.
 */
export async function withFeatureLock<T>(commonDir: string, slug: string, command: string, body: () => Promise<T>): Promise<T> {
  const release = await acquireFeatureLock(commonDir, slug, command);
  try {
    return await body();
  } finally {
    await release();
  }
}

/**
 * One writing command per feature at a time. The lock file appears atomically with its content
 * (written to a temporary file, then linked into place, which fails if a lock exists). A lock whose
 * holder is gone is retired by rename, by the one process that first claims that very lock (the
 * claim is named after the lock's content and created exclusively), so racing takers cannot
 * retire each other's fresh locks; a live holder's lock is never touched.
 */
export async function acquireFeatureLock(commonDir: string, slug: string, command: string): Promise<() => Promise<void>> {
  const dir = locksDir(commonDir);
  const path = join(dir, `${slug}.lock`);
  const count = held.get(path);
  if (count !== undefined) {
    held.set(path, count + 1);
    return async () => void held.set(path, held.get(path)! - 1);
  }
  await mkdir(dir, { recursive: true });
  const mine: Holder = {
    pid: process.pid,
    started: processStartTime(process.pid) ?? "",
    group: processGroup(process.pid),
    host: hostname(),
    command,
    since: new Date().toISOString(),
    nonce: randomBytes(8).toString("hex"),
  };
  const content = JSON.stringify(mine) + "\n";
  let dead: Holder | undefined;
  for (let attempt = 0; attempt < 200; attempt++) {
    const temp = join(dir, `.${slug}.${process.pid}.${mine.nonce}.tmp`);
    await writeFile(temp, content);
    try {
      await link(temp, path);
      held.set(path, 1);
      if (dead) await clearWhatTheDeadLeft(commonDir, slug, dead);
      return async () => {
        const left = held.get(path)! - 1;
        if (left > 0) return void held.set(path, left);
        held.delete(path);
        if ((await lockText(path).catch(() => undefined)) === content) await unlink(path).catch(() => undefined);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    let text: string | undefined;
    try {
      text = await lockText(path);
    } catch (error) {
      if (!(error instanceof UnsafeFileError)) throw error;
      throw new RefusedError([
        { message: `the lock of ${slug} ${error.problem}: no claude-parallel command made it`, fix: `if no claude-parallel command of ${slug} is running, remove ${quote(path)}` },
      ]);
    }
    if (text === undefined) continue; // released meanwhile
    const holder = parseHolder(text);
    if (holder && holderAlive(holder)) {
      throw new RefusedError([
        {
          message: `another claude-parallel ${holder.command} of ${slug} is running (pid ${holder.pid} on ${holder.host}, since ${holder.since})`,
          fix: `wait for it to finish, then run the command again (if no such process runs, remove ${quote(path)})`,
        },
      ]);
    }
    if (await claim(dir, slug, text, mine)) {
      // Only the live claimer may retire this lock, and a retired lock never comes back (its
      // content is unique): if the file still holds it, it is still the stale lock.
      if ((await lockText(path).catch(() => undefined)) === text) {
        dead = holder;
        await rename(path, join(dir, `${slug}.retired-${digest(text)}`)).catch(() => undefined);
      }
    } else {
      await new Promise((r) => setTimeout(r, 10)); // another process is retiring it
    }
  }
  throw new RefusedError([
    { message: `could not take the lock of ${slug} (${path})`, fix: "run the command again; if it keeps failing, make sure no other claude-parallel runs and remove that file" },
  ]);
}

/**
 * A command of ours died holding the lock (kill -9): a git process it ran may have died while
 * updating one of the feature's refs and left git's own `<ref>.lock`, which makes git refuse that
 * ref until it is removed (and a `git read-tree` moving a checkout of the integration branch
 * leaves that checkout's `index.lock`). Once no git process it started is left running
 * (gitProcessesInGroup), those lock files can only be leftovers, as no other command of ours
 * writes the feature's refs while we hold the lock.
 */
async function clearWhatTheDeadLeft(commonDir: string, slug: string, holder: Holder): Promise<void> {
  if (holder.group !== undefined) {
    for (let i = 0; i < 200 && gitProcessesInGroup(holder.group).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    if (gitProcessesInGroup(holder.group).length > 0) return; // still working: its locks are its own
  }
  const { readState } = await import("./store.js");
  const state = await readState(commonDir, slug).catch(() => undefined);
  const branches = state ? [state.integrationBranch, ...Object.values(state.phases).flatMap((p) => Object.values(p.tasks).map((t) => t.branch))] : [];
  await removeStaleRefLocks(
    commonDir,
    branches.map((b) => `refs/heads/${b}`),
    [`refs/parallel/${slug}/`],
    state ? [`refs/heads/${state.integrationBranch}`] : [],
  );
  // Base is not the feature's: only finish (run finishes too) moves it, and the user's own git may
  // be committing on it. Its locks (the ref's, and the index and HEAD of a checkout of it, where
  // finish merges) are leftovers only when no git at all works in the repository's checkouts.
  if (state && (holder.command === "finish" || holder.command === "run") && (await noGitWorksIn(commonDir))) {
    const base = `refs/heads/${state.base}`;
    await removeStaleRefLocks(commonDir, [base], [], [base]);
  }
}

/** Whether no git process runs in the repository (its git folder, its main checkout, or a linked worktree); false when nobody can tell. */
async function noGitWorksIn(commonDir: string): Promise<boolean> {
  const admin = join(commonDir, "worktrees");
  const linked = await Promise.all(
    (await readdir(admin).catch(() => [] as string[])).map((n) =>
      readFile(join(admin, n, "gitdir"), "utf8").then(
        (g) => dirname(g.trim()),
        () => undefined,
      ),
    ),
  );
  return gitProcessesUnder([commonDir, dirname(commonDir), ...linked.filter((p): p is string => p !== undefined)])?.length === 0;
}

/**
 * Claims the right to retire the stale lock `text`: the first exclusive claim wins. A claimer that
 * died before retiring it is succeeded by the next claim number.
 */
async function claim(dir: string, slug: string, text: string, mine: Holder): Promise<boolean> {
  for (let n = 0; n < 16; n++) {
    const path = join(dir, `${slug}.claim-${digest(text)}-${n}`);
    try {
      await writeFile(path, JSON.stringify(mine), { flag: "wx" });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const claimer = parseHolder((await lockText(path).catch(() => undefined)) ?? "");
    if (!claimer || holderAlive(claimer)) return false;
  }
  return false;
}

/** A lock's (or a claim's) content: a small regular file (src/fs/read-regular.ts); undefined when gone. */
const lockText = async (path: string) => (await readRegular(path, MAX_BYTES.marker))?.toString("utf8");

const digest = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 20);

function parseHolder(text: string): Holder | undefined {
  try {
    const h = JSON.parse(text) as Holder;
    return typeof h.pid === "number" && typeof h.host === "string" ? h : undefined;
  } catch {
    return undefined;
  }
}

function holderAlive(h: Holder): boolean {
  if (h.host !== hostname()) return true; // cannot tell: assume it runs
  if (!processAlive(h.pid)) return false;
  const started = processStartTime(h.pid);
  return !h.started || started === undefined || started === h.started;
}
