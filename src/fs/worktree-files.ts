import { constants } from "node:fs";
import { copyFile, lstat, mkdir, realpath, rename, rm, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { replaceFile } from "./atomic.js";
import { CliError, ExitCode } from "../core/errors.js";
import { quote } from "../core/text/shell.js";

/** A path we were about to write, copy or delete leads outside the worktree through a symbolic link. */
export class PathEscapeError extends CliError {
  readonly exitCode = ExitCode.refused;
  constructor(
    readonly root: string,
    readonly path: string,
    readonly resolved: string,
  ) {
    super(`${join(root, path)} leads outside ${root} (to ${resolved}) through a symbolic link, so claude-parallel will not write or delete there`);
    this.name = "PathEscapeError";
  }
  report(): string {
    return `nothing was written through the link: ${this.message}\n  fix: remove the symbolic link from the branch (in ${quote(this.root)}: git rm <the link>), commit, and run the command again`;
  }
}

const inside = (root: string, path: string) => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

/**
 * The one way we touch files inside a worktree. Every path is relative to the worktree; the
 * folder it goes into is resolved through symbolic links (committed in a task branch, they could
 * point anywhere) and must stay inside the worktree. Nothing is ever deleted through a link.
 */
export class WorktreeFiles {
  private constructor(readonly root: string) {}

  static async at(root: string): Promise<WorktreeFiles> {
    return new WorktreeFiles(await realpath(root));
  }

  /** The absolute path of `rel`, once the folder holding it is known to resolve inside the worktree. */
  async pathFor(rel: string): Promise<string> {
    const target = resolve(this.root, rel);
    if (isAbsolute(rel) || !inside(this.root, target) || target === this.root) throw new PathEscapeError(this.root, rel, target);
    // The nearest folder above the target that exists, resolved through any links.
    let dir = dirname(target);
    for (;;) {
      const real = await realpath(dir).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return undefined;
        throw error;
      });
      if (real !== undefined) {
        if (!inside(this.root, real)) throw new PathEscapeError(this.root, rel, join(real, relative(dir, target)));
        return target;
      }
      // A dangling link in the way is a link too: it must not lead anywhere we would create.
      const info = await lstat(dir).catch(() => undefined);
      if (info?.isSymbolicLink()) throw new PathEscapeError(this.root, rel, `${dir} (a dangling link)`);
      dir = dirname(dir);
    }
  }

  /** What is at `rel` itself (a link is reported as a link, not followed). */
  async kind(rel: string): Promise<"file" | "dir" | "link" | "other" | undefined> {
    const info = await lstat(await this.pathFor(rel)).catch(() => undefined);
    if (!info) return undefined;
    return info.isSymbolicLink() ? "link" : info.isDirectory() ? "dir" : info.isFile() ? "file" : "other";
  }

  /** Writes a file so readers see the old or the new content, never half of it. A link at `rel` is replaced, never written through. */
  async writeFile(rel: string, content: string | Buffer): Promise<void> {
    await replaceFile(await this.prepareParent(rel), (temp) => writeFile(temp, content, { flag: "wx" }));
  }

  /** Copies a file from outside into `rel`, all or nothing. */
  async copyIn(source: string, rel: string): Promise<void> {
    await replaceFile(await this.prepareParent(rel), (temp) => copyFile(source, temp, constants.COPYFILE_EXCL));
  }

  /** Makes the folder that will hold `rel` and returns `rel`'s absolute path (for a program to write there). */
  async prepareParent(rel: string): Promise<string> {
    const target = await this.pathFor(rel);
    await mkdir(dirname(target), { recursive: true });
    await this.pathFor(rel);
    return target;
  }

  /** Removes `rel` and what is below it; a link is refused (false), never followed or removed. */
  async remove(rel: string): Promise<boolean> {
    const target = await this.pathFor(rel);
    const info = await lstat(target).catch(() => undefined);
    if (!info) return true;
    if (info.isSymbolicLink()) return false;
    await rm(target, { recursive: true, force: true });
    return true;
  }

  /** Renames inside the worktree; both ends are checked. */
  async move(from: string, to: string): Promise<void> {
    const [a, b] = await Promise.all([this.pathFor(from), this.pathFor(to)]);
    await rename(a, b);
  }
}
