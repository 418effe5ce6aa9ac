import { spawnSync } from "node:child_process";
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
