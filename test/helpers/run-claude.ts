import { spawn } from "node:child_process";
import { claudeBinary } from "./claude.js";
import { claudeEnv } from "./claude-env.js";
import { PLUGIN_DIR } from "./paths.js";

export interface ClaudeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real claude with `args`. Asynchronous on purpose: the scripted model server runs in
 * this same process and must keep answering while claude runs.
 */
export function claudeCli(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<ClaudeRun> {
  return new Promise((resolve, reject) => {
    // No stdin: in print mode claude would otherwise wait to read a prompt from it.
    const child = spawn(claudeBinary(), args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
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

/** Runs one prompt in print mode, with the freshly built plugin loaded unless `pluginDir: false`. */
export function runClaude(prompt: string, cwd: string, serverUrl: string, options: { args?: string[]; env?: NodeJS.ProcessEnv; pluginDir?: boolean } = {}): Promise<ClaudeRun> {
  const plugin = options.pluginDir === false ? [] : ["--plugin-dir", PLUGIN_DIR];
  return claudeCli(["-p", prompt, ...plugin, ...(options.args ?? [])], cwd, options.env ?? claudeEnv(serverUrl));
}
