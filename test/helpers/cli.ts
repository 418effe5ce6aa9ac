import { spawn, spawnSync } from "node:child_process";
import { gitEnv } from "./git.js";
import { HELPER } from "./paths.js";

export { HELPER, REPO_ROOT } from "./paths.js";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the committed bundle the way users run it: `node scripts/parallel.mjs ...`. */
export function runHelper(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; helper?: string }): CliResult {
  const r = spawnSync(process.execPath, [options.helper ?? HELPER, ...args], {
    cwd: options.cwd,
    env: { ...gitEnv, ...options.env },
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs the bundle without blocking this process (a scripted model server in the test must keep
 * answering): in its own process group, so a test can kill it and everything it started in it.
 */
export function startHelper(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): { pid: number; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [HELPER, ...args], { cwd: options.cwd, env: { ...gitEnv, ...options.env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
  return { pid: child.pid!, done };
}
