import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLAUDE_CODE_VERSION, claudeBinary, claudeCacheDir } from "./claude.js";

/**
 * Installs the pinned Claude Code into .cache/ once, for the tests that run the real binary.
 * It is a test tool only: it is not a dependency of the package and never reaches plugin users.
 */
export default function setup(): void {
  if (existsSync(claudeBinary())) return;
  const dir = claudeCacheDir();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "claude-code-for-tests", private: true }));
  try {
    execFileSync("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", `@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}`], {
      cwd: dir,
      stdio: ["ignore", "inherit", "inherit"],
      timeout: 240_000,
    });
  } catch (error) {
    if (process.env.CI === "true") throw new Error(`could not install @anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}: ${(error as Error).message}`);
    console.warn(`Claude Code ${CLAUDE_CODE_VERSION} could not be installed; the tests that need it are skipped.`);
  }
}
