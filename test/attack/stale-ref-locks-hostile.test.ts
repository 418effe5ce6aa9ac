import { existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { removeStaleRefLocks } from "../../src/git/stale-ref-locks.js";
import { tempDir } from "../helpers/tmp.js";

/** The lock files a dead command may leave are removed on the feature's refs, and only there. */
function place(path: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, "0".repeat(40) + "\n");
  return path;
}

describe("removeStaleRefLocks on a hostile refs folder", () => {
  it("removes the feature's own lock files, not another feature's whose slug starts the same", async () => {
    const common = tempDir();
    const ours = [place(join(common, "refs/parallel/a/phase-1/x.lock")), place(join(common, "refs/heads/feature/a.lock"))];
    const theirs = [place(join(common, "refs/parallel/a-b/phase-1/x.lock")), place(join(common, "refs/parallel/ab.lock")), place(join(common, "refs/heads/feature/a-b.lock"))];
    const removed = await removeStaleRefLocks(common, ["refs/heads/feature/a"], ["refs/parallel/a/"]);
    expect(removed.sort()).toEqual(ours.sort());
    for (const path of theirs) expect(existsSync(path), path).toBe(true);
  });

  it("does not follow a symlinked ref folder out of the repository", async () => {
    const common = tempDir();
    const elsewhere = tempDir();
    const outside = [place(join(elsewhere, "phase-1/x.lock")), place(join(elsewhere, "demo-a.lock")), place(join(elsewhere, "keep.lock"))];
    mkdirSync(join(common, "refs/parallel"), { recursive: true });
    mkdirSync(join(common, "refs/heads"), { recursive: true });
    symlinkSync(elsewhere, join(common, "refs/parallel/demo"));
    symlinkSync(elsewhere, join(common, "refs/heads/feature"));
    const removed = await removeStaleRefLocks(common, ["refs/heads/feature/demo-a"], ["refs/parallel/demo/"]);
    expect(removed).toEqual([]);
    for (const path of outside) expect(existsSync(path), path).toBe(true);
  });

  it("does not leave the refs folder for a branch name holding `..` (a hand-edited state file)", async () => {
    const common = tempDir();
    const config = place(join(common, "config.lock"));
    const index = place(join(common, "index.lock"));
    mkdirSync(join(common, "refs/heads"), { recursive: true });
    expect(await removeStaleRefLocks(common, ["refs/heads/../../config", "refs/../index"], ["refs/parallel/../../"])).toEqual([]);
    expect(existsSync(config)).toBe(true);
    expect(existsSync(index)).toBe(true);
  });

  it("leaves a symlink named like a lock file, and what it points to", async () => {
    const common = tempDir();
    const target = place(join(tempDir(), "precious"));
    mkdirSync(join(common, "refs/heads/feature"), { recursive: true });
    symlinkSync(target, join(common, "refs/heads/feature/demo.lock"));
    expect(await removeStaleRefLocks(common, ["refs/heads/feature/demo"], [])).toEqual([]);
    expect(existsSync(join(common, "refs/heads/feature/demo.lock"))).toBe(true);
    expect(existsSync(target)).toBe(true);
  });
});
