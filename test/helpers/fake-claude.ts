import { chmodSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./tmp.js";

/**
 * A stand-in for the `claude` CLI on PATH, for launch tests that are not about Claude itself:
 * it records its working directory and arguments (NUL-separated) and exits with FAKE_CLAUDE_EXIT.
 */
export function fakeClaude(options: { sleepSeconds?: number } = {}): { bin: string; calls: () => Array<{ cwd: string; args: string[] }> } {
  const bin = tempDir("fake-claude-");
  const log = join(tempDir(), "calls");
  writeFileSync(
    join(bin, "claude"),
    `#!/bin/sh\n{ printf '%s\\0' "$PWD"; for a in "$@"; do printf '%s\\0' "$a"; done; printf '\\n'; } >> "${log}"\n${options.sleepSeconds ? `sleep ${options.sleepSeconds}\n` : ""}exit "\${FAKE_CLAUDE_EXIT:-0}"\n`,
  );
  chmodSync(join(bin, "claude"), 0o755);
  return {
    bin,
    calls: () =>
      existsSync(log)
        ? readFileSync(log, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((line) => {
              const [cwd, ...args] = line.split("\0").slice(0, -1);
              return { cwd: cwd!, args };
            })
        : [],
  };
}
