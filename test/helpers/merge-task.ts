import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildSync } from "esbuild";
import type { MergeTaskOutcome } from "../../src/sync/merge-task.js";
import { gitEnv } from "./git.js";
import { REPO_ROOT } from "./paths.js";
import { tempDir } from "./tmp.js";

let driver: string | undefined;

/** The driver (test/helpers/merge-task-driver.ts) bundled once per test file, dependencies included. */
function driverBundle(): string {
  if (driver) return driver;
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
  const outfile = join(tempDir("cp-merge-driver-"), "driver.mjs");
  buildSync({
    entryPoints: [join(REPO_ROOT, "test/helpers/merge-task-driver.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    logLevel: "warning",
    // CommonJS dependencies (yaml) require Node's own modules.
    banner: { js: 'import { createRequire as __cpCreateRequire } from "node:module"; const require = __cpCreateRequire(import.meta.url);' },
    define: { __VERSION__: JSON.stringify(pkg.version) },
  });
  return (driver = outfile);
}

export interface MergeTaskRun {
  /** null when killed. */
  code: number | null;
  signal: NodeJS.Signals | null;
  outcome?: MergeTaskOutcome & { error?: undefined };
  error?: string;
  stderr: string;
}

/** mergeTask of `taskId` in the feature `slug` of the repository at `cwd`, in a child process. */
export function runMergeTask(request: { cwd: string; slug?: string; taskId: string; verify?: string | false; baseKnownGood?: boolean }, env: NodeJS.ProcessEnv = {}): MergeTaskRun {
  const r = spawnSync(process.execPath, [driverBundle(), JSON.stringify({ slug: "demo", ...request })], { cwd: request.cwd, env: { ...gitEnv, ...env }, encoding: "utf8" });
  const line = r.stdout.trim().split("\n").pop();
  const parsed = line ? (JSON.parse(line) as MergeTaskOutcome & { error?: string }) : undefined;
  return { code: r.status, signal: r.signal, stderr: r.stderr, ...(parsed?.error !== undefined ? { error: parsed.error } : parsed && { outcome: parsed as MergeTaskRun["outcome"] }) };
}
