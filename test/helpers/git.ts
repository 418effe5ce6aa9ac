import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { tempDir } from "./tmp.js";

export const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.invalid",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.invalid",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, env: gitEnv, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trimEnd();
}

export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** A real repository in a temp folder (or in `parent`) named `name`, on branch main, with one commit unless `commit: false`. */
export function makeRepo(options: { name?: string; commit?: boolean; files?: Record<string, string>; parent?: string } = {}): string {
  const root = join(options.parent ?? tempDir(), options.name ?? "app");
  mkdirSync(root);
  git(root, "init", "-q", "-b", "main");
  writeFiles(root, options.files ?? { "README.md": "# app\n" });
  if (options.commit !== false) {
    git(root, "add", "-A");
    git(root, "commit", "-q", "-m", "initial");
  }
  return root;
}
