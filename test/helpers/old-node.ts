import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./paths.js";

/**
 * A real old Node for the Node guard's test: the last 16.x without `util.parseArgs`, which a static
 * import of it fails to link. The registry's `node@16.16.0` package only runs a preinstall script
 * that installs the platform's binary package, so the tests install that package directly.
 */
export const OLD_NODE_VERSION = "16.16.0";

/** The registry package that holds Node's official binary for this platform, as `node@16` picks it. */
export function oldNodePackage(): string {
  const platform = process.platform === "win32" ? "win" : process.platform;
  const prefix = process.platform === "darwin" && process.arch === "arm64" ? "node-bin" : "node";
  return `${prefix}-${platform}-${process.arch}@${OLD_NODE_VERSION}`;
}

export function oldNodeCacheDir(): string {
  return join(REPO_ROOT, ".cache", `node-${OLD_NODE_VERSION}`);
}

export function oldNodeBinary(): string {
  return join(oldNodeCacheDir(), "node_modules", ".bin", "node");
}

/** Whether the old Node is there. Under CI it must be: missing is a failure, not a skip. */
export function oldNodeAvailable(): boolean {
  const present = existsSync(oldNodeBinary());
  if (!present && process.env.CI === "true") throw new Error(`Node ${OLD_NODE_VERSION} for the Node guard's test is missing at ${oldNodeBinary()}`);
  return present;
}
