import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { branchHistory } from "../../src/git/branch-history.js";
import { git, makeRepo } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";

/**
 * branchHistory parses one `git log` without -z. What it answers must be what git says with -z, per
 * branch, whatever the file names and whatever the repository's config asks git log to print.
 */

const HOSTILE = [
  "a\nb.txt",
  'say "hi".txt',
  "back\\slash.txt",
  "\x01start.txt",
  "  leading spaces.txt",
  "trailing space ",
  "0123456789abcdef0123456789abcdef01234567",
  "tab\there.txt",
  "café.txt",
  '"quoted"',
  "\\",
  '\u{1F600}"smile\n.txt',
];

function commitFiles(repo: string, names: readonly string[], message: string): string {
  for (const name of names) writeFileSync(join(repo, name), `${name}\n`);
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", message);
  return git(repo, "rev-parse", "HEAD");
}

/** What git says with -z: the files of head's non-merge commits that neither base nor the others have. */
function ownByGit(repo: string, base: string, head: string, others: string[]): string[] {
  const out = execFileSync("git", ["log", "-z", "--format=", "--no-merges", "--name-only", "--no-renames", head, "--not", base, ...others, "--"], { cwd: repo, encoding: "utf8" });
  return [
    ...new Set(
      out
        .split("\0")
        .map((f) => f.replace(/^\n/, ""))
        .filter(Boolean),
    ),
  ].sort();
}

const aheadByGit = (repo: string, base: string, head: string) => Number(git(repo, "rev-list", "--count", head, "--not", base));

describe("branchHistory against hostile names and repository config", () => {
  it("agrees with git -z on hostile file names, with core.quotePath on and off", async () => {
    const repo = makeRepo({ name: "names" });
    const base = git(repo, "rev-parse", "HEAD");
    git(repo, "switch", "-q", "-c", "b");
    const b = commitFiles(repo, HOSTILE.slice(0, 5), "b");
    git(repo, "switch", "-q", "-c", "a", base);
    commitFiles(repo, HOSTILE.slice(5), "a");
    git(repo, "merge", "-q", "--no-edit", "b");
    const a = commitFiles(repo, ["after merge.txt"], "a2");
    for (const quotePath of ["true", "false"]) {
      git(repo, "config", "core.quotePath", quotePath);
      const history = await branchHistory(repo, base, [a, b]);
      expect([...history.ownChanges(a, [b])].sort(), quotePath).toEqual(ownByGit(repo, base, a, [b]));
      expect([...history.ownChanges(b, [])].sort(), quotePath).toEqual(ownByGit(repo, base, b, []));
      expect(history.ahead(a)).toBe(aheadByGit(repo, base, a));
    }
  });

  it("agrees with git on a task that merged the moved integration branch, and under a replace ref", async () => {
    const repo = makeRepo({ name: "merged-base" });
    const start = git(repo, "rev-parse", "HEAD");
    git(repo, "switch", "-q", "-c", "a");
    commitFiles(repo, ["a1.txt"], "a1");
    git(repo, "switch", "-q", "-c", "integration", start);
    const moved = commitFiles(repo, ["from-integration.txt"], "integration moves");
    git(repo, "switch", "-q", "a");
    git(repo, "merge", "-q", "--no-edit", "integration");
    const a = commitFiles(repo, ["a2.txt"], "a2");
    for (const base of [moved, start]) {
      const history = await branchHistory(repo, base, [a]);
      expect(history.ahead(a), base).toBe(aheadByGit(repo, base, a));
      expect([...history.ownChanges(a, [])].sort(), base).toEqual(ownByGit(repo, base, a, []));
    }
    // A replace ref that gives a2 no parent: read past, as what a push publishes has its parents.
    const before = { ahead: aheadByGit(repo, moved, a), own: ownByGit(repo, moved, a, []) };
    git(repo, "replace", "--graft", a);
    expect(aheadByGit(repo, moved, a)).not.toBe(before.ahead);
    const history = await branchHistory(repo, moved, [a]);
    expect(history.ahead(a)).toBe(before.ahead);
    expect([...history.ownChanges(a, [])].sort()).toEqual(before.own);
  });

  it("counts the files of a root commit merged in (an unrelated history) even with log.showRoot=false", async () => {
    const repo = makeRepo({ name: "root" });
    const base = git(repo, "rev-parse", "HEAD");
    git(repo, "switch", "-q", "--orphan", "imported");
    commitFiles(repo, ["imported.txt"], "another history");
    git(repo, "switch", "-q", "-c", "a", base);
    git(repo, "merge", "-q", "--no-edit", "--allow-unrelated-histories", "imported");
    const a = git(repo, "rev-parse", "HEAD");
    git(repo, "config", "log.showRoot", "false");
    const history = await branchHistory(repo, base, [a]);
    expect([...history.ownChanges(a, [])]).toEqual(["imported.txt"]);
    expect(history.ahead(a)).toBe(2);
  });

  it.skipIf(!hasSshKeygen() && !process.env.CI)("ignores log.showSignature=true on signed commits (a signature's line is not a changed file)", async () => {
    const repo = makeRepo({ name: "signed" });
    const keys = tempDir();
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(keys, "key")]);
    writeFileSync(join(keys, "allowed"), `test@example.invalid ${execFileSync("cat", [join(keys, "key.pub")], { encoding: "utf8" })}`);
    git(repo, "config", "gpg.format", "ssh");
    git(repo, "config", "user.signingKey", join(keys, "key.pub"));
    git(repo, "config", "gpg.ssh.allowedSignersFile", join(keys, "allowed"));
    git(repo, "config", "commit.gpgSign", "true");
    git(repo, "config", "log.showSignature", "true");
    const base = git(repo, "rev-parse", "HEAD");
    git(repo, "switch", "-q", "-c", "a");
    commitFiles(repo, ["one.txt"], "one");
    const a = commitFiles(repo, ["two.txt"], "two");
    const history = await branchHistory(repo, base, [a]);
    expect([...history.ownChanges(a, [])].sort()).toEqual(["one.txt", "two.txt"]);
    expect(history.ahead(a)).toBe(2);
  });
});

function hasSshKeygen(): boolean {
  try {
    execFileSync("sh", ["-c", "command -v ssh-keygen"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
