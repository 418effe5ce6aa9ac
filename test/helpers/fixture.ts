import { execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./tmp.js";

/**
 * A folder of set-up built once per test file and given back fresh to each test by copy.
 *
 * For set-up that is not what the test checks (a repository with a started feature, say): the
 * first call builds it in a temp folder and saves a copy (`cp -a`); each later call empties the
 * folder and copies the saved state back, at the same path, so every absolute path git and the
 * helper recorded inside it (worktree links, the feature's state) is still true. The tests of
 * one file run one after another, so one folder serves them all. `build` gets the folder, makes
 * everything inside it, and returns what the tests need to know about it (paths, the commits it
 * made, snapshots of the user's things): the same after every restore.
 */
export function reusableFolder<T>(build: (folder: string) => T): () => T {
  let built: { value: T; folder: string; saved: string } | undefined;
  return () => {
    if (!built) {
      const folder = tempDir("cp-fixture-");
      const value = build(folder);
      const saved = tempDir("cp-fixture-saved-");
      execFileSync("cp", ["-a", `${folder}/.`, saved]);
      built = { value, folder, saved };
      return value;
    }
    for (const entry of readdirSync(built.folder)) rmSync(join(built.folder, entry), { recursive: true, force: true });
    execFileSync("cp", ["-a", `${built.saved}/.`, built.folder]);
    return built.value;
  };
}
