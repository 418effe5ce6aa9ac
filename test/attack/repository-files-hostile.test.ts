import { execFileSync } from "node:child_process";
import { lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { UnfinishedError } from "../../src/core/errors.js";
import { locateRepoFast } from "../../src/git/repo-from-files.js";
import { forgetHalfAddedWorktrees, registrationsOf } from "../../src/git/worktree-registration.js";
import { fitsInstalledTree, prepareDependencies } from "../../src/worktree/deps.js";
import { ignoreSessionDir } from "../../src/session/session-files.js";
import { ATTACK_SEED, prng } from "../helpers/attack.js";
import { reusableFolder } from "../helpers/fixture.js";
import { git, makeRepo, writeFiles } from "../helpers/git.js";

/**
 * Files we read ourselves besides the feature's state: a package manager's lockfile and our note in
 * an installed node_modules (start's dependencies), the files of git's worktree registrations, the
 * files git reads that `plan` reads instead of running git, and the repository's info/exclude. A
 * session (or a branch, for a committed link) can put in their place a FIFO (which blocked its
 * reader forever), a link to /dev/zero (never ending), a folder, or a file far over its size (a
 * sparse 512 MiB one). Each reader must answer (a hang fails by the test's timeout), neither
 * trusting nor reusing what it could not read. The second form is chosen by the seed;
 * ATTACK_SEED=<n> replays a run.
 */
const seed = ATTACK_SEED;
const random = prng(seed);
console.log(`repository-files-hostile: ATTACK_SEED=${seed}`);

type Form = "fifo" | "zero" | "folder" | "huge";
const twoForms = (): Form[] => ["fifo", (["zero", "folder", "huge"] as const)[Math.floor(random() * 3)]!];

function plant(path: string, form: Form): void {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(dirname(path), { recursive: true });
  if (form === "fifo") execFileSync("mkfifo", [path]);
  else if (form === "zero") symlinkSync("/dev/zero", path);
  else if (form === "folder") mkdirSync(path);
  else {
    writeFileSync(path, "");
    truncateSync(path, 512 * 1024 * 1024);
  }
}

const LOCKFILE = JSON.stringify({ name: "app", lockfileVersion: 3, requires: true, packages: {} }) + "\n";

/** A repository with an npm lockfile and an installed (empty) tree, and a linked worktree on branch topic. */
const fixture = reusableFolder((folder) => {
  const repo = makeRepo({ parent: folder, name: "files", files: { "README.md": "# demo\n", ".gitignore": "node_modules/\n", "package-lock.json": LOCKFILE } });
  writeFiles(repo, { "node_modules/.package-lock.json": LOCKFILE });
  const wt = join(folder, "files-topic");
  git(repo, "worktree", "add", "-q", "-b", "topic", wt);
  const common = join(repo, ".git");
  return { repo, wt, common, registration: join(common, "worktrees", "files-topic") };
});

describe("hostile files we read outside the feature's state", () => {
  it.each(twoForms())("%s as a lockfile or our note in node_modules: nothing is reused, a worktree's own leaves its dependencies as they are", async (form) => {
    expect(await fitsInstalledTree(fixture().repo, fixture().wt), "the untouched tree fits").toBe(true);
    for (const planted of ["node_modules/.claude-parallel.json", "package-lock.json"]) {
      const { repo, wt } = fixture();
      plant(join(repo, planted), form);
      expect(await fitsInstalledTree(repo, wt), `${form} as the source's ${planted} (seed ${seed})`).toBe(false);
    }
    const { repo, wt } = fixture();
    plant(join(wt, "package-lock.json"), form);
    expect(await fitsInstalledTree(repo, wt)).toBe(false);
    const said: string[] = [];
    expect(await prepareDependencies(wt, [repo], (line) => said.push(line))).toEqual({ kind: "skipped", why: "package-lock.json is not a regular file of at most 128 MiB" });
    expect(said).toEqual(["package-lock.json is not a regular file of at most 128 MiB: dependencies left as they are"]);
  });

  it.each(twoForms())("%s as a file of a worktree's registration: it is read as a lock without a reason, or as no match", async (form) => {
    const { wt, common, registration } = fixture();
    plant(join(registration, "locked"), form);
    // Another registration, all of whose files are hostile: not this worktree's, not half-added.
    const ghost = join(common, "worktrees", "ghost");
    for (const file of ["gitdir", "commondir", "locked"]) plant(join(ghost, file), form);
    expect(await registrationsOf(common, wt)).toEqual([{ dir: registration, locked: "", complete: true }]);
    expect(await forgetHalfAddedWorktrees(common, [wt, join(dirname(wt), "ghost")])).toBe(false);
    expect(lstatSync(ghost).isDirectory()).toBe(true);
  });

  it.each(twoForms())("%s as a worktree's config.worktree: plan's lookup of the repository asks git, which does not read it", async (form) => {
    const { wt, registration } = fixture();
    plant(join(registration, "config.worktree"), form);
    expect(await locateRepoFast(wt)).toEqual({ root: wt, branch: "topic" });
  });

  it.each(twoForms())("%s as the repository's info/exclude: start's line is refused, naming the file, which stays as it was", async (form) => {
    const { common } = fixture();
    const exclude = join(common, "info", "exclude");
    writeFileSync(exclude, "*.log");
    await ignoreSessionDir(common);
    await ignoreSessionDir(common);
    expect(readFileSync(exclude, "utf8")).toBe("*.log\n# claude-parallel: session briefs and environment\n/.claude-parallel/\n");
    plant(exclude, form);
    const before = lstatSync(exclude);
    const refused = await ignoreSessionDir(common).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused, `${form} (seed ${seed})`).toBeInstanceOf(UnfinishedError);
    expect((refused as UnfinishedError).problem).toContain(exclude);
    expect((refused as UnfinishedError).fix).toContain(`move '${exclude}' away`);
    const after = lstatSync(exclude);
    expect([after.mode, after.size, after.ino]).toEqual([before.mode, before.size, before.ino]);
  });
});
