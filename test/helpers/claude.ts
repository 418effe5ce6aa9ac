import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./paths.js";

/** The Claude Code the tests install and run: the release the error for a missing `claude` names. */
export { TESTED_CLAUDE_CODE as CLAUDE_CODE_VERSION } from "../../src/session/launch.js";

export function claudeCacheDir(): string {
  return join(REPO_ROOT, ".cache", "claude-code");
}

export function claudeBinary(): string {
  return join(claudeCacheDir(), "node_modules", ".bin", "claude");
}

/** Whether tests that need the real `claude` may run. Under CI it must be there: missing is a failure, not a skip. */
export function claudeAvailable(): boolean {
  const present = existsSync(claudeBinary());
  if (!present && process.env.CI === "true") throw new Error(`the pinned claude binary is missing at ${claudeBinary()}`);
  return present;
}

/**
 * Whether Claude Code's Bash sandbox can run here (Linux, with bubblewrap and socat): tests of it
 * run only then. Under CI it must: .ci/run installs both.
 */
export function sandboxAvailable(): boolean {
  const present = process.platform === "linux" && ["bwrap", "socat"].every((p) => spawnSync("sh", ["-c", `command -v ${p}`]).status === 0);
  if (!present && process.env.CI === "true") throw new Error("bubblewrap or socat is missing: .ci/run installs them with apt-get");
  return present;
}
