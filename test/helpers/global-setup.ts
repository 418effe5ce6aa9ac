import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLAUDE_CODE_VERSION, claudeBinary, claudeCacheDir } from "./claude.js";
import { OLD_NODE_VERSION, oldNodeBinary, oldNodeCacheDir, oldNodePackage } from "./old-node.js";
import { BUILD_DIR, REPO_ROOT } from "./paths.js";

/**
 * Installs test tools from the npm registry into .cache/ once: the pinned Claude Code, for the
 * tests that run the real binary, and an old Node, for the Node guard's test. They are test tools
 * only: not dependencies of the package, and they never reach plugin users.
 */
export default function setup(): void {
  // The tests run the plugin built from the sources as they are now, not the committed bundle.
  execFileSync(process.execPath, [join(REPO_ROOT, "build.mjs"), "--out", BUILD_DIR], { stdio: ["ignore", "ignore", "inherit"] });
  install(claudeBinary(), claudeCacheDir(), `@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}`, `Claude Code ${CLAUDE_CODE_VERSION}`);
  install(oldNodeBinary(), oldNodeCacheDir(), oldNodePackage(), `Node ${OLD_NODE_VERSION}`);
}

function install(binary: string, dir: string, spec: string, what: string): void {
  if (existsSync(binary)) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "test-tool", private: true }));
  try {
    execFileSync("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", spec], {
      cwd: dir,
      stdio: ["ignore", "inherit", "inherit"],
      timeout: 240_000,
    });
  } catch (error) {
    if (process.env.CI === "true") throw new Error(`could not install ${spec}: ${(error as Error).message}`);
    console.warn(`${what} could not be installed; the tests that need it are skipped.`);
  }
}
