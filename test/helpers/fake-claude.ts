import { chmodSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./tmp.js";

/**
 * A stand-in for the `claude` CLI on PATH, for launch tests that are not about Claude itself:
 * each call records its working directory and arguments (NUL-separated, one file per call) and
 * exits with FAKE_CLAUDE_EXIT.
 */
export function fakeClaude(options: { sleepSeconds?: number } = {}): { bin: string; calls: () => Array<{ cwd: string; args: string[] }> } {
  const bin = tempDir("fake-claude-");
  const log = join(tempDir(), "calls");
  mkdirSync(log);
  writeFileSync(
    join(bin, "claude"),
    `#!/bin/sh\n{ printf '%s\\0' "$PWD"; for a in "$@"; do printf '%s\\0' "$a"; done; } > "${log}/$$"\n${options.sleepSeconds ? `sleep ${options.sleepSeconds}\n` : ""}exit "\${FAKE_CLAUDE_EXIT:-0}"\n`,
  );
  chmodSync(join(bin, "claude"), 0o755);
  return {
    bin,
    calls: () =>
      readdirSync(log).map((f) => {
        const [cwd, ...args] = readFileSync(join(log, f), "utf8").split("\0").slice(0, -1);
        return { cwd: cwd!, args };
      }),
  };
}
