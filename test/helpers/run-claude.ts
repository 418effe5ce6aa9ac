import { spawn } from "node:child_process";
import { claudeBinary } from "./claude.js";
import { claudeEnv } from "./claude-env.js";
import { REPO_ROOT } from "./paths.js";

/**
 * Runs the real claude once in print mode, with this repository loaded as a plugin. Asynchronous
 * on purpose: the scripted model server runs in this same process and must keep answering.
 */
export function runClaude(
  prompt: string,
  cwd: string,
  serverUrl: string,
  options: { args?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(claudeBinary(), ["-p", prompt, "--plugin-dir", REPO_ROOT, ...(options.args ?? [])], {
      cwd,
      env: { ...process.env, ...(options.env ?? claudeEnv(serverUrl)) },
      // No stdin: in print mode claude would otherwise wait to read a prompt from it.
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
