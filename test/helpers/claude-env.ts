import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { claudeBinary } from "./claude.js";
import { tempDir } from "./tmp.js";

/**
 * Environment for running the real claude against a scripted model server: its own HOME (with
 * optional settings), no traffic but to the server, and the pinned binary first on PATH.
 */
export function claudeEnv(serverUrl: string, settings?: Record<string, unknown>): NodeJS.ProcessEnv {
  const home = tempDir("claude-home-");
  if (settings) {
    mkdirSync(join(home, ".claude"), { recursive: true });
    writeFileSync(join(home, ".claude", "settings.json"), JSON.stringify(settings));
  }
  return {
    HOME: home,
    PATH: `${dirname(claudeBinary())}:${process.env.PATH}`,
    ANTHROPIC_BASE_URL: serverUrl,
    ANTHROPIC_API_KEY: "test-key",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
  };
}
