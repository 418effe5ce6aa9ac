import { spawnSync } from "node:child_process";

/** Whether bubblewrap runs here (tests of confinement need it). Under CI it must: missing is a failure, not a skip. */
export function bwrapAvailable(): boolean {
  const r = spawnSync("bwrap", ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "--", "true"], { stdio: "ignore" });
  const ok = r.status === 0;
  if (!ok && process.env.CI === "true") throw new Error("bubblewrap (bwrap) is missing or cannot run: .ci/run installs the Debian package bubblewrap");
  return ok;
}
