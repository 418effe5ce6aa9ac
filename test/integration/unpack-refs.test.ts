import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { unpackRefs } from "../../src/git/unpack-refs.js";
import { git, makeRepo } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";

/** A packed-only ref gets a loose file to deny (src/git/unpack-refs.ts), with real git. */
describe("unpackRefs", () => {
  it("writes each packed-only ref named, or under a folder named, as a loose file of the same commit; git reads the same refs", async () => {
    const repo = makeRepo({ name: "unpack" });
    const common = join(repo, ".git");
    git(repo, "update-ref", "refs/parallel/demo/phase-1/a", "HEAD");
    git(repo, "branch", "other");
    git(repo, "pack-refs", "--all");
    const before = git(repo, "for-each-ref", "--format=%(refname) %(objectname)");
    expect(existsSync(join(common, "refs/heads/main"))).toBe(false);
    await unpackRefs(repo, common, ["refs/heads/main", "refs/parallel/demo/"]);
    const head = git(repo, "rev-parse", "HEAD");
    expect(readFileSync(join(common, "refs/heads/main"), "utf8")).toBe(`${head}\n`);
    expect(readFileSync(join(common, "refs/parallel/demo/phase-1/a"), "utf8")).toBe(`${head}\n`);
    // Only what was named.
    expect(existsSync(join(common, "refs/heads/other"))).toBe(false);
    expect(git(repo, "for-each-ref", "--format=%(refname) %(objectname)")).toBe(before);
  });

  it("writes nothing through a ref folder that is a link out of the repository", async () => {
    const repo = makeRepo({ name: "linked" });
    const common = join(repo, ".git");
    git(repo, "update-ref", "refs/parallel/demo/phase-1/a", "HEAD");
    git(repo, "pack-refs", "--all");
    const outside = tempDir();
    rmSync(join(common, "refs/parallel"), { recursive: true, force: true });
    mkdirSync(join(common, "refs/parallel"));
    symlinkSync(outside, join(common, "refs/parallel/demo"));
    await unpackRefs(repo, common, ["refs/parallel/demo/"]);
    expect(readdirSync(outside)).toEqual([]);
  });
});
