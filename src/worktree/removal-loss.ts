import { createHash } from "node:crypto";
import { lstat, mkdtemp, open, readdir, readFile, readlink, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runToFiles } from "../proc.js";
import { git, gitOk, nulFields } from "../git/run.js";
import { includedFiles } from "./include.js";
import { SESSION_DIR } from "../session/session-files.js";
import { openRegular, readRegular } from "../fs/read-regular.js";
import type { RemovalLoss } from "../core/state/worktree-course.js";

/**
 * What removing a working worktree (git can run in it) would lose, measured against `tip`, its
 * branch's commit; its uncommitted changes only when `options.uncommitted`.
 */
export async function removalLoss(worktree: string, tip: string | undefined, mainRoot: string, options: { uncommitted: boolean }): Promise<RemovalLoss> {
  // --no-optional-locks: a look must not rewrite the index under a running session.
  const status = !options.uncommitted ? "" : await gitOk(["--no-optional-locks", "status", "--porcelain=v2", "-z", "--untracked-files=all", "--ignore-submodules=none"], worktree);
  const uncommitted: string[] = [];
  const untracked: string[] = [];
  let lossless = false;
  const fields = nulFields(status);
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    const after = (n: number) => field.split(" ").slice(n).join(" ");
    if (field.startsWith("1 ")) {
      // Unchanged or deleted, in the index and in the files: nothing of its content is only here.
      if (/^[.D][.D]$/.test(field.slice(2, 4))) lossless = true;
      else uncommitted.push(after(8));
    } else if (field.startsWith("2 ")) {
      uncommitted.push(after(9));
      i++; // the source path follows
    } else if (field.startsWith("u ")) uncommitted.push(after(10));
    else if (field.startsWith("? ")) untracked.push(field.slice(2));
  }
  const { ignored, changedIncludes } = await ignoredFilesNotOurs(worktree, mainRoot);
  const measured = options.uncommitted;
  if (untracked.length === 0 && ignored.length === 0) return { uncommitted, ignored, changedIncludes, lossless, measured };
  const committed = await new CommitFiles(mainRoot, tip).load();
  const lost = async (paths: string[]) => {
    const left: string[] = [];
    for (const path of paths) if (path.endsWith("/") || !(await committed.holds(worktree, path))) left.push(path);
    return left;
  };
  const [untrackedLost, ignoredLost] = await Promise.all([lost(untracked), lost(ignored)]);
  return { uncommitted: [...uncommitted, ...untrackedLost], ignored: ignoredLost, changedIncludes, lossless: lossless || untrackedLost.length < untracked.length, measured };
}

/**
 * What deleting what is left of a worktree's folder (no longer a worktree git can run in: its
 * removal or its making was killed half way) would lose: its files that are not ours and that
 * `tip` does not hold at the same path.
 */
export async function leftoverLoss(folder: string, tip: string | undefined, mainRoot: string): Promise<string[]> {
  const committed = await new CommitFiles(mainRoot, tip).load();
  const included = await ours(mainRoot);
  const lost: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(folder, rel), { withFileTypes: true }).catch(() => [])) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (path === ".git" || path === SESSION_DIR || entry.name === "node_modules" || entry.name === PARTIAL_MODULES) continue;
        await walk(path);
      } else if (path !== ".git" && !(included.has(path) && (await sameContent(join(folder, path), join(mainRoot, path)))) && !(await committed.holds(folder, path))) {
        lost.push(path);
      }
    }
  };
  await walk("");
  return lost.sort();
}

const PARTIAL_MODULES = ".node_modules.claude-parallel-partial";

/**
 * Ignored files and folders in a worktree that are not ours (removing the worktree deletes them),
 * and the `.worktreeinclude` copies among them that changed since they were copied in (an ignored
 * folder holding one is named by that copy).
 */
async function ignoredFilesNotOurs(worktree: string, mainRoot: string): Promise<{ ignored: string[]; changedIncludes: string[] }> {
  const entries = nulFields(await gitOk(["ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"], worktree));
  const included = await ours(mainRoot);
  const ignored: string[] = [];
  const changedIncludes: string[] = [];
  const changed = async (path: string) => (await pathPresent(join(worktree, path))) && !(await sameContent(join(worktree, path), join(mainRoot, path)));
  for (const entry of entries) {
    if (entry === `${SESSION_DIR}/` || /(^|\/)node_modules\/$/.test(entry) || entry.endsWith(`${PARTIAL_MODULES}/`)) continue;
    if (included.has(entry)) {
      if (await changed(entry)) changedIncludes.push(entry);
      continue;
    }
    const inside = entry.endsWith("/") ? [...included].filter((path) => path.startsWith(entry)) : [];
    const changedInside: string[] = [];
    for (const path of inside) if (await changed(path)) changedInside.push(path);
    if (changedInside.length) changedIncludes.push(...changedInside);
    else ignored.push(entry);
  }
  return { ignored, changedIncludes };
}

/** Whether anything (a link too) is at `path`. */
const pathPresent = (path: string) =>
  lstat(path).then(
    () => true,
    () => false,
  );

/** The `.worktreeinclude` files: copies of them (unchanged) are ours. */
const ours = async (mainRoot: string) => new Set(await includedFiles(mainRoot));

/**
 * Whether the worktree's file `a` (the session's: compared only as a regular file, not through a
 * link) holds what the checkout's `b` holds; read chunk by chunk, and only when the sizes agree.
 */
async function sameContent(a: string, b: string): Promise<boolean> {
  const theirs = await stat(b).catch(() => undefined);
  if (!theirs?.isFile()) return false;
  const x = await openRegular(a).catch(() => undefined);
  if (!x) return false;
  const y = x.size === theirs.size ? await open(b, "r").catch(() => undefined) : undefined;
  try {
    if (!y) return false;
    const chunk = Math.max(1, Math.min(x.size, 1 << 20));
    const [p, q] = [Buffer.alloc(chunk), Buffer.alloc(chunk)];
    for (let at = 0; at < x.size; at += p.length) {
      const [m, n] = await Promise.all([x.handle.read(p, 0, p.length, at), y.read(q, 0, q.length, at)]);
      if (m.bytesRead !== n.bytesRead || !p.subarray(0, m.bytesRead).equals(q.subarray(0, n.bytesRead))) return false;
      if (m.bytesRead === 0) break;
    }
    return true;
  } finally {
    await Promise.all([x.handle.close(), y?.close()]);
  }
}

/** The files a commit holds, by path: whether a file on disk is exactly one of them (a link by its target). */
export class CommitFiles {
  private readonly blobs = new Map<string, { mode: string; oid: string; size: number }>();
  private algorithm = "sha1";

  constructor(
    private readonly cwd: string,
    private readonly tip: string | undefined,
  ) {}

  async load(): Promise<this> {
    if (this.tip === undefined) return this;
    const [format, tree] = await Promise.all([git(["rev-parse", "--show-object-format"], this.cwd), gitOk(["ls-tree", "-r", "-z", "-l", "--full-tree", this.tip], this.cwd)]);
    if (format.exitCode === 0 && format.stdout.trim() === "sha256") this.algorithm = "sha256";
    for (const line of nulFields(tree)) {
      const tab = line.indexOf("\t");
      const [mode, type, oid, size] = line.slice(0, tab).split(/ +/);
      if (type === "blob") this.blobs.set(line.slice(tab + 1), { mode: mode!, oid: oid!, size: Number(size) });
    }
    return this;
  }

  /** Whether the commit has a file at `path`. */
  has(path: string): boolean {
    return this.blobs.has(path);
  }

  /**
   * Whether the file at `path` is the start (all of it, part, or nothing) of the commit's file
   * there: what git leaves of a file it was writing when it was killed (it writes each from its start).
   */
  async startOf(root: string, path: string): Promise<boolean> {
    const blob = this.blobs.get(path);
    // Never more than the committed file: a bigger one cannot be its start (nor read whole).
    const content = blob && blob.mode !== "120000" ? await regularFile(join(root, path), blob.size) : undefined;
    if (!blob || content === undefined) return false;
    const committed = await blobBytes(this.cwd, blob.oid);
    return committed !== undefined && content.length <= committed.length && committed.subarray(0, content.length).equals(content);
  }

  async holds(root: string, path: string): Promise<boolean> {
    const blob = this.blobs.get(path);
    if (!blob) return false;
    const full = join(root, path);
    const info = await lstat(full).catch(() => undefined);
    let content: Buffer | undefined;
    if (info?.isSymbolicLink() && blob.mode === "120000") content = await readlink(full, { encoding: "buffer" });
    else if (info?.isFile() && blob.mode !== "120000" && info.size === blob.size) content = await regularFile(full, blob.size);
    if (content === undefined) return false;
    return createHash(this.algorithm).update(`blob ${content.length}\0`).update(content).digest("hex") === blob.oid;
  }
}

/** A regular file's bytes (not through a link, not past `maxBytes`), or undefined. */
async function regularFile(path: string, maxBytes: number): Promise<Buffer | undefined> {
  return readRegular(path, maxBytes).catch(() => undefined);
}

/** A blob's bytes, as they are (git's output to a file: a text pipe would not keep binary content). */
async function blobBytes(cwd: string, oid: string): Promise<Buffer | undefined> {
  const dir = await mkdtemp(join(tmpdir(), "claude-parallel-blob-"));
  try {
    const file = join(dir, "blob");
    const handle = await open(file, "w");
    let code: number | null;
    try {
      code = await runToFiles("git", ["cat-file", "blob", oid], cwd, handle.fd, handle.fd, () => undefined);
    } finally {
      await handle.close();
    }
    return code === 0 ? await readFile(file) : undefined;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
